"""Bad input fails with a message naming the culprit: never a crash, never a partial plan."""

import pytest

from jobs.scheduling import (
    Fixture,
    InfeasibleError,
    Job,
    Machine,
    Mode,
    Operation,
    Problem,
    ProblemError,
    Setup,
    Window,
    compile_problem,
    solve,
)
from jobs.scheduling.io import problem_from_dict


def base(**kw) -> Problem:
    ops = kw.pop(
        "ops",
        [
            Operation("WO-1/10", "WO-1", [Mode("M1", 5, 30)]),
            Operation("WO-1/20", "WO-1", [Mode("M2", 5, 30)], predecessors=["WO-1/10"]),
        ],
    )
    machines = kw.pop("machines", [Machine("M1", "MILL"), Machine("M2", "LATHE")])
    return Problem(machines, [Job("WO-1", due=600)], ops, **kw)


def test_operation_without_eligible_machine():
    p = base(ops=[Operation("WO-1/10", "WO-1", [])])
    with pytest.raises(ProblemError, match="'WO-1/10'.*no eligible machine"):
        compile_problem(p)


def test_calendar_without_working_time():
    p = base(machines=[Machine("M1", "MILL", windows=[]), Machine("M2", "LATHE")])
    with pytest.raises(ProblemError, match="calendar of machine 'M1' has no working time"):
        compile_problem(p)
    p = base(machines=[Machine("M1", "MILL"), Machine("M2", "LATHE", windows=[Window(100, 100)])])
    with pytest.raises(ProblemError, match="'M2' has no working time"):
        solve(p, "edd")


def test_cycle_in_precedence_names_the_operations():
    ops = [
        Operation("A", "WO-1", [Mode("M1", 0, 10)], predecessors=["C"]),
        Operation("B", "WO-1", [Mode("M1", 0, 10)], predecessors=["A"]),
        Operation("C", "WO-1", [Mode("M1", 0, 10)], predecessors=["B"]),
    ]
    with pytest.raises(ProblemError, match="precedence cycle: .*A.*B.*C|precedence cycle: .*B.*C.*A|cycle: .*C.*A.*B"):
        compile_problem(base(ops=ops))


def test_fixture_that_fits_no_machine():
    p = base(fixtures=[Fixture("TOMB-7", ("HMC",))])
    with pytest.raises(ProblemError, match="fixture 'TOMB-7' fits no machine"):
        compile_problem(p)


def test_operation_whose_fixture_fits_none_of_its_machines():
    ops = [Operation("WO-1/10", "WO-1", [Mode("M2", 0, 30)], setup=Setup(fixture="VISE-1"))]
    p = base(ops=ops, fixtures=[Fixture("VISE-1", ("MILL",))])
    with pytest.raises(ProblemError, match="'WO-1/10' needs fixture 'VISE-1'"):
        compile_problem(p)


def test_unknown_references():
    with pytest.raises(ProblemError, match="unknown machine 'M9'"):
        compile_problem(base(ops=[Operation("X", "WO-1", [Mode("M9", 0, 1)])]))
    with pytest.raises(ProblemError, match="follows unknown operation 'nope'"):
        compile_problem(base(ops=[Operation("X", "WO-1", [Mode("M1", 0, 1)], predecessors=["nope"])]))
    with pytest.raises(ProblemError, match="unknown job 'WO-9'"):
        compile_problem(base(ops=[Operation("X", "WO-9", [Mode("M1", 0, 1)])]))
    with pytest.raises(ProblemError, match="operation id 'X' appears twice"):
        compile_problem(base(ops=[Operation("X", "WO-1", [Mode("M1", 0, 1)])] * 2))


def test_work_that_does_not_fit_the_calendar_is_an_error_not_a_partial_plan():
    machines = [Machine("M1", "MILL", windows=[Window(0, 60)]), Machine("M2", "LATHE")]
    with pytest.raises(InfeasibleError, match="'WO-1/10' does not fit on M1"):
        solve(base(machines=machines, ops=[Operation("WO-1/10", "WO-1", [Mode("M1", 5, 90)])]), "edd")


def test_unknown_solver_and_malformed_json():
    with pytest.raises(ProblemError, match="unknown solver 'magic'"):
        solve(base(), "magic")
    with pytest.raises(ProblemError, match="missing 'machines'"):
        problem_from_dict({"jobs": [], "operations": []})
    with pytest.raises(ProblemError, match="unknown setup attribute"):
        problem_from_dict(
            {"machines": [{"id": "M1", "initial_setup": {"colour": "red"}}], "jobs": [], "operations": []}
        )


def test_pfsp_solver_refuses_a_job_shop():
    with pytest.raises(ProblemError, match="permutation flow shop"):
        solve(base(), "pfsp")
