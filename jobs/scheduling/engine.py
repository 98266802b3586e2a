"""The entry point: ``solve(problem, solver=..., time_limit=..., workers=..., progress=..., cancel=...)``.

Solvers (``SOLVERS``):

* ``fifo``, ``edd`` — dispatch baselines;
* ``atcs`` — the setup-aware constructive heuristic (small parameter grid);
* ``cpsat`` — the full CP-SAT model warm-started from the heuristic;
* ``fjsp`` — pure-makespan flexible job shops only (no changeovers, calendars, fixtures, fixed
  operations or weighted due dates): a lean CP-SAT model, then an LNS with CP-SAT sub-solves;
* ``lns`` — large-neighbourhood search with CP-SAT sub-problems, started from the heuristic;
* ``pfsp`` — NEH + iterated greedy over the job permutation (permutation flow shops only);
* ``auto`` (default) — the best of the above for the problem at hand: ``pfsp`` for a
  permutation flow shop, ``fjsp`` for a pure-makespan flexible job shop, the full ``cpsat``
  model while it stays small, else ``lns``.

Every result is checked by the validator; a solver that cannot place an operation raises
:class:`InfeasibleError` naming it, bad input raises :class:`ProblemError` — never a partial plan.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from .instance import Instance, Schedule, compile_problem
from .problem import Figures, Problem, ProblemError, Solution, Violation
from .validate import validate

Progress = Callable[[float, float, float | None], None]
Cancel = Callable[[], bool]

SOLVERS = ("auto", "fifo", "edd", "atcs", "cpsat", "fjsp", "lns", "pfsp")
FULL_MODEL_MAX_ARCS = 40_000
FULL_MODEL_MAX_OPS = 800
FJSP_HEURISTIC_SHARE = 0.02  # the lean FJSP model finds good schedules itself: a quick warm start is enough


@dataclass
class Result:
    """A solved problem: the solution, its figures and how the run went."""

    solution: Solution
    figures: Figures
    solver: str
    status: str  # "optimal", "feasible", "cancelled"
    seconds: float
    first_solution_seconds: float
    violations: list[Violation]
    bound: float | None = None
    schedule: Schedule | None = None

    @property
    def valid(self) -> bool:
        return not self.violations


def scalar(inst: Instance, figures: Figures) -> float:
    """One number for progress reports: the weighted sum, or for the lexicographic default
    ``tardiness * 1e12 + changeover * 1e6 + makespan`` (monotone while each stays below 1e6)."""
    if inst.objective.weights is not None:
        wt, wc, wm = inst.objective.weights
        return wt * figures.weighted_tardiness + wc * figures.changeover_total + wm * figures.makespan
    return figures.weighted_tardiness * 1e12 + figures.changeover_total * 1e6 + figures.makespan


def _cpu_workers(workers: int) -> int:
    return max(1, min(workers, os.cpu_count() or 1))


def solve(
    problem: Problem | Instance,
    solver: str = "auto",
    time_limit: float = 30.0,
    workers: int = 8,
    seed: int = 0,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Result:
    """Schedule ``problem`` with ``solver`` within ``time_limit`` seconds.

    ``progress(elapsed_seconds, best_objective, bound)`` is called whenever a better schedule
    is found (``best_objective`` as :func:`scalar`; ``bound`` only where a solver proves one on
    the same scale, else ``None``). ``cancel()`` is polled; when it returns true the run stops
    and returns the best schedule so far with status ``"cancelled"``.
    """
    from .solvers import atcs as atcs_mod
    from .solvers import cpsat as cpsat_mod
    from .solvers import dispatch, fjsp, lns, pfsp

    if solver not in SOLVERS:
        raise ProblemError(f"unknown solver {solver!r} (expected one of {', '.join(SOLVERS)})")
    t0 = time.monotonic()
    deadline = t0 + time_limit
    inst = problem if isinstance(problem, Instance) else compile_problem(problem)
    state: dict = {"best": None, "key": None, "first": None, "bound": None, "status": "feasible", "progress": 1e300}

    def offer(sched: Schedule) -> None:
        key = inst.key(sched)
        if state["key"] is None or key < state["key"]:
            state["best"], state["key"] = sched, key
            if state["first"] is None:
                state["first"] = time.monotonic() - t0
            value = scalar(inst, inst.figures(sched))
            if progress is not None and value < state["progress"]:
                state["progress"] = value
                progress(time.monotonic() - t0, value, None)

    def cancelled() -> bool:
        if cancel is not None and cancel():
            state["status"] = "cancelled"
            return True
        return False

    fs = pfsp.flow_shop_view(inst) if solver in ("auto", "pfsp") else None
    if solver == "fjsp" and not fjsp.is_pure_fjsp(inst):
        raise ProblemError(
            "solver 'fjsp' needs a pure-makespan flexible job shop (no changeovers, calendars, fixtures, "
            "fixed operations, permutation groups or weighted due dates)"
        )
    if solver == "pfsp" and fs is None:
        raise ProblemError("solver 'pfsp' needs a permutation flow shop (one permutation group over all machines)")
    chosen = solver
    if solver == "auto":
        if fs is not None:
            chosen = "pfsp"
        elif inst.n <= FULL_MODEL_MAX_OPS and cpsat_mod.arc_count(inst) <= FULL_MODEL_MAX_ARCS:
            chosen = "fjsp" if fjsp.is_pure_fjsp(inst) else "cpsat"
        else:
            chosen = "lns"

    if chosen == "fifo":
        offer(dispatch.fifo(inst))
    elif chosen == "edd":
        offer(dispatch.edd(inst))
    elif chosen == "pfsp":
        assert fs is not None
        offer(
            pfsp.solve_flow_shop(
                inst,
                fs,
                max(0.0, deadline - time.monotonic()),
                seed,
                on_improve=offer,
                cancel=cancelled,
                workers=_cpu_workers(workers),
            )
        )
    else:
        offer(dispatch.edd(inst))  # a valid schedule within milliseconds, whatever follows
        if not cancelled():
            # the heuristic's share of the time: all of it for "atcs"; before CP-SAT a little; before the
            # LNS more on large problems, where a good start is worth more than the first LNS steps
            share = (
                1.0
                if chosen == "atcs"
                else FJSP_HEURISTIC_SHARE
                if chosen == "fjsp"
                else 0.1
                if chosen == "cpsat"
                else 0.4
                if inst.n > 1000
                else 0.2
            )
            built = atcs_mod.atcs_grid(
                inst, deadline=t0 + max(0.5, time_limit * share), on_schedule=offer, cancel=cancelled
            )
            if built is not None:
                offer(built)
        if chosen == "fjsp" and not cancelled():

            def report_cmax(elapsed: float, figures: tuple[int, int, int], bound: float) -> None:
                if progress is not None:
                    value = scalar(inst, Figures(0, 0, 0, figures[2]))
                    if value < state["progress"]:
                        state["progress"] = value
                        scaled = None if bound is None else scalar(inst, Figures(0, 0, 0, 1)) * bound
                        progress(elapsed, value, scaled)

            res = fjsp.solve_fjsp(
                inst, state["best"], max(0.1, deadline - time.monotonic()), workers, seed, report_cmax, cancelled, t0
            )
            if res.schedule is not None:
                offer(res.schedule)
            if res.status == "OPTIMAL":
                state["status"] = "optimal"
                state["bound"] = res.bound
        if chosen == "cpsat" and not cancelled():

            def report(elapsed: float, figures: tuple[int, int, int], bound: float) -> None:
                if progress is not None:
                    wt, chg, cmax = figures
                    value = scalar(inst, Figures(wt, 0, chg, cmax))
                    if value < state["progress"]:
                        state["progress"] = value
                        # with weights the CP objective is the same weighted sum, so its bound applies
                        progress(elapsed, value, bound if inst.objective.weights is not None else None)

            res = cpsat_mod.solve_cpsat(
                inst, state["best"], max(0.1, deadline - time.monotonic()), workers, seed, report, cancelled, t0
            )
            if res.schedule is not None:
                offer(res.schedule)
            if res.status == "OPTIMAL":
                state["status"] = "optimal"
                state["bound"] = res.bound
        elif chosen == "lns" and not cancelled():
            search = lns.WindowLns(inst, state["best"], seed, workers)
            search.run(deadline, cancel=cancelled, on_improve=offer)
            offer(search.best)
            if search.proven:
                state["status"] = "optimal"
    if cancel is not None and cancel():
        state["status"] = "cancelled"
    best: Schedule = state["best"]
    solution = inst.to_solution(best, solver=chosen)
    violations = validate(inst, solution)
    return Result(
        solution=solution,
        figures=inst.figures(best),
        solver=chosen,
        status=state["status"],
        seconds=time.monotonic() - t0,
        first_solution_seconds=state["first"] if state["first"] is not None else time.monotonic() - t0,
        violations=violations,
        bound=state["bound"],
        schedule=best,
    )


def baseline(problem: Problem | Instance, rule: str = "edd") -> Result:
    """The dispatch baseline (``edd`` or ``fifo``) every run is compared with."""
    return solve(problem, solver=rule, time_limit=0)
