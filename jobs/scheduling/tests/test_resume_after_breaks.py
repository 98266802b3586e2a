"""Runs that resume after calendar breaks (``Problem.runs_resume_after_breaks``).

The shop's day: two shifts, 05:30-14:00 and 14:00-22:30 (17 h, minutes 330-1350 of each
day), Monday to Friday; minute 0 is Monday 00:00. A part stays clamped overnight and its run
goes on at 05:30 the next working day. Expected minutes are worked out by hand in comments.
"""

import json
import random
from dataclasses import replace
from itertools import permutations

import pytest

from jobs.scheduling import (
    Assignment,
    ChangeoverRule,
    Fixture,
    InfeasibleError,
    Job,
    Machine,
    Mode,
    Objective,
    Operation,
    Problem,
    ProblemError,
    Setup,
    Solution,
    Window,
    problem_from_dict,
    problem_to_dict,
    solve,
    validate,
)
from jobs.scheduling.calendars import Calendar
from jobs.scheduling.generator import generate_shop
from jobs.scheduling.io import SCHEMA_PATH

DAY = 1440
SHIFT_START, SHIFT_END = 330, 1350  # 05:30 and 22:30
ALL_SOLVERS = ["fifo", "edd", "atcs", "cpsat", "lns", "auto"]
FAST = {"workers": 1, "seed": 7}


def two_shifts(days: range = range(12)) -> list[Window]:
    """The two attended shifts of every working day (adjacent windows: they merge)."""
    out = []
    for d in days:
        if d % 7 < 5:
            out += [Window(d * DAY + SHIFT_START, d * DAY + 840), Window(d * DAY + 840, d * DAY + SHIFT_END)]
    return out


def one_machine(ops: list[Operation], windows: list[Window] | None = None, **kw) -> Problem:
    jobs = sorted({o.job for o in ops})
    return Problem(
        [Machine("M1", "MILL", windows or two_shifts())],
        [Job(j) for j in jobs],
        ops,
        objective=Objective.makespan_only(),
        runs_resume_after_breaks=True,
        **kw,
    )


def run(problem: Problem, solver: str, time_limit: float = 2.0):
    result = solve(problem, solver=solver, time_limit=time_limit, **FAST)
    assert result.violations == [], result.violations[:3]
    assert validate(problem, result.solution) == []
    return result


def long_op(release: int = 0) -> Operation:
    """The shop floor's case: 55 min setup, 50 pieces of 38.6 min = 1930 min run."""
    return Operation("WO-1/10", "WO-1", [Mode("M1", 55, 1930)], release=release)


# -- the end of a long run, by hand -----------------------------------------------------------


def test_without_the_option_a_run_longer_than_a_day_does_not_fit():
    problem = replace(one_machine([long_op()]), runs_resume_after_breaks=False)
    with pytest.raises(InfeasibleError, match="WO-1/10.*longer than any working window; runs_resume_after_breaks"):
        solve(problem, solver="edd")


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_a_run_longer_than_a_day_finishes_the_next_evening(solver):
    # Monday: setup 05:30-06:25, run 06:25-22:30 = 965 min; the other 965 min on Tuesday from
    # 05:30 end at 21:35 Tuesday = 1440 + 21 * 60 + 35 = 2735 (= 330 + 55 + 1930 + 420 of night)
    a = run(one_machine([long_op()]), solver).solution.assignments["WO-1/10"]
    assert (a.start, a.end) == (330, 2735)


@pytest.mark.parametrize("solver", ["edd", "cpsat"])
def test_a_run_started_on_friday_afternoon_goes_on_over_the_weekend(solver):
    # released Friday 14:00 (4 * 1440 + 840 = 6600): setup to 14:55, run to 22:30 = 455 min;
    # Monday 05:30-22:30 = 1020 min; the last 455 min on Tuesday from 05:30 end at 13:05,
    # minute 8 * 1440 + 785 = 12305
    a = run(one_machine([long_op(release=4 * DAY + 840)]), solver).solution.assignments["WO-1/10"]
    assert (a.start, a.end) == (6600, 12305)


