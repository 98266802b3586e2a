"""Each solver on small cases with known optima; every schedule goes through the validator.

CP-SAT runs with one worker and a fixed seed (repeatable), and small time limits; the
assertions are on what a planner would notice (makespan, changeover minutes, late jobs),
never on timings.
"""

import pytest

from jobs.scheduling import (
    ChangeoverRule,
    Job,
    Machine,
    Mode,
    Objective,
    Operation,
    Placement,
    Problem,
    ProblemError,
    Setup,
    Window,
    compile_problem,
    solve,
    validate,
)
from jobs.scheduling.engine import SOLVERS, Traits, auto_choice
from jobs.scheduling.generator import generate_shop
from jobs.scheduling.solvers.lns import WindowLns

from .helpers import FIXTURE_RULES, flexible_case, grouping_case, tiny_sdst, tiny_sdst_optimum, two_machine_flow

FAST = {"workers": 1, "seed": 7}


def run(problem, solver, time_limit=3.0):
    result = solve(problem, solver=solver, time_limit=time_limit, **FAST)
    assert result.violations == [], result.violations[:3]
    assert validate(problem, result.solution) == []
    return result


@pytest.mark.parametrize("solver", ["cpsat", "lns", "auto"])
def test_exact_solvers_find_the_johnson_optimum(solver):
    assert run(two_machine_flow(), solver).figures.makespan == 9


@pytest.mark.parametrize("solver", ["fifo", "edd", "atcs"])
def test_heuristics_give_valid_schedules_no_better_than_the_optimum(solver):
    result = run(two_machine_flow(), solver)
    assert 9 <= result.figures.makespan <= 12


@pytest.mark.parametrize("solver", ["cpsat", "lns", "atcs"])
def test_flexible_machines_are_used(solver):
    result = run(flexible_case(), solver)
    assert result.figures.makespan == 5
    assert {a.machine for a in result.solution.assignments.values()} == {"M1", "M2"}


@pytest.mark.parametrize("solver", ["pfsp", "cpsat", "auto"])
def test_tiny_sdst_flow_shop_optimum(solver):
    result = run(tiny_sdst(), solver)
    assert result.figures.makespan == tiny_sdst_optimum()
    orders = {}
    for op, a in sorted(result.solution.assignments.items(), key=lambda kv: kv[1].start):
        orders.setdefault(a.machine, []).append(op.split("-")[0])
    assert orders["M1"] == orders["M2"]  # one job order on both machines


def test_auto_uses_the_permutation_search_for_a_flow_shop():
    assert run(tiny_sdst(), "auto").solver == "pfsp"


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (tiny_sdst(), "pfsp"),
        (flexible_case(), "fjsp"),
        (grouping_case(), "cpsat"),
        (generate_shop(1200, 20, seed=3), "lns"),  # too large for the whole CP-SAT model
    ],
)
def test_auto_picks_exactly_one_solver_of_the_registry(problem, expected):
    traits = Traits(compile_problem(problem))
    assert [s.name for s in SOLVERS.values() if s.auto_when is not None and s.auto_when(traits)] == [expected]
    assert auto_choice(traits) == expected


def test_every_solver_has_a_label_and_says_when_auto_picks_it():
    assert list(SOLVERS)[0] == "auto"  # the default, first on the planner's picker
    for name, solver in SOLVERS.items():
        assert solver.name == name and solver.label and solver.auto


def test_an_unknown_solver_is_refused_with_the_registry_names():
    with pytest.raises(ProblemError, match="auto, fifo, edd"):
        solve(two_machine_flow(), solver="magic")


def test_grouping_by_fixture_saves_changeovers_over_edd():
    edd = run(grouping_case(), "edd")
    assert edd.figures.changeover_total == 5 * 60  # alternating fixtures, as in due-date order
    for solver in ("atcs", "cpsat", "lns"):
        result = run(grouping_case(), solver)
        assert result.figures.changeover_total == 60, solver  # one swap: all vise work, then all plate work
        assert result.figures.tardy_jobs == 0


