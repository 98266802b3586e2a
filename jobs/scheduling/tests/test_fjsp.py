"""The pure-makespan FJSP path: the lean CP-SAT model, its LNS, and when ``auto`` picks them.

Small cases with optima proven by the full model (one worker, fixed seed); every schedule goes
through the validator.
"""

import random

import pytest

from jobs.scheduling import (
    ChangeoverRule,
    Job,
    Machine,
    Mode,
    Objective,
    Operation,
    Problem,
    ProblemError,
    Setup,
    Window,
    compile_problem,
    solve,
    validate,
)
from jobs.scheduling.solvers import dispatch, fjsp

from .helpers import chain, flexible_case


def random_fjsp(n_jobs: int, n_machines: int, n_ops: int, seed: int) -> Problem:
    """A seeded Brandimarte-like FJSP: each step may run on 1 to 3 machines, 1 to 9 minutes each."""
    rng = random.Random(seed)
    machines = [f"M{k}" for k in range(n_machines)]
    ops = []
    for j in range(n_jobs):
        steps = []
        for _ in range(n_ops):
            ks = rng.sample(machines, rng.randint(1, min(3, n_machines)))
            steps.append([(k, rng.randint(1, 9)) for k in ks])
        ops += chain(f"J{j}", steps)
    return Problem(
        [Machine(m, "A") for m in machines],
        [Job(f"J{j}") for j in range(n_jobs)],
        ops,
        objective=Objective.makespan_only(),
    )


def check(problem, result):
    assert result.violations == [], result.violations[:3]
    assert validate(problem, result.solution) == []


def test_flexible_case_optimum():
    problem = flexible_case()
    result = solve(problem, solver="fjsp", time_limit=3, workers=1, seed=7)
    check(problem, result)
    assert result.figures.makespan == 5
    assert result.status == "optimal"


def test_auto_picks_the_lean_model_for_a_pure_fjsp_and_finds_the_optimum():
    problem = random_fjsp(4, 3, 3, seed=1)
    exact = solve(problem, solver="cpsat", time_limit=10, workers=1, seed=7)
    assert exact.status == "optimal"
    result = solve(problem, solver="auto", time_limit=10, workers=1, seed=7)
    check(problem, result)
    assert result.solver == "fjsp"
    assert result.figures.makespan == exact.figures.makespan


def test_lns_alone_reaches_the_optimum_from_a_poor_start():
    problem = random_fjsp(5, 4, 4, seed=3)
    inst = compile_problem(problem)
    exact = solve(inst, solver="cpsat", time_limit=20, workers=1, seed=7)
    assert exact.status == "optimal"
    start = dispatch.fifo(inst)
    search = fjsp.FjspLns(inst, start, seed=1, workers=1)
    search.lb = exact.figures.makespan  # stop as soon as the optimum is found
    import time

    search.run(time.monotonic() + 20)
    assert max(search.best.end) == exact.figures.makespan
    assert validate(inst, inst.to_solution(search.best)) == []


def test_lns_phase_of_solve_fjsp_is_valid_and_never_worse_than_the_start():
    problem = random_fjsp(6, 4, 4, seed=5)
    inst = compile_problem(problem)
    start = dispatch.fifo(inst)
    res = fjsp.solve_fjsp(inst, start, 4, workers=1, seed=3, full_share=0.1)
    assert max(res.schedule.end) <= max(start.end)
    assert validate(inst, inst.to_solution(res.schedule)) == []


def test_critical_path_spans_the_makespan():
    inst = compile_problem(random_fjsp(5, 3, 4, seed=2))
    sched = dispatch.decode(inst, dispatch.fifo(inst))
    path = fjsp.critical_path(inst, sched, random.Random(0))
    assert sched.end[path[0]] == max(sched.end)
    assert sched.start[path[-1]] == 0
    assert sum(sched.end[i] - sched.start[i] for i in path) == max(sched.end)


def test_lower_bound_is_a_bound():
    problem = random_fjsp(4, 3, 3, seed=1)
    inst = compile_problem(problem)
    exact = solve(inst, solver="cpsat", time_limit=10, workers=1, seed=7)
    assert 0 < fjsp.lower_bound(inst) <= exact.figures.makespan


def _with(problem: Problem, **changes) -> Problem:
    fields = dict(problem.__dict__)
    fields.update(changes)
    return Problem(**fields)


@pytest.mark.parametrize(
    "change",
    [
        {"changeover_rules": [ChangeoverRule("material", "*", "*", 5)]},
        {"machines": [Machine("M1", "A", windows=[Window(0, 100)]), Machine("M2", "A")]},
        {"objective": Objective()},
    ],
)
def test_not_pure_fjsp_is_refused_by_fjsp_and_auto_keeps_the_full_model(change):
    problem = flexible_case()
    if "objective" in change:  # lexicographic with a weighted due date: tardiness counts
        problem = _with(problem, jobs=[Job("J1", due=1, weight=1), Job("J2")])
    if "changeover_rules" in change:
        ops = [Operation(o.id, o.job, o.modes, o.predecessors, setup=Setup(material=o.job)) for o in problem.operations]
        problem = _with(problem, operations=ops)
    problem = _with(problem, **change)
    assert not fjsp.is_pure_fjsp(compile_problem(problem))
    with pytest.raises(ProblemError):
        solve(problem, solver="fjsp", time_limit=1, workers=1)
    result = solve(problem, solver="auto", time_limit=2, workers=1, seed=7)
    check(problem, result)
    assert result.solver != "fjsp"


def test_single_mode_operations_and_waits():
    ops = [
        Operation("A0", "A", [Mode("M1", 1, 2)]),
        Operation("A1", "A", [Mode("M2", 0, 3), Mode("M1", 0, 4)], predecessors=["A0"]),
        Operation("B0", "B", [Mode("M1", 0, 3), Mode("M2", 0, 3)], wait_after=2),
        Operation("B1", "B", [Mode("M2", 0, 1)], predecessors=["B0"]),
    ]
    problem = Problem(
        [Machine("M1", "A"), Machine("M2", "A")], [Job("A"), Job("B")], ops, objective=Objective.makespan_only()
    )
    exact = solve(problem, solver="cpsat", time_limit=5, workers=1, seed=7)
    result = solve(problem, solver="fjsp", time_limit=5, workers=1, seed=7)
    check(problem, result)
    assert result.figures.makespan == exact.figures.makespan


def test_progress_and_cancel_on_the_fjsp_path():
    problem = random_fjsp(8, 4, 5, seed=9)
    seen = []
    result = solve(problem, solver="fjsp", time_limit=3, workers=1, seed=7, progress=lambda *a: seen.append(a))
    check(problem, result)
    values = [v for _, v, _ in seen]
    assert values == sorted(values, reverse=True)
    assert values[-1] == result.figures.makespan
    assert all(b is None or b <= result.figures.makespan for _, _, b in seen)
    calls = []
    cancelled = solve(
        problem, solver="fjsp", time_limit=30, workers=1, cancel=lambda: bool(calls.append(1)) or len(calls) > 3
    )
    check(problem, cancelled)
    assert cancelled.status == "cancelled"
    assert cancelled.seconds < 10