def test_the_end_never_lies_in_a_break():
    cal = Calendar(two_shifts(range(3)), runs_resume=True)
    assert cal.run_end(SHIFT_END - 10, 10) == SHIFT_END  # exactly at the end of the shift
    assert cal.run_end(SHIFT_END - 10, 11) == DAY + SHIFT_START + 1  # one more minute: next morning
    assert cal.run_end(DAY + SHIFT_END, 1020) == 2 * DAY + SHIFT_END  # begun in the night: waits for 05:30
    assert cal.run_end(SHIFT_START, 3 * 1020 + 1) is None  # more work than the calendar holds


# -- setups stay in attended time -----------------------------------------------------------------


def setup_after_long_run(windows: list[Window]) -> Problem:
    """A/10 runs 1010 min from 05:30 (to 22:20); A/20 needs 30 min of setup, then runs 200."""
    ops = [
        Operation("A/10", "A", [Mode("M1", 0, 1010)]),
        Operation("A/20", "A", [Mode("M1", 30, 200)], predecessors=["A/10"]),
    ]
    return one_machine(ops, windows)


LIGHTS_OUT = [
    w
    for d in range(3)
    for w in (Window(d * DAY + SHIFT_START, d * DAY + 840), Window(d * DAY + 840, d * DAY + SHIFT_END, False))
]


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize("windows", [two_shifts(range(3)), LIGHTS_OUT], ids=["before-the-night", "lights-out"])
def test_a_setup_waits_for_the_next_attended_shift(solver, windows):
    # A/10 ends at 22:20 (1340). Ten minutes are left in the shift (or the second shift is
    # lights-out): the setup cannot be done tonight, it is done Tuesday 05:30-06:00, and the run
    # goes 06:00-09:20 (1440 + 330 = 1770, end 1770 + 30 + 200 = 2000)
    assignments = run(setup_after_long_run(windows), solver).solution.assignments
    assert assignments["A/10"].end == 1340
    assert (assignments["A/20"].start, assignments["A/20"].end) == (1770, 2000)


# -- the machine and the fixture are held over the break ------------------------------------------


def long_and_short(fixture_shared: bool) -> Problem:
    """LONG runs 1200 min from 05:30 (to 08:30 on Tuesday, minute 1950 after the night);
    SHORT (100 min) arrives at 06:10 (400). On one machine, or on a second machine sharing
    LONG's fixture."""
    fx = Setup(fixture="F1")
    long = Operation("LONG/10", "LONG", [Mode("M1", 0, 1200)], setup=fx)
    short_machine = "M2" if fixture_shared else "M1"
    short = Operation("SHORT/10", "SHORT", [Mode(short_machine, 0, 100)], setup=fx, release=400)
    machines = [Machine("M1", "MILL", two_shifts(range(3)))]
    if fixture_shared:
        machines.append(Machine("M2", "MILL", two_shifts(range(3))))
    return Problem(
        machines,
        [Job("LONG"), Job("SHORT")],
        [long, short],
        fixtures=[Fixture("F1", ("MILL",))],
        objective=Objective.makespan_only(),
        runs_resume_after_breaks=True,
    )


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize("fixture_shared", [False, True], ids=["same-machine", "shared-fixture"])
def test_nothing_slips_into_the_break_of_a_clamped_part(solver, fixture_shared):
    # LONG holds its machine and fixture F1 from 330 to 1950, over the night; SHORT cannot use
    # them on Tuesday morning before 1950. Best: LONG first, SHORT 1950-2050 (SHORT first would
    # push LONG to 500-2120).
    result = run(long_and_short(fixture_shared), solver)
    long, short = result.solution.assignments["LONG/10"], result.solution.assignments["SHORT/10"]
    assert (long.start, long.end) == (330, 1950) or short.end <= long.start
    assert short.start >= long.end or short.end <= long.start
    if solver in ("cpsat", "lns", "auto"):
        assert result.figures.makespan == 2050
        assert (short.start, short.end) == (1950, 2050)


# -- the validator --------------------------------------------------------------------------


def validator_case() -> Problem:
    ops = [
        Operation("LONG/10", "LONG", [Mode("M1", 0, 1200)]),
        Operation("SHORT/10", "SHORT", [Mode("M1", 0, 100)]),
        Operation("SET/10", "SET", [Mode("M1", 30, 100)]),
    ]
    return one_machine(ops, two_shifts(range(2)))