def test_tardiness_comes_before_changeovers():
    problem = grouping_case()
    problem.jobs[1].due = 120  # WO-2 (plate) is late if all vise work goes first
    result = run(problem, "cpsat")
    assert result.figures.weighted_tardiness == 0
    assert result.figures.changeover_total == 120  # on time needs a second fixture swap


def test_weights_let_the_planner_trade_lateness_for_changeovers():
    problem = grouping_case()
    problem.jobs[1].due = 120
    problem.objective = Objective(weights=(1, 100, 0))  # a changeover minute costs as much as 100 late minutes
    result = run(problem, "cpsat")
    assert result.figures.changeover_total == 60
    assert result.figures.weighted_tardiness == 60  # vise work first, WO-2 ends at 180


def test_calendars_setups_only_in_attended_time():
    machine = Machine(
        "M1",
        "MILL",
        windows=[Window(0, 480), Window(480, 960, attended=False), Window(1440, 1920)],
        initial_setup=Setup(fixture="VISE"),
    )
    ops = [
        Operation("A/10", "A", [Mode("M1", 30, 600)], setup=Setup(fixture="VISE")),
        Operation("B/10", "B", [Mode("M1", 30, 100)], setup=Setup(fixture="PLATE")),
    ]
    problem = Problem([machine], [Job("A", due=2000), Job("B", due=2000)], ops, changeover_rules=FIXTURE_RULES)
    for solver in ("edd", "atcs", "cpsat"):
        result = run(problem, solver)
        a, b = result.solution.assignments["A/10"], result.solution.assignments["B/10"]
        if a.start < b.start:  # the 600 min cycle runs on into lights-out; the next changeover waits for 1440
            assert a.start == 0 and a.end == 630 and b.start == 1500
        assert result.figures.makespan <= 1630


def test_fixture_is_used_by_one_machine_at_a_time():
    ops = [
        Operation(f"{j}/10", j, [Mode("M1", 0, 50), Mode("M2", 0, 50)], setup=Setup(fixture="TOMB")) for j in ("A", "B")
    ]
    problem = Problem([Machine("M1", "MILL"), Machine("M2", "MILL")], [Job("A"), Job("B")], ops)
    for solver in ("edd", "atcs", "cpsat", "lns"):
        result = run(problem, solver)
        a, b = (result.solution.assignments[o] for o in ("A/10", "B/10"))
        assert a.end <= b.start or b.end <= a.start
        assert result.figures.makespan == 100


def test_fixed_operations_stay_and_others_plan_around_them():
    ops = [
        Operation("A/10", "A", [Mode("M1", 0, 60)], fixed=Placement("M1", -20)),  # in progress
        Operation("A/20", "A", [Mode("M1", 0, 30), Mode("M2", 0, 30)], predecessors=["A/10"]),
        Operation("B/10", "B", [Mode("M1", 0, 40)], fixed=Placement("M1", 100)),  # locked by the planner
        Operation("C/10", "C", [Mode("M1", 0, 70)]),
    ]
    problem = Problem(
        [Machine("M1"), Machine("M2")], [Job("A"), Job("B"), Job("C")], ops, objective=Objective.makespan_only()
    )
    for solver in ("fifo", "edd", "atcs", "cpsat", "lns"):
        result = run(problem, solver)
        s = result.solution.assignments
        assert (s["A/10"].machine, s["A/10"].start) == ("M1", -20)
        assert (s["B/10"].machine, s["B/10"].start) == ("M1", 100)
        assert s["A/20"].start >= 40
    assert run(problem, "cpsat").figures.makespan == 210  # C/10 cannot fit in the gap 40-100


