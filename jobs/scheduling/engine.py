"""The entry point: ``solve(problem, solver=..., time_limit=..., workers=..., progress=..., cancel=...)``.

:data:`SOLVERS` is the one list of solvers: each entry's name, the label a planner reads on the
planner board, when ``auto`` (the default) picks it, and how it runs. The specialised ones refuse
a problem they do not fit (``fjsp``: a pure-makespan flexible job shop; ``pfsp``: a permutation
flow shop) with a :class:`ProblemError`.

Every result is checked by the validator; a solver that cannot place an operation raises
:class:`InfeasibleError` naming it, bad input raises :class:`ProblemError` — never a partial plan.
The solver modules (and OR-Tools) are imported only when a solve needs them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING

from .instance import Instance, Schedule, compile_problem
from .problem import Figures, Problem, ProblemError, Solution, Violation
from .validate import validate

if TYPE_CHECKING:
    from .solvers.pfsp import FlowShop
    from .solvers.runner import SubResult

Progress = Callable[[float, float, float | None], None]
Cancel = Callable[[], bool]

AUTO = "auto"
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


class Traits:
    """What ``auto`` and the specialised solvers look at, each computed once and only when asked for."""

    def __init__(self, inst: Instance):
        self.inst = inst

    @cached_property
    def flow_shop(self) -> FlowShop | None:
        """The flow-shop view when the problem is a permutation flow shop."""
        from .solvers.pfsp import flow_shop_view

        return flow_shop_view(self.inst)

    @cached_property
    def pure_fjsp(self) -> bool:
        """Only the makespan counts, and only machines and precedences constrain it."""
        from .solvers.fjsp import is_pure_fjsp

        return is_pure_fjsp(self.inst)

    @cached_property
    def small(self) -> bool:
        """The full CP-SAT model stays small enough to solve whole."""
        from .solvers.cpsat import arc_count

        return self.inst.n <= FULL_MODEL_MAX_OPS and arc_count(self.inst) <= FULL_MODEL_MAX_ARCS


class Search:
    """One call of :func:`solve`: its clock, the best schedule so far, progress reports and cancel."""

    def __init__(
        self,
        inst: Instance,
        solver: str,
        t0: float,
        time_limit: float,
        workers: int,
        seed: int,
        progress: Progress | None,
        cancel: Cancel | None,
    ):
        self.inst = inst
        self.solver = solver  # the one that runs (``auto`` names the one it picked)
        self.traits = Traits(inst)
        self.t0 = t0
        self.time_limit = time_limit
        self.deadline = self.t0 + time_limit
        self.workers = workers
        self.seed = seed
        self._progress = progress
        self._cancel = cancel
        self.best: Schedule | None = None
        self._best_key: tuple[int, ...] | None = None
        self.first: float | None = None  # seconds to the first schedule
        self.bound: float | None = None
        self.status = "feasible"
        self._reported = 1e300

    @property
    def incumbent(self) -> Schedule:
        """The best schedule so far (every solver but the dispatch rules starts from EDD's)."""
        if self.best is None:
            raise RuntimeError("no schedule yet")
        return self.best

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def report(self, elapsed: float, value: float, bound: float | None) -> None:
        """Tell ``progress`` about a better objective (as :func:`scalar`)."""
        if self._progress is not None and value < self._reported:
            self._reported = value
            self._progress(elapsed, value, bound)

    def offer(self, sched: Schedule) -> None:
        """Keep ``sched`` if it is the best so far."""
        key = self.inst.key(sched)
        if self._best_key is None or key < self._best_key:
            self.best, self._best_key = sched, key
            if self.first is None:
                self.first = time.monotonic() - self.t0
            if self._progress is not None:
                self.report(time.monotonic() - self.t0, scalar(self.inst, self.inst.figures(sched)), None)

    def offer_cp(self, res: SubResult) -> None:
        """Keep a CP-SAT result's schedule; an optimal one ends the search with its bound."""
        if res.schedule is not None:
            self.offer(res.schedule)
        if res.status == "OPTIMAL":
            self.status = "optimal"
            self.bound = res.bound

    def cancelled(self) -> bool:
        if self._cancel is not None and self._cancel():
            self.status = "cancelled"
            return True
        return False

    def warm_start(self, share: float) -> None:
        """EDD (a valid schedule within milliseconds, whatever follows), then the ATCS grid for
        ``share`` of the time limit."""
        from .solvers.atcs import atcs_grid
        from .solvers.dispatch import edd

        self.offer(edd(self.inst))
        if not self.cancelled():
            built = atcs_grid(
                self.inst,
                deadline=self.t0 + max(0.5, self.time_limit * share),
                on_schedule=self.offer,
                cancel=self.cancelled,
            )
            if built is not None:
                self.offer(built)


def _run_auto(search: Search) -> None:
    search.solver = auto_choice(search.traits)
    SOLVERS[search.solver].run(search)


def _run_fifo(search: Search) -> None:
    from .solvers.dispatch import fifo

    search.offer(fifo(search.inst))


def _run_edd(search: Search) -> None:
    from .solvers.dispatch import edd

    search.offer(edd(search.inst))


def _run_atcs(search: Search) -> None:
    search.warm_start(1.0)


def _run_cpsat(search: Search) -> None:
    from .solvers.cpsat import solve_cpsat

    inst = search.inst
    search.warm_start(0.1)  # before CP-SAT a little
    if search.cancelled():
        return

    def report(elapsed: float, figures: tuple[int, int, int], bound: float | None) -> None:
        wt, chg, cmax = figures
        # with weights the CP objective is the same weighted sum, so its bound applies
        search.report(
            elapsed, scalar(inst, Figures(wt, 0, chg, cmax)), bound if inst.objective.weights is not None else None
        )

    search.offer_cp(
        solve_cpsat(
            inst,
            search.incumbent,
            max(0.1, search.left()),
            search.workers,
            search.seed,
            report,
            search.cancelled,
            search.t0,
        )
    )


def _run_fjsp(search: Search) -> None:
    from .solvers.fjsp import solve_fjsp

    inst = search.inst
    if not search.traits.pure_fjsp:
        raise ProblemError(
            "solver 'fjsp' needs a pure-makespan flexible job shop (no changeovers, calendars, fixtures, "
            "fixed operations, permutation groups or weighted due dates)"
        )
    search.warm_start(FJSP_HEURISTIC_SHARE)
    if search.cancelled():
        return

    def report(elapsed: float, figures: tuple[int, int, int], bound: float | None) -> None:
        scaled = None if bound is None else scalar(inst, Figures(0, 0, 0, 1)) * bound
        search.report(elapsed, scalar(inst, Figures(0, 0, 0, figures[2])), scaled)

    search.offer_cp(
        solve_fjsp(
            inst,
            search.incumbent,
            max(0.1, search.left()),
            search.workers,
            search.seed,
            report,
            search.cancelled,
            search.t0,
        )
    )


def _run_lns(search: Search) -> None:
    from .solvers.lns import WindowLns

    # on large problems a good start is worth more than the first LNS steps
    search.warm_start(0.4 if search.inst.n > 1000 else 0.2)
    if search.cancelled():
        return
    lns = WindowLns(search.inst, search.incumbent, search.seed, search.workers)
    lns.run(search.deadline, cancel=search.cancelled, on_improve=search.offer)
    search.offer(lns.best)
    if lns.proven:
        search.status = "optimal"


def _run_pfsp(search: Search) -> None:
    from .solvers.pfsp import solve_flow_shop

    fs = search.traits.flow_shop
    if fs is None:
        raise ProblemError("solver 'pfsp' needs a permutation flow shop (one permutation group over all machines)")
    search.offer(
        solve_flow_shop(
            search.inst,
            fs,
            max(0.0, search.left()),
            search.seed,
            on_improve=search.offer,
            cancel=search.cancelled,
            workers=_cpu_workers(search.workers),
        )
    )


@dataclass(frozen=True)
class Solver:
    """One entry of :data:`SOLVERS`."""

    name: str
    label: str  # what a planner reads on the planner board's solver picker
    auto: str  # when ``auto`` picks it, in words
    auto_when: Callable[[Traits], bool] | None  # the test ``auto`` applies (None: never picks it)
    run: Callable[[Search], None]


SOLVERS: Mapping[str, Solver] = MappingProxyType(
    {
        solver.name: solver
        for solver in (
            Solver(AUTO, "Automatic (best for the problem)", "runs the solver it picks", None, _run_auto),
            Solver("fifo", "FIFO (dispatch baseline)", "never: first come, first served", None, _run_fifo),
            Solver(
                "edd", "EDD (dispatch baseline)", "never: earliest due date, the baseline of every run", None, _run_edd
            ),
            Solver(
                "atcs",
                "ATCS heuristic (fast)",
                "never alone: it warm-starts cpsat, fjsp and lns",
                None,
                _run_atcs,
            ),
            Solver(
                "cpsat",
                "CP-SAT model",
                f"up to {FULL_MODEL_MAX_OPS} operations and {FULL_MODEL_MAX_ARCS:,} changeover arcs, "
                "unless fjsp or pfsp fits",
                lambda t: t.flow_shop is None and t.small and not t.pure_fjsp,
                _run_cpsat,
            ),
            Solver(
                "fjsp",
                "Flexible job shop model (makespan only)",
                f"a pure-makespan flexible job shop (no changeovers, calendars, fixtures, fixed operations or "
                f"weighted due dates) of up to {FULL_MODEL_MAX_OPS} operations",
                lambda t: t.flow_shop is None and t.small and t.pure_fjsp,
                _run_fjsp,
            ),
            Solver(
                "lns",
                "Large-neighbourhood search",
                "a problem too large for the whole CP-SAT model",
                lambda t: t.flow_shop is None and not t.small,
                _run_lns,
            ),
            Solver(
                "pfsp",
                "Flow-shop permutation search",
                "a permutation flow shop (one permutation group over all machines, no calendars)",
                lambda t: t.flow_shop is not None,
                _run_pfsp,
            ),
        )
    }
)


def auto_choice(traits: Traits) -> str:
    """The solver ``auto`` runs: the one whose ``auto_when`` holds (the tests exclude each other)."""
    return next(s.name for s in SOLVERS.values() if s.auto_when is not None and s.auto_when(traits))


def solve(
    problem: Problem | Instance,
    solver: str = AUTO,
    time_limit: float = 30.0,
    workers: int = 8,
    seed: int = 0,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Result:
    """Schedule ``problem`` with ``solver`` (a name in :data:`SOLVERS`) within ``time_limit`` seconds.

    ``progress(elapsed_seconds, best_objective, bound)`` is called whenever a better schedule
    is found (``best_objective`` as :func:`scalar`; ``bound`` only where a solver proves one on
    the same scale, else ``None``). ``cancel()`` is polled; when it returns true the run stops
    and returns the best schedule so far with status ``"cancelled"``.
    """
    if solver not in SOLVERS:
        raise ProblemError(f"unknown solver {solver!r} (expected one of {', '.join(SOLVERS)})")
    t0 = time.monotonic()
    inst = problem if isinstance(problem, Instance) else compile_problem(problem)
    search = Search(inst, solver, t0, time_limit, workers, seed, progress, cancel)
    SOLVERS[solver].run(search)
    if cancel is not None and cancel():
        search.status = "cancelled"
    best = search.incumbent
    solution = inst.to_solution(best, solver=search.solver)
    violations = validate(inst, solution)
    return Result(
        solution=solution,
        figures=inst.figures(best),
        solver=search.solver,
        status=search.status,
        seconds=time.monotonic() - search.t0,
        first_solution_seconds=search.first if search.first is not None else time.monotonic() - search.t0,
        violations=violations,
        bound=search.bound,
        schedule=best,
    )


def baseline(problem: Problem | Instance, rule: str = "edd") -> Result:
    """The dispatch baseline (``edd`` or ``fifo``) every run is compared with."""
    return solve(problem, solver=rule, time_limit=0)
