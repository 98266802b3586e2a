"""Scheduling, the worker's side: build the problem, solve it beside a heartbeat, save the result; and the check
that fails runs whose worker died. Only jobs.tasks imports this module."""

import datetime as dt
import threading
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from jobs.choices import ScheduleRunStatus
from jobs.models import ScheduleEntry, ScheduleRun
from jobs.schedule_problem import BuiltProblem, schedule_problem_build
from jobs.scheduling.engine import Result, baseline, solve
from jobs.scheduling.io import problem_to_dict
from jobs.scheduling.problem import ProblemError

SCHEDULE_HEARTBEAT_SECONDS = 5
SCHEDULE_STALE_SECONDS = 30  # a running run silent this long lost its worker (beat checks every 15 s)
SCHEDULE_QUEUED_LIMIT = dt.timedelta(minutes=15)


class _Heartbeat(threading.Thread):
    """Beside the solver: says the run is alive, records its progress, and notices a cancel
    (asked by a planner, or the run marked failed by the stale check) without waiting for the
    solver to find a better schedule."""

    def __init__(self, run_id: int, time_limit: int) -> None:
        super().__init__(daemon=True)
        self.run_id, self.time_limit = run_id, time_limit
        self.started = time.monotonic()
        self.best: float | None = None
        self.stop_event, self.cancel_event = threading.Event(), threading.Event()

    def run(self) -> None:
        try:
            while not self.stop_event.wait(SCHEDULE_HEARTBEAT_SECONDS):
                self.beat()
        finally:
            connection.close()

    def beat(self) -> None:
        progress = min(0.99, (time.monotonic() - self.started) / self.time_limit)
        updates = {"heartbeat_at": timezone.now(), "progress": progress}
        if self.best is not None:
            updates["figures"] = {"best_objective": self.best}
        running = ScheduleRun.objects.filter(pk=self.run_id, status=ScheduleRunStatus.RUNNING)
        running.update(**updates)
        if not running.filter(cancel_requested=False).exists():
            self.cancel_event.set()

    def progress(self, elapsed: float, best: float, bound: float | None) -> None:
        self.best = best

    def cancelled(self) -> bool:
        return self.cancel_event.is_set()


def _schedule_run_finish(run_id: int, status: str, message: str) -> None:
    ScheduleRun.objects.filter(pk=run_id, status=ScheduleRunStatus.RUNNING).update(
        status=status, message=message[:2000], finished_at=timezone.now())


def schedule_run_execute(*, run_id: int) -> ScheduleRun:
    """The worker's side: build the problem, solve it with the time limit, write the result in one
    transaction. Status and progress are written as it goes, so the planner sees them. A retried
    delivery of a run that is no longer queued does nothing."""
    with transaction.atomic():
        run = ScheduleRun.objects.select_for_update().get(pk=run_id)
        if run.status != ScheduleRunStatus.QUEUED:
            return run
        run.status, run.started_at, run.heartbeat_at = ScheduleRunStatus.RUNNING, timezone.now(), timezone.now()
        run.save(update_fields=["status", "started_at", "heartbeat_at", "updated_at"])
    parameters = run.parameters
    heartbeat = _Heartbeat(run_id, parameters["time_limit"])
    heartbeat.start()
    try:
        base_run = ScheduleRun.objects.filter(pk=parameters.get("base_run")).first()
        weights = parameters.get("weights")
        built = schedule_problem_build(base_run=base_run, horizon_days=parameters["horizon_days"],
                                       weights=tuple(weights) if weights else None)
        result = solve(built.problem, solver=parameters["solver"], time_limit=parameters["time_limit"],
                       workers=settings.SPINDLE_SCHEDULER_WORKERS, progress=heartbeat.progress,
                       cancel=heartbeat.cancelled)
        edd = baseline(built.problem, "edd") if not heartbeat.cancelled() else None
    except ProblemError as exc:
        _schedule_run_finish(run_id, ScheduleRunStatus.FAILED, f"The problem cannot be scheduled: {exc}")
        return ScheduleRun.objects.get(pk=run_id)
    except Exception as exc:
        _schedule_run_finish(run_id, ScheduleRunStatus.FAILED, f"The scheduler stopped on an internal error: {exc!r}")
        raise
    finally:
        heartbeat.stop_event.set()
        heartbeat.join()
    if heartbeat.cancelled() or edd is None:
        _schedule_run_finish(run_id, ScheduleRunStatus.CANCELLED, "Cancelled; the published schedule is unchanged.")
    elif not result.valid:
        _schedule_run_finish(run_id, ScheduleRunStatus.FAILED,
                             f"The solver's schedule breaks a constraint: {result.violations[0].message}")
    else:
        _schedule_run_save(run_id, built, result, edd)
    return ScheduleRun.objects.get(pk=run_id)


def _figures(result: Result) -> dict:
    f = result.figures
    return {"weighted_tardiness": f.weighted_tardiness, "tardy_jobs": f.tardy_jobs,
            "changeover_minutes": f.changeover_total, "makespan_minutes": f.makespan,
            "solver": result.solver, "status": result.status, "seconds": round(result.seconds, 2)}


@transaction.atomic
def _schedule_run_save(run_id: int, built: BuiltProblem, result: Result, edd: Result) -> None:
    run = ScheduleRun.objects.select_for_update().get(pk=run_id)
    if run.status != ScheduleRunStatus.RUNNING:  # cancelled or declared dead meanwhile: keep nothing
        return
    entries = []
    for machine, sequence in result.solution.by_machine().items():
        for position, (op_id, a) in enumerate(sequence, start=1):
            entries.append(ScheduleEntry(
                run=run, operation_id=built.operation_ids[op_id], machine_id=built.machine_ids[machine],
                starts_at=built.at(a.start), ends_at=built.at(a.end), changeover_minutes=a.changeover,
                sequence=position, locked=op_id in built.locked))
    ScheduleEntry.objects.bulk_create(entries)
    run.status, run.finished_at, run.progress = ScheduleRunStatus.SUCCEEDED, timezone.now(), 1
    run.figures, run.baseline_figures = _figures(result), _figures(edd)
    run.problem = problem_to_dict(built.problem)
    run.parameters = {**run.parameters, "starts_at": built.now.isoformat()}
    run.message = " ".join(built.notes)[:2000]
    run.save()


def schedule_runs_fail_stale(*, now: dt.datetime | None = None) -> int:
    """Runs whose worker died (no heartbeat) or that no worker ever took are marked failed, so a
    planner never waits on a ghost and can start a new run. Beat calls this every 15 seconds."""
    now = now or timezone.now()
    dead = ScheduleRun.objects.filter(status=ScheduleRunStatus.RUNNING,
                                      heartbeat_at__lt=now - dt.timedelta(seconds=SCHEDULE_STALE_SECONDS))
    count = dead.update(status=ScheduleRunStatus.FAILED, finished_at=now,
                        message="The worker running this schedule stopped answering; nothing was kept.")
    never = ScheduleRun.objects.filter(status=ScheduleRunStatus.QUEUED, created_at__lt=now - SCHEDULE_QUEUED_LIMIT)
    count += never.update(status=ScheduleRunStatus.FAILED, finished_at=now,
                          message="No worker took this run; is a worker listening on the scheduling queue?")
    return count
