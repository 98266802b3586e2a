"""Running a CP-SAT model, for every model of the engine: the time limit, workers and seed, a
progress report per solution, and a watcher thread that stops the search once ``cancel()`` says so
(CP-SAT calls back only when it finds a solution, which can be minutes apart on a hard model)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ortools.sat.python import cp_model

from ..instance import Schedule

# called with (elapsed seconds, (weighted tardiness, changeover minutes, makespan), a bound or None)
Progress = Callable[[float, tuple[int, int, int], float | None], None]
Cancel = Callable[[], bool]
CANCEL_POLL = 0.1  # seconds between two looks at ``cancel()`` while CP-SAT searches


@dataclass
class SubResult:
    """What one CP-SAT solve gave: a schedule (``None`` when it found none) and how it went."""

    schedule: Schedule | None
    status: str  # CP-SAT's status name: "OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN"…
    objective: float | None = None
    bound: float | None = None
    first_solution_seconds: float | None = None
    solutions: int = 0
    wall: float = 0.0


class _Callback(cp_model.CpSolverSolutionCallback):
    """Counts solutions, reports each one's figures, and stops the search once cancelled."""

    def __init__(
        self,
        figures: Callable[[cp_model.CpSolverSolutionCallback], tuple[int, int, int]],
        progress: Progress | None,
        cancel: Cancel | None,
        t0: float,
    ):
        super().__init__()
        self.figures = figures
        self.progress = progress
        self.cancel = cancel
        self.t0 = t0
        self.first: float | None = None
        self.solutions = 0

    def on_solution_callback(self) -> None:
        self.solutions += 1
        if self.first is None:
            self.first = time.monotonic() - self.t0
        if self.progress is not None:
            self.progress(time.monotonic() - self.t0, self.figures(self), self.best_objective_bound)
        if self.cancel is not None and self.cancel():
            self.stop_search()


def run_model(
    model: cp_model.CpModel,
    extract: Callable[[cp_model.CpSolver], Schedule],
    figures: Callable[[cp_model.CpSolverSolutionCallback], tuple[int, int, int]],
    *,
    time_limit: float,
    workers: int = 8,
    seed: int = 0,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    t0: float | None = None,
    extra: Mapping[str, object] | None = None,
) -> SubResult:
    """Solve ``model`` within ``time_limit`` seconds; ``extract`` reads the schedule from the solver.

    ``figures`` reads (weighted tardiness, changeover minutes, makespan) from a solution for
    ``progress``, whose elapsed seconds count from ``t0`` (default: now); ``extra`` sets further
    CP-SAT parameters by name.
    """
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = max(0.05, time_limit)
    p.num_workers = max(1, workers)
    p.random_seed = seed
    p.log_search_progress = False
    for key, value in (extra or {}).items():
        setattr(p, key, value)
    started = time.monotonic()
    callback = _Callback(figures, progress, cancel, started if t0 is None else t0)
    stop = threading.Event()
    watcher = None
    if cancel is not None:

        def watch() -> None:
            while not stop.wait(CANCEL_POLL):
                if cancel():
                    solver.stop_search()
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
    try:
        status = solver.solve(model, callback)
    finally:
        stop.set()
        if watcher is not None:
            watcher.join()
    wall = time.monotonic() - started
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return SubResult(None, name, wall=wall)
    return SubResult(
        extract(solver),
        name,
        solver.objective_value,
        solver.best_objective_bound,
        callback.first,
        callback.solutions,
        wall,
    )
