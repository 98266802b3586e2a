"""Scheduling, the planner's side: ask for a run, cancel it, publish it; lock and move its entries. The worker's
side (executing a run) is in schedule_execution, which only jobs.tasks imports."""

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ApplicationError, Conflict, NotFound
from core.permissions import require_perm
from jobs.choices import ScheduleRunStatus
from jobs.models import JobOperationMachine, ScheduleEntry, ScheduleRun
from jobs.schedule_problem import DEFAULT_HORIZON_DAYS, mode_minutes
from jobs.tasks import schedule_run_execute_task


def schedule_run_request(*, user: User, time_limit: int = 30, solver: str = "auto",
                         horizon_days: int = DEFAULT_HORIZON_DAYS, weights: Sequence[int] | None = None,
                         base_run_id: int | None = None) -> ScheduleRun:
    """Queue a run of the scheduler (its parameters parsed by jobs.inputs.ScheduleRunInput); the worker picks it
    up once this transaction commits. One run at a time: a second request while one is queued or running is
    refused."""
    require_perm(user, "jobs.run_schedule")
    if base_run_id is not None and not ScheduleRun.objects.filter(
            pk=base_run_id, status=ScheduleRunStatus.SUCCEEDED).exists():
        raise ApplicationError(f"Run {base_run_id} is not a finished run to start from.", field="base_run")
    parameters = {"time_limit": time_limit, "solver": solver, "horizon_days": horizon_days,
                  "weights": list(weights) if weights is not None else None, "base_run": base_run_id}
    try:
        with transaction.atomic():
            busy = ScheduleRun.objects.filter(status__in=ScheduleRunStatus.unfinished()).first()
            if busy is not None:
                raise Conflict(f"Run {busy.pk} is {busy.get_status_display().lower()}: wait for it or cancel it.",
                               code="run_in_progress")
            run = ScheduleRun.objects.create(requested_by=user, parameters=parameters)
            transaction.on_commit(lambda: schedule_run_execute_task.delay(run.pk))
    except IntegrityError as exc:  # two planners at once: the constraint let one through
        raise Conflict("Another schedule run was just requested.", code="run_in_progress") from exc
    return run


@transaction.atomic
def schedule_run_cancel(*, user: User, run_id: int) -> ScheduleRun:
    """A queued run is cancelled at once; a running one stops within seconds and keeps nothing."""
    require_perm(user, "jobs.run_schedule")
    run = ScheduleRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"There is no schedule run {run_id}.")
    if run.status == ScheduleRunStatus.QUEUED:
        run.status, run.finished_at = ScheduleRunStatus.CANCELLED, timezone.now()
        run.message = "Cancelled while queued."
    elif run.status == ScheduleRunStatus.RUNNING:
        run.cancel_requested = True
    elif run.status != ScheduleRunStatus.CANCELLED:
        raise Conflict(f"Run {run.pk} has {run.get_status_display().lower()} already.", code="wrong_state")
    run.save()
    return run


@transaction.atomic
def schedule_run_publish(*, user: User, run_id: int) -> ScheduleRun:
    """The run becomes the schedule every dispatch list follows; the one published before steps back."""
    require_perm(user, "jobs.publish_schedule")
    run = ScheduleRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"There is no schedule run {run_id}.")
    if run.published:
        return run
    if run.status != ScheduleRunStatus.SUCCEEDED:
        raise Conflict(f"Run {run.pk} is {run.get_status_display().lower()}: only a finished run can be published.",
                       code="wrong_state")
    if run.edited:
        raise Conflict(f"Entries of run {run.pk} were moved: re-run around them, then publish the new run.",
                       code="edited")
    ScheduleRun.objects.select_for_update().filter(published=True).update(published=False)
    run.published, run.published_at, run.published_by = True, timezone.now(), user
    run.save()
    return run


def _editable_entry(user: User, entry_id: int) -> ScheduleEntry:
    require_perm(user, "jobs.change_scheduleentry")
    entry = (ScheduleEntry.objects.select_for_update(of=("self",)).select_related("run", "operation__job")
             .filter(pk=entry_id).first())
    if entry is None:
        raise NotFound(f"There is no schedule entry {entry_id}.")
    if entry.run.status != ScheduleRunStatus.SUCCEEDED:
        raise Conflict(f"Run {entry.run_id} is not finished.", code="wrong_state")
    return entry


@transaction.atomic
def schedule_entry_lock(*, user: User, entry_id: int, locked: bool) -> ScheduleEntry:
    """A locked entry keeps its machine and start in the next run started from this one."""
    entry = _editable_entry(user, entry_id)
    if entry.locked != locked:
        entry.locked = locked
        entry.save(update_fields=["locked"])
    return entry


@transaction.atomic
def schedule_entry_move(*, user: User, entry_id: int, machine_id: int, starts_at: dt.datetime) -> ScheduleEntry:
    """Put an operation on another eligible machine or at another time, locked there; the planner
    then re-runs from this run so that the rest is scheduled around it."""
    entry = _editable_entry(user, entry_id)
    if entry.run.published:
        raise Conflict("The published schedule drives the floor: re-run from it and move in the new run.",
                       code="published")
    option = (JobOperationMachine.objects.select_related("machine", "operation__job")
              .filter(operation_id=entry.operation_id, machine_id=machine_id, machine__active=True).first())
    if option is None:
        raise ApplicationError(f"Operation {entry.operation} cannot run on that machine.", field="machine")
    if starts_at < timezone.now():
        raise ApplicationError("Choose a start in the future.", field="starts_at")
    entry.machine_id, entry.starts_at, entry.locked = machine_id, starts_at, True
    entry.ends_at = starts_at + dt.timedelta(minutes=mode_minutes(option))
    entry.save(update_fields=["machine", "starts_at", "ends_at", "locked"])
    ScheduleRun.objects.filter(pk=entry.run_id).update(edited=True)
    return entry