GOOD = {
    "LONG/10": Assignment("M1", 330, 1950),
    "SHORT/10": Assignment("M1", 1950, 2050),
    "SET/10": Assignment("M1", 2050, 2180),
}


def kinds(**changes: Assignment) -> list[tuple[str, str | None]]:
    return [(v.kind, v.operation) for v in validate(validator_case(), Solution({**GOOD, **changes}))]


def test_the_hand_made_good_schedule_is_valid():
    assert kinds() == []


def test_validator_flags_a_duration_that_ignores_the_break():
    # 330 + 1200 = 1530 is in the night: the run would end in a break
    violations = validate(validator_case(), Solution({**GOOD, "LONG/10": Assignment("M1", 330, 1530)}))
    assert {(v.kind, v.operation) for v in violations} == {("duration", "LONG/10"), ("calendar", "LONG/10")}
    assert any("plus 420 min of breaks" in v.message for v in violations)
    assert any("in a break" in v.message for v in violations)


def test_validator_flags_a_wrong_end_in_working_time():
    assert kinds(**{"LONG/10": Assignment("M1", 330, 1900)}) == [("duration", "LONG/10")]


def test_validator_flags_an_operation_inside_the_stretched_operations_span():
    # SHORT on Tuesday 05:30, while LONG (clamped since Monday) still runs until 1950
    assert ("overlap", "SHORT/10") in kinds(**{"SHORT/10": Assignment("M1", 1770, 1870)})
    # SHORT in the night itself: outside working time, and overlapping LONG
    found = kinds(**{"SHORT/10": Assignment("M1", 1400, 1500)})
    assert ("calendar", "SHORT/10") in found and ("overlap", "SHORT/10") in found


def test_validator_flags_a_setup_in_the_night_and_a_run_past_the_calendar():
    # the setup of SET 1340-1370 runs into the night
    # (the run itself would wait for Tuesday 05:30 and end at 1770 + 100)
    assert ("attended", "SET/10") in kinds(**{"SET/10": Assignment("M1", 1340, 1870)})
    # two working days hold 2040 minutes: LONG from Tuesday 05:30 cannot finish
    violations = validate(validator_case(), Solution({**GOOD, "LONG/10": Assignment("M1", 1770, 2970)}))
    assert any(v.kind == "calendar" and "does not finish" in v.message for v in violations)


# -- every solver, a known optimum, the JSON file ---------------------------------------------


def small_shop() -> Problem:
    """Two mills, changeovers between fixtures, a shared fixture, the long operation and due dates."""
    vise, plate = Setup(fixture="VISE", material="AL"), Setup(fixture="PLATE", material="AL")
    ops = [
        Operation("WO-1/10", "WO-1", [Mode("M1", 55, 1930), Mode("M2", 55, 2100)], setup=vise),
        Operation("WO-1/20", "WO-1", [Mode("M2", 20, 300)], setup=plate, predecessors=["WO-1/10"]),
        Operation("WO-2/10", "WO-2", [Mode("M1", 20, 300), Mode("M2", 20, 300)], setup=vise),
        Operation("WO-3/10", "WO-3", [Mode("M2", 30, 1200)], setup=plate, release=600),
        Operation("WO-4/10", "WO-4", [Mode("M1", 10, 90), Mode("M2", 10, 90)], setup=plate),
    ]
    return Problem(
        [Machine("M1", "MILL", two_shifts()), Machine("M2", "MILL", two_shifts())],
        [Job("WO-1", due=4000), Job("WO-2", due=900, weight=3), Job("WO-3", due=2500), Job("WO-4", due=1000)],
        ops,
        changeover_rules=[ChangeoverRule("fixture", "*", "*", 45, work_center="MILL")],
        fixtures=[Fixture("VISE", ("MILL",)), Fixture("PLATE", ("MILL",))],
        runs_resume_after_breaks=True,
    )


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_every_solver_gives_a_valid_schedule(solver):
    run(small_shop(), solver)  # run() checks the schedule with the validator