def test_progress_is_reported_and_cancel_stops_with_a_valid_plan():
    problem = generate_shop(80, 6, seed=3)
    seen = []
    result = solve(problem, "lns", time_limit=2, progress=lambda *a: seen.append(a), **FAST)
    assert seen and all(len(call) == 3 for call in seen)
    assert seen[-1][1] == result.figures.weighted_tardiness * 1e12 + result.figures.changeover_total * 1e6 + (
        result.figures.makespan
    )
    assert [call[1] for call in seen] == sorted((call[1] for call in seen), reverse=True)
    cancelled = solve(problem, "lns", time_limit=30, cancel=lambda: True, **FAST)
    assert cancelled.status == "cancelled" and cancelled.valid
    assert len(cancelled.solution.assignments) == 80


def test_one_worker_with_a_seed_repeats():
    problem = generate_shop(60, 5, seed=2)
    inst = compile_problem(problem)
    start = solve(inst, "atcs").schedule
    runs = []
    for _ in range(2):
        search = WindowLns(inst, start.copy(), seed=11, workers=1)
        search.run(deadline=float("inf"), max_steps=6, step_limit=2.0)
        runs.append(inst.figures(search.best))
    assert runs[0] == runs[1]


def test_generated_shop_beats_edd_on_changeovers_without_more_late_jobs():
    problem = generate_shop(120, 8, seed=5)
    edd = run(problem, "edd")
    best = run(problem, "auto", time_limit=3)
    assert best.figures.changeover_total <= 0.8 * edd.figures.changeover_total
    assert best.figures.tardy_jobs <= edd.figures.tardy_jobs
    assert best.figures.weighted_tardiness <= edd.figures.weighted_tardiness


def test_a_fixed_operation_may_span_a_break_and_the_rest_respects_the_calendar():
    machine = Machine("M1", windows=[Window(0, 100), Window(200, 400)])
    ops = [
        Operation("A/10", "A", [Mode("M1", 0, 120)], fixed=Placement("M1", 30)),  # runs over the break
        Operation("B/10", "B", [Mode("M1", 0, 50)]),
    ]
    problem = Problem([machine], [Job("A"), Job("B")], ops, objective=Objective.makespan_only())
    for solver in ("edd", "cpsat"):
        s = run(problem, solver).solution.assignments
        assert s["A/10"].start == 30 and s["B/10"].start == 200


@pytest.mark.parametrize("solver", ["atcs", "cpsat", "auto"])
def test_a_greedy_order_that_runs_out_of_calendar_does_not_fail_the_run(solver):
    # LONG fits only in the first shift; ATCS would start the heavy SHORT job first and leave
    # LONG nowhere. The run still returns a plan (EDD's) instead of "does not fit".
    problem = Problem(
        [Machine("M1", "MILL", [Window(0, 120), Window(200, 260)])],
        [Job("LONG", due=200), Job("SHORT", weight=3)],
        [Operation("LONG/10", "LONG", [Mode("M1", 0, 110)]), Operation("SHORT/10", "SHORT", [Mode("M1", 0, 30)])],
    )
    result = run(problem, solver)
    assert result.solution.assignments["LONG/10"].start == 0


def test_cpsat_proves_the_optimum_when_a_run_without_setup_starts_in_lights_out_time():
    # after a 10-minute fixture change, A runs 10-130 into the lights-out window and B (same
    # fixture: no changeover, no setup) starts at 130 in lights-out time: valid, and optimal
    plate = Setup(fixture="PLATE")
    problem = Problem(
        [
            Machine(
                "M1", "MILL", [Window(0, 100), Window(100, 400, attended=False)], initial_setup=Setup(fixture="VISE")
            )
        ],
        [Job("A"), Job("B")],
        [
            Operation("A/10", "A", [Mode("M1", 0, 120)], setup=plate),
            Operation("B/10", "B", [Mode("M1", 0, 150)], setup=plate),
        ],
        changeover_rules=[ChangeoverRule("fixture", "*", "*", 10)],
        objective=Objective.makespan_only(),
    )
    result = run(problem, "cpsat")
    assert result.figures.makespan == 280
    assert result.status == "optimal"
