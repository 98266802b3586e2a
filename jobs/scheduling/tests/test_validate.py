"""The validator on a hand-built valid schedule and on one violation of each kind."""

from dataclasses import replace

import pytest

from jobs.scheduling import (
    Assignment,
    ChangeoverRule,
    Fixture,
    Job,
    Machine,
    Mode,
    Operation,
    Placement,
    Problem,
    Setup,
    Solution,
    Window,
    validate,
)

VISE, PLATE = Setup(fixture="VISE", material="AL"), Setup(fixture="PLATE", material="AL")


def shop() -> Problem:
    """Two mills with one shared vise; M1 works 0-480 attended, 480-960 lights-out, 1440-1920 attended."""
    machines = [
        Machine(
            "M1",
            "MILL",
            windows=[Window(0, 480), Window(480, 960, attended=False), Window(1440, 1920)],
            initial_setup=VISE,
        ),
        Machine("M2", "MILL", initial_setup=PLATE),
        Machine("M3", "MILL"),
    ]
    ops = [
        Operation("A/10", "A", [Mode("M1", 10, 100), Mode("M2", 10, 120)], setup=VISE, wait_after=30),
        Operation("A/20", "A", [Mode("M2", 0, 50)], predecessors=["A/10"], setup=PLATE),
        Operation("B/10", "B", [Mode("M1", 10, 50), Mode("M2", 10, 60)], setup=PLATE, release=20),
        Operation("C/10", "C", [Mode("M2", 0, 40), Mode("M1", 0, 40)], setup=VISE),
        Operation("D/10", "D", [Mode("M3", 0, 25)], fixed=Placement("M3", -10)),
        Operation("D/20", "D", [Mode("M3", 0, 25), Mode("M2", 0, 25)], predecessors=["D/10"]),
    ]
    return Problem(
        machines,
        [Job("A", due=400), Job("B", due=400, weight=2), Job("C"), Job("D")],
        ops,
        changeover_rules=[ChangeoverRule("fixture", "*", "*", 60, work_center="MILL")],
        fixtures=[Fixture("VISE", ("MILL",)), Fixture("PLATE", ("MILL",))],
    )


def good() -> dict[str, Assignment]:
    return {
        # M1: A/10 (vise mounted: no changeover) 0-110, then B/10 needs the plate, in use by A/20
        # until 190: changeover 190-250
        "A/10": Assignment("M1", 0, 110, 0),
        "B/10": Assignment("M1", 250, 310, 60),
        # M2 (plate mounted): A/20 waits for A/10 + 30 min; then C/10 needs the vise (free after A/10 ended)
        "A/20": Assignment("M2", 140, 190, 0),
        "C/10": Assignment("M2", 250, 290, 60),
        "D/10": Assignment("M3", -10, 15, 0),
        "D/20": Assignment("M3", 15, 40, 0),
    }


def kinds(assignments, problem=None) -> set[str]:
    return {v.kind for v in validate(problem or shop(), Solution(assignments))}


def test_a_valid_schedule_has_no_violation():
    assert validate(shop(), Solution(good())) == []


@pytest.mark.parametrize(
    ("changes", "kind"),
    [
        ({"A/20": None}, "missing"),
        ({"X/10": Assignment("M1", 0, 1, 0)}, "unknown_operation"),
        ({"D/20": Assignment("M1", 700, 725, 0)}, "eligibility"),
        ({"C/10": Assignment("M2", 250, 280, 60)}, "duration"),
        ({"B/10": Assignment("M2", 10, 80, 0)}, "release"),
        ({"A/20": Assignment("M2", 120, 170, 0)}, "precedence"),  # ignores the 30 min wait
        ({"C/10": Assignment("M2", 200, 240, 60)}, "overlap"),  # its changeover starts inside A/20
        ({"B/10": Assignment("M1", 250, 310, 0)}, "changeover"),  # plate after vise costs 60
        ({"C/10": Assignment("M2", 100, 140, 60), "A/20": Assignment("M2", 240, 290, 60)}, "fixture"),
        ({"B/10": Assignment("M1", 940, 1000, 60)}, "calendar"),  # runs past the end of the window
        ({"B/10": Assignment("M1", 540, 600, 60)}, "attended"),  # changeover in lights-out time
        ({"D/10": Assignment("M3", 0, 25, 0), "D/20": Assignment("M3", 25, 50, 0)}, "fixed"),
    ],
)
def test_each_violation_kind_is_reported(changes, kind):
    assignments = good()
    for op, a in changes.items():
        if a is None:
            del assignments[op]
        else:
            assignments[op] = a
    found = kinds(assignments)
    assert kind in found, found


def test_a_run_may_go_on_into_lights_out_time():
    assignments = good()
    assignments["B/10"] = Assignment("M1", 420, 480, 60)  # changeover 360-420 attended, run up to 480
    assert "attended" not in kinds(assignments) and "calendar" not in kinds(assignments)
    assignments["B/10"] = Assignment("M1", 850, 910, 60)
    assert "attended" in kinds(assignments)


def test_permutation_groups_need_the_same_job_order():
    ops = [
        Operation(f"{j}/{k}", j, [Mode(m, 0, 10)], predecessors=[f"{j}/{k - 1}"] if k else [])
        for j in ("A", "B")
        for k, m in enumerate(("M1", "M2"))
    ]
    p = Problem([Machine("M1"), Machine("M2")], [Job("A"), Job("B")], ops, permutation_groups=[["M1", "M2"]])
    same = {
        "A/0": Assignment("M1", 0, 10),
        "B/0": Assignment("M1", 10, 20),
        "A/1": Assignment("M2", 10, 20),
        "B/1": Assignment("M2", 20, 30),
    }
    assert validate(p, Solution(same)) == []
    swapped = dict(same, **{"B/1": Assignment("M2", 20 - 10, 20), "A/1": Assignment("M2", 20, 30)})
    assert "permutation" in kinds(swapped, p)


def test_messages_name_the_operation_and_machine():
    assignments = good()
    assignments["B/10"] = replace(assignments["B/10"], changeover=0)
    (violation,) = [v for v in validate(shop(), Solution(assignments)) if v.kind == "changeover"]
    assert violation.operation == "B/10" and violation.machine == "M1" and "60" in violation.message