def test_lns_on_a_generated_shop_with_runs_over_the_night():
    problem = generate_shop(40, 5, seed=2)
    problem.runs_resume_after_breaks = True
    for op in problem.operations:  # runs of up to a few shifts
        op.modes = [replace(m, run=m.run * 4) for m in op.modes]
    edd = run(problem, "edd")
    lns = run(problem, "lns", time_limit=3.0)
    assert lns.figures.key(problem.objective) <= edd.figures.key(problem.objective)
    modes = {op.id: {m.machine: m.setup + m.run for m in op.modes} for op in problem.operations}
    over_a_break = [op for op, a in lns.solution.assignments.items() if a.end - a.start > modes[op][a.machine]]
    assert over_a_break  # the case does exercise runs over the night


# one machine: day 0-3 attended 0-480 and lights-out 480-900 (the rest of the day is a break)
OPT_WINDOWS = [
    w for d in range(4) for w in (Window(d * DAY, d * DAY + 480), Window(d * DAY + 480, d * DAY + 900, False))
]
OPT_OPS = {"A": (30, 600, 700, 1), "B": (60, 200, 500, 3), "C": (20, 900, 2000, 2), "D": (45, 100, 1500, 1)}


def optimum_by_hand() -> tuple[int, int]:
    """(weighted tardiness, makespan), minute by minute over all orders, without the engine."""
    attended = {t for w in OPT_WINDOWS if w.attended for t in range(w.start, w.end)}
    working = {t for w in OPT_WINDOWS for t in range(w.start, w.end)}
    best = None
    for order in permutations(OPT_OPS):
        t, wt = 0, 0
        for name in order:
            setup, run_, due, weight = OPT_OPS[name]
            x = t
            while not (all(m in attended for m in range(x, x + setup)) and x in working):
                x += 1
            end, left = x + setup, run_
            while left:
                left -= end in working
                end += 1
            t = end
            wt += max(0, end - due) * weight
        best = min(best or (wt, t), (wt, t))
    assert best is not None
    return best


def test_cpsat_finds_the_optimum_of_a_small_case():
    ops = [Operation(f"{n}/10", n, [Mode("M1", s, r)]) for n, (s, r, _, _) in OPT_OPS.items()]
    jobs = [Job(n, due=due, weight=w) for n, (_, _, due, w) in OPT_OPS.items()]
    problem = Problem([Machine("M1", "MILL", OPT_WINDOWS)], jobs, ops, runs_resume_after_breaks=True)
    result = run(problem, "cpsat", time_limit=5.0)
    assert result.status == "optimal"
    assert (result.figures.weighted_tardiness, result.figures.makespan) == optimum_by_hand()


def test_json_round_trip_keeps_the_option():
    problem = small_shop()
    again = problem_from_dict(problem_to_dict(problem))
    assert again.runs_resume_after_breaks is True
    assert problem_to_dict(again) == problem_to_dict(problem)
    old_file = problem_to_dict(problem)
    del old_file["runs_resume_after_breaks"]
    assert problem_from_dict(old_file).runs_resume_after_breaks is False
    with pytest.raises(ProblemError, match="runs_resume_after_breaks"):
        problem_from_dict({**old_file, "runs_resume_after_breaks": "yes"})
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(problem_to_dict(problem), json.loads(SCHEMA_PATH.read_text()))


def test_start_pieces_agree_with_the_end_minute_by_minute():
    """The pieces the CP-SAT model uses give, for every allowed start, the end Calendar.finish gives."""
    rng = random.Random(3)
    for _ in range(60):
        windows, t = [], rng.randint(0, 20)
        for _ in range(rng.randint(1, 5)):
            length = rng.randint(1, 40)
            windows.append(Window(t, t + length, rng.random() < 0.7))
            t += length + rng.choice([0, rng.randint(1, 25)])
        cal = Calendar(windows, runs_resume=True)
        setup, run_ = rng.randint(0, 6), rng.randint(1, 70)
        pieces = {x: off for a, b, off in cal.resume_pieces(-5, 250, setup, run_) for x in range(a, b + 1)}
        for x in range(-5, 251):
            end = cal.finish(x, setup, run_)
            in_segment = any(a0 <= x and x + max(setup, 1) <= a1 for a0, a1 in cal.available)
            if end is None or not in_segment:
                assert x not in pieces
            else:
                assert pieces[x] == end - x - setup - run_
