import datetime as dt
import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone

from core.errors import ApplicationError, Conflict, NotFound
from core.idempotency import idempotency_claim
from core.permissions import require_perm
from core.services import record_create
from jobs.choices import (
    OPERATION_ACTIONS,
    Activity,
    FirstArticleRequirement,
    JobStatus,
    MaterialStatus,
    NCProgramStatus,
    OperationStatus,
    PartRevisionStatus,
    ScheduleRunStatus,
    StepKind,
)
from jobs.locks import lock_job, lock_machine_and_operation
from jobs.models import (
    Job,
    JobOperation,
    JobOperationMachine,
    LabourEntry,
    NCProgram,
    OperationEvent,
    PartRevision,
    ProductionEntry,
    Routing,
    RoutingStep,
    ScheduleEntry,
    ScheduleRun,
    ScrapReason,
)
from jobs.schedule_problem import DEFAULT_HORIZON_DAYS, BuiltProblem, mode_minutes, schedule_problem_build
from jobs.scheduling.engine import SOLVERS, baseline, solve
from jobs.scheduling.io import problem_to_dict
from jobs.scheduling.problem import ProblemError
from jobs.selectors import operation_quantities
from machines.choices import MachineState, StateSource
from machines.models import DowntimeReason, Machine
from machines.services import fixture_mount, machine_setup_record, machine_state_change


@transaction.atomic
def part_revision_release(*, part_revision_id: int, user) -> PartRevision:
    """A released revision can be made; the other released revisions of the part stay usable."""
    require_perm(user, "jobs.change_partrevision")
    revision = PartRevision.objects.select_for_update().get(pk=part_revision_id)
    if revision.status == PartRevisionStatus.RELEASED:
        return revision
    if revision.status == PartRevisionStatus.OBSOLETE:
        raise Conflict(f"{revision} is obsolete and cannot be released again.")
    revision.status = PartRevisionStatus.RELEASED
    revision._history_user = user
    revision.save(update_fields=["status", "updated_at"])
    return revision


def next_job_number(*, today: dt.date) -> str:
    prefix = f"WO{today:%y}-"
    last = (
        Job.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True).first()
    )
    sequence = int(last.removeprefix(prefix)) + 1 if last and last.removeprefix(prefix).isdigit() else 1
    return f"{prefix}{sequence:05d}"


def job_create(*, user, part_revision: PartRevision, quantity: int, due_date: dt.date, number: str = "",
               **fields) -> Job:
    """A planned job; without a number it gets the next WO number of the year."""
    data = {"part_revision": part_revision, "quantity": quantity, "due_date": due_date, **fields}
    data["number"] = number or next_job_number(today=timezone.localdate())
    return record_create(model=Job, user=user, data=data)


def routing_current(part_revision: PartRevision) -> Routing | None:
    return part_revision.routings.order_by("-version").first()


def step_machine_options(step: RoutingStep) -> list[dict]:
    """Eligible machines of a step, ranked: its listed machines, else every active machine of its
    work center. Each with the setup and cycle minutes and hourly rate that apply on it."""
    listed = [option for option in step.eligible_machines.all() if option.machine.active]
    if listed:
        pairs = [(option.machine, option) for option in sorted(listed, key=lambda option: option.rank)]
    else:
        machines = Machine.objects.filter(work_center_id=step.work_center_id, active=True).order_by("code")
        pairs = [(machine, None) for machine in machines]
    return [
        {
            "machine": machine,
            "rank": rank,
            "setup_minutes": option.setup_minutes if option and option.setup_minutes is not None
            else step.setup_minutes,
            "cycle_minutes": option.cycle_minutes if option and option.cycle_minutes is not None
            else step.cycle_minutes,
            "hourly_rate": machine.hourly_rate,
        }
        for rank, (machine, option) in enumerate(pairs, start=1)
    ]


FROZEN_STEP_FIELDS = (
    "operation_number", "name", "work_center_id", "kind", "setup_minutes", "cycle_minutes", "parts_per_cycle",
    "min_wait_minutes", "fixture_id", "material", "tool_kit", "nc_program_id", "instructions", "vendor",
    "lead_days", "outside_cost",
)


@transaction.atomic
def job_release(*, job_id: int, user) -> Job:
    """Freeze the part revision's current routing into operations, each with its eligible machines."""
    require_perm(user, "jobs.release_job")
    job = lock_job(job_id)
    if job.status != JobStatus.PLANNED:
        raise Conflict(f"Job {job.number} is already {job.get_status_display().lower()}.", code="already_released")
    revision = job.part_revision
    if revision.status != PartRevisionStatus.RELEASED:
        raise Conflict(f"{revision} is {revision.get_status_display().lower()}, not released.",
                       code="revision_not_released", field="part_revision")
    routing = routing_current(revision)
    steps = list(routing.steps.prefetch_related("eligible_machines__machine").order_by("operation_number")) \
        if routing else []
    if not steps:
        raise Conflict(f"{revision} has no routing steps to release.", code="routing_empty")

    options_by_step = {}
    for step in steps:
        options = step_machine_options(step) if step.kind == StepKind.INTERNAL else []
        if step.kind == StepKind.INTERNAL and not options:
            raise Conflict(f"Step {step} has no active machine that can run it.", code="no_eligible_machine")
        options_by_step[step.pk] = options

    for step in steps:
        frozen = {name: getattr(step, name) for name in FROZEN_STEP_FIELDS}
        operation = JobOperation(job=job, routing_step=step, **frozen)
        operation.full_clean(exclude=["job"])
        operation._history_user = user
        operation.save()
        JobOperationMachine.objects.bulk_create(
            JobOperationMachine(operation=operation, **option) for option in options_by_step[step.pk]
        )
        _first_article_apply(operation, user, check_machine=False)

    job.routing = routing
    job.status = JobStatus.RELEASED
    job.released_at = timezone.now()
    job.released_by = user
    job._history_user = user
    job.save(update_fields=["routing", "status", "released_at", "released_by", "updated_at"])
    job_operations_refresh_ready(job=job)
    return job


def job_operations_refresh_ready(*, job: Job) -> None:
    """Derive `ready`: the job is released, its material is in, and the previous operation is done."""
    if job.status not in (JobStatus.RELEASED, JobStatus.IN_PROGRESS):
        return
    material_in = job.material_status in MaterialStatus.available()
    previous_done = True
    for operation in job.operations.order_by("operation_number"):
        if operation.status in (OperationStatus.PENDING, OperationStatus.READY):
            wanted = OperationStatus.READY if material_in and previous_done else OperationStatus.PENDING
            if operation.status != wanted:
                operation.status = wanted
                operation.save(update_fields=["status", "updated_at"])
        previous_done = operation.status == OperationStatus.DONE


# --- The life of an operation -------------------------------------------------------------------
# Each action is a function of the locked operation (and its machine) that decides, writes and
# returns what it changed; `operation_action` wraps it in the steps every action shares.

MACHINE_STATE_OF = {
    OperationStatus.SETUP: MachineState.SETUP,
    OperationStatus.FIRST_ARTICLE: MachineState.SETUP,
    OperationStatus.RUNNING: MachineState.RUNNING,
}
ACTIVITY_OF = {
    OperationStatus.SETUP: Activity.SETUP,
    OperationStatus.FIRST_ARTICLE: Activity.SETUP,
    OperationStatus.RUNNING: Activity.RUN,
}


@dataclass(frozen=True)
class ActionContext:
    operation: JobOperation
    machine: Machine | None
    user: object
    at: dt.datetime
    source: str


def operation_action(action: str, *, perm: str = "jobs.run_operation"):
    """The steps every operation action shares: permission, idempotency key, row locks in order,
    the decision itself, the history user, and an OperationEvent saying who did what where."""

    def wrap(decide: Callable[..., dict | None]) -> Callable[..., JobOperation]:
        @functools.wraps(decide)
        @transaction.atomic
        def service(*, operation_id: int, user, terminal: str = "", idempotency_key: str | None = None,
                    source: str = StateSource.TERMINAL, machine_id: int | None = None, **arguments) -> JobOperation:
            require_perm(user, perm)
            if idempotency_claim(key=idempotency_key, user=user, action=action, target_id=operation_id):
                return JobOperation.objects.get(pk=operation_id)
            machine, operation = lock_machine_and_operation(operation_id=operation_id, machine_id=machine_id)
            label, allowed = OPERATION_ACTIONS[action]
            if operation.status not in allowed:
                raise Conflict(f"Operation {operation} is {operation.get_status_display().lower()}: "
                               f"“{label}” does not apply now.", code="wrong_state")
            before = operation.status
            values = _field_values(operation)
            context = ActionContext(operation, machine, user, timezone.now(), source)
            details = decide(context, **arguments) or {}
            _operation_save(operation, user, changed=_changed_fields(operation, values))
            if operation.status != before:
                _job_follow(operation, user)
            OperationEvent.objects.create(operation=operation, action=action, user=user, terminal=terminal[:50],
                                          at=context.at, from_status=before, to_status=operation.status,
                                          details=details)
            return operation

        return service

    return wrap


def _field_values(operation: JobOperation) -> dict[str, object]:
    return {field.attname: getattr(operation, field.attname) for field in operation._meta.concrete_fields}


def _changed_fields(operation: JobOperation, before: dict[str, object]) -> list[str]:
    return [field.name for field in operation._meta.concrete_fields
            if getattr(operation, field.attname) != before[field.attname]]


def _operation_save(operation: JobOperation, user, *, changed: list[str]) -> None:
    """Validate what the action changed and write only that (and updated_at, which the board's and the dispatch
    list's versions read), with its history row. The rest of the row was valid when it was read under the lock:
    checking all of it again on every action (six foreign keys, the unique number, the check constraint, ~10
    queries) found nothing new. An action that changed nothing of the operation (a report that does not finish
    it) leaves its row alone: its own rows and the OperationEvent record it."""
    if not changed:
        return
    exclude = [field.name for field in operation._meta.concrete_fields if field.name not in changed]
    operation.full_clean(exclude=exclude)
    operation._history_user = user
    operation.save(update_fields=[*changed, "updated_at"])


def _labour_close(operation: JobOperation, at: dt.datetime, *, activity: str | None = None) -> None:
    entries = LabourEntry.objects.filter(operation=operation, ended_at__isnull=True)
    if activity:
        entries = entries.filter(activity=activity)
    entries.update(ended_at=at)


def _labour_open(operation: JobOperation, operator, machine: Machine, activity: str, at: dt.datetime) -> None:
    """The operator works `activity` on the operation from `at`; other activities on it stop."""
    _labour_close(operation, at, activity=Activity.RUN if activity == Activity.SETUP else Activity.SETUP)
    open_entry = LabourEntry.objects.filter(operation=operation, operator=operator, ended_at__isnull=True)
    if not open_entry.exists():
        LabourEntry.objects.create(operator=operator, operation=operation, machine=machine, activity=activity,
                                   started_at=at)


def _occupy(context: ActionContext, status: str, operator) -> None:
    """Put the operation in an active status on its machine: the machine's state and the labour follow."""
    operation, machine = context.operation, context.machine
    machine_state_change(machine_id=machine.pk, state=MACHINE_STATE_OF[status], user=context.user, at=context.at,
                         source=context.source)
    _labour_open(operation, operator, machine, ACTIVITY_OF[status], context.at)
    operation.status = status


def _vacate(context: ActionContext, machine_state: str = MachineState.IDLE, reason=None) -> None:
    _labour_close(context.operation, context.at)
    machine_state_change(machine_id=context.machine.pk, state=machine_state, reason=reason, user=context.user,
                         at=context.at, source=context.source)




def _finish(context: ActionContext) -> None:
    if context.machine is not None:
        _vacate(context)
    context.operation.status = OperationStatus.DONE
    context.operation.resume_status, context.operation.pause_reason = "", None


def _job_follow(operation: JobOperation, user) -> None:
    """The job follows its operations: in progress once one has started, complete when all are done;
    and the next operation becomes ready."""
    job = lock_job(operation.job_id)
    statuses = set(job.operations.values_list("status", flat=True))
    status = job.status
    if statuses == {OperationStatus.DONE}:
        status = JobStatus.COMPLETE
    elif job.status == JobStatus.RELEASED and statuses - {OperationStatus.PENDING, OperationStatus.READY}:
        status = JobStatus.IN_PROGRESS
    if status != job.status:
        job.status = status
        job._history_user = user
        job.save(update_fields=["status", "updated_at"])
    job_operations_refresh_ready(job=job)


@operation_action("start_setup")
def operation_start_setup(context: ActionContext) -> dict:
    operation, machine = context.operation, context.machine
    if operation.kind != StepKind.INTERNAL:
        raise Conflict(f"{operation} is outside processing: send it to the vendor instead.", code="wrong_state")
    if machine is None:
        raise ApplicationError("Choose the machine to set up on.", field="machine")
    if not operation.machine_options.filter(machine=machine).exists():
        raise Conflict(f"{machine.code} is not one of the machines that can run {operation}.", field="machine",
                       code="not_eligible")
    busy = JobOperation.objects.filter(machine=machine, status__in=OperationStatus.active()).first()
    if busy is not None:
        raise Conflict(f"{machine.code} is busy with {busy}.", code="machine_busy")
    if operation.fixture_id:
        fixture = operation.fixture
        if fixture.mounted_on_id not in (None, machine.pk) and JobOperation.objects.filter(
            machine_id=fixture.mounted_on_id, fixture=fixture, status__in=OperationStatus.active()
        ).exists():
            raise Conflict(f"Fixture {fixture.code} is mounted on {fixture.mounted_on.code} for work in progress.",
                           field="fixture", code="fixture_in_use")
        fixture_mount(fixture_id=fixture.pk, machine=machine)
    machine_setup_record(machine=machine, fixture=operation.fixture.code if operation.fixture_id else "",
                         material=operation.material, tool_kit=operation.tool_kit,
                         program=operation.nc_program.program_number if operation.nc_program_id else "")
    operation.machine = machine
    _first_article_apply(operation, context.user, check_machine=True)  # now the machine is known
    _occupy(context, OperationStatus.SETUP, context.user)
    return {"machine": machine.code}


@operation_action("first_piece")
def operation_first_piece(context: ActionContext) -> dict:
    operation = context.operation
    if not operation.production_gate_open:
        operation.status = OperationStatus.FIRST_ARTICLE  # waits here for the inspector's approval
        return {"first_article": operation.first_article}
    _occupy(context, OperationStatus.RUNNING, context.user)
    return {}


@operation_action("start_run")
def operation_start_run(context: ActionContext) -> dict:
    operation = context.operation
    if not operation.production_gate_open:
        raise Conflict(f"{operation} waits for its first article to be approved.", code="first_article_pending")
    _occupy(context, OperationStatus.RUNNING, context.user)
    return {}


@operation_action("report")
def operation_report(context: ActionContext, *, good: int = 0, scrap: int = 0, rework: int = 0,
                     scrap_reason: ScrapReason | None = None, confirm_overrun: bool = False) -> dict:
    """Good, scrap and rework pieces since the last report; the operation is done when good and scrap
    reach the job's quantity."""
    operation = context.operation
    if not operation.production_gate_open:
        raise Conflict(f"{operation} waits for its first article to be approved.", code="first_article_pending")
    if min(good, scrap, rework) < 0:
        raise ApplicationError("Quantities cannot be negative.", field="good" if good < 0 else "scrap")
    if good + scrap + rework == 0:
        raise ApplicationError("Report at least one piece.", field="good")
    if scrap and scrap_reason is None:
        raise ApplicationError("Scrap needs a reason.", field="scrap_reason")
    totals = operation_quantities(operation)
    quantity = operation.job.quantity
    if totals["good"] + good > quantity and not confirm_overrun:
        raise Conflict(f"That makes {totals['good'] + good} good of {quantity} ordered; confirm the over-run "
                       "to report it.", field="good", code="overrun")
    entry = ProductionEntry(operator=context.user, operation=operation, machine=context.machine,
                            quantity_good=good, quantity_scrap=scrap, quantity_rework=rework,
                            scrap_reason=scrap_reason if scrap else None, recorded_at=context.at)
    # Its keys are rows read (and locked) just now, and the checks above are its check constraints, which the
    # database enforces too: validating them again here took 12 queries of each report.
    entry.full_clean(exclude=["operator", "operation", "machine", "scrap_reason"], validate_constraints=False)
    entry.save()
    if totals["good"] + good + totals["scrap"] + scrap >= quantity:
        _finish(context)
    return {"good": good, "scrap": scrap, "rework": rework,
            "scrap_reason": scrap_reason.code if scrap_reason and scrap else ""}


@operation_action("pause")
def operation_pause(context: ActionContext, *, reason: DowntimeReason | None) -> dict:
    operation = context.operation
    if reason is None:
        raise ApplicationError("Say why the machine stops.", field="reason")
    state = MachineState.PLANNED_DOWN if reason.planned else MachineState.DOWN
    _vacate(context, state, reason)
    operation.resume_status, operation.pause_reason = operation.status, reason
    operation.status = OperationStatus.PAUSED
    return {"reason": reason.code}


@operation_action("resume")
def operation_resume(context: ActionContext) -> dict:
    operation = context.operation
    _occupy(context, operation.resume_status, context.user)
    operation.resume_status, operation.pause_reason = "", None
    return {}


@operation_action("complete")
def operation_complete(context: ActionContext, *, short_reason: str = "") -> dict:
    """Done. Fewer good and scrap pieces than the job's quantity is a short close and needs a reason."""
    operation = context.operation
    totals = operation_quantities(operation)
    if totals["good"] + totals["scrap"] < operation.job.quantity:
        if not short_reason.strip():
            raise ApplicationError(f"Only {totals['good'] + totals['scrap']} of {operation.job.quantity} pieces "
                                   "are reported: give a reason to close short.", field="short_reason")
        operation.closed_short_reason = short_reason.strip()
    _finish(context)
    return {"short_reason": operation.closed_short_reason}


@operation_action("hold", perm="jobs.hold_operation")
def operation_hold(context: ActionContext, *, reason: str) -> dict:
    operation = context.operation
    if not reason.strip():
        raise ApplicationError("Say why the operation is held.", field="reason")
    if operation.status in MACHINE_STATE_OF:
        _vacate(context)  # a paused machine stays down for its own reason
    operation.resume_status = operation.status
    operation.status = OperationStatus.ON_HOLD
    return {"reason": reason.strip()}


@operation_action("release_hold", perm="jobs.hold_operation")
def operation_release_hold(context: ActionContext) -> dict:
    operation = context.operation
    back = operation.resume_status
    if back in MACHINE_STATE_OF:
        busy = JobOperation.objects.filter(machine=context.machine, status__in=OperationStatus.active()).first()
        if busy is not None:
            raise Conflict(f"{context.machine.code} is busy with {busy} now.", code="machine_busy")
        # The operator who was working it carries on.
        last = operation.labour_entries.order_by("-started_at").first()
        _occupy(context, back, last.operator if last else context.user)
    else:
        operation.status = back
    operation.resume_status = ""
    return {"back_to": back}


@operation_action("send")
def operation_send(context: ActionContext, *, vendor: str = "", sent_on: dt.date | None = None) -> dict:
    operation = context.operation
    if operation.kind != StepKind.OUTSIDE:
        raise Conflict(f"{operation} is done in house; only outside processing is sent.", code="wrong_state")
    operation.vendor = vendor.strip() or operation.vendor
    operation.sent_on = sent_on or timezone.localdate()
    operation.status = OperationStatus.SENT
    return {"vendor": operation.vendor, "sent_on": operation.sent_on.isoformat()}


@operation_action("receive")
def operation_receive(context: ActionContext, *, quantity: int, certificate_number: str) -> dict:
    operation = context.operation
    if quantity <= 0:
        raise ApplicationError("Enter how many pieces came back.", field="quantity")
    if not certificate_number.strip():
        raise ApplicationError("Enter the vendor's certificate number.", field="certificate_number")
    ProductionEntry.objects.create(operator=context.user, operation=operation, quantity_good=quantity,
                                   recorded_at=context.at, note=f"Received from {operation.vendor}")
    operation.vendor_certificate_number = certificate_number.strip()
    _finish(context)
    return {"quantity": quantity, "certificate_number": operation.vendor_certificate_number}


@transaction.atomic
def operation_production_gate_set(*, operation_id: int, user, open_gate: bool) -> JobOperation:
    """Called by inspection when the first article of an operation waiting for it is approved (the gate
    opens) or rejected (it stays closed and the operation goes back to setup for a new first piece)."""
    require_perm(user, "inspection.approve_firstarticlereport")
    _, operation = lock_machine_and_operation(operation_id=operation_id)
    waiting = OperationStatus.FIRST_ARTICLE
    if operation.status != waiting and operation.resume_status != waiting:
        raise Conflict(f"Operation {operation} is not waiting for a first article.", code="wrong_state")
    operation.production_gate_open = open_gate
    if not open_gate:
        if operation.status == waiting:
            operation.status = OperationStatus.SETUP
        else:
            operation.resume_status = OperationStatus.SETUP
    operation._history_user = user
    operation.save()
    return operation


# The action services by name, for the API's and the terminal's one dispatcher each.
OPERATION_SERVICES: dict[str, Callable[..., JobOperation]] = {
    "start_setup": operation_start_setup,
    "first_piece": operation_first_piece,
    "start_run": operation_start_run,
    "report": operation_report,
    "pause": operation_pause,
    "resume": operation_resume,
    "complete": operation_complete,
    "hold": operation_hold,
    "release_hold": operation_release_hold,
    "send": operation_send,
    "receive": operation_receive,
}


# --- Finished work imported in bulk -------------------------------------------------------------
# Recording finished work one operation at a time costs some forty queries (each entry's full_clean
# checks its keys and constraints in the database) and takes one labour span per activity. A backfill of
# months of work (a shop moving to Spindle, the demo's history) needs thousands, and a run that went on
# over several shifts has one labour span per shift, each with its own operator.


@dataclass(frozen=True)
class LabourSpan:
    operator: object
    activity: str
    started_at: dt.datetime
    ended_at: dt.datetime


@dataclass(frozen=True)
class FinishedOperation:
    """An operation finished in the past. An outside-processing one has no machine and no labour."""

    operation_id: int
    machine_id: int | None
    operator: object  # who reported the quantities
    labour: tuple[LabourSpan, ...]
    finished_at: dt.datetime
    good: int
    scrap: int = 0
    scrap_reason: ScrapReason | None = None


@transaction.atomic
def operations_import_finished(*, records: list[FinishedOperation], user,
                               running: dict[int, list[tuple[dt.datetime, dt.datetime]]] | None = None) -> int:
    """Record operations finished in the past (a shop moving to Spindle, the demo's history): checked
    in Python on rows read together, the labour and production entries written in bulk, then each job follows.
    `running` (operation id -> its running intervals, in order) reports the pieces as they were made: one
    production entry at the end of each interval, good and scrap in proportion to its running time, so that
    a day or a week counts the parts its running time made. Without it, one entry at `finished_at`."""
    require_perm(user, "jobs.run_operation")
    ids = sorted({record.operation_id for record in records})
    operations = {operation.pk: operation
                  for operation in JobOperation.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    eligible = set(JobOperationMachine.objects.filter(operation_id__in=ids).values_list("operation_id", "machine_id"))
    labour, production, events = [], [], []
    for record in records:
        operation = operations.get(record.operation_id)
        if operation is None:
            raise ApplicationError(f"Operation {record.operation_id} does not exist.")
        if operation.status not in (OperationStatus.PENDING, OperationStatus.READY):
            raise Conflict(f"Operation {operation} is {operation.get_status_display().lower()}; "
                           "only an operation not started yet can be recorded as completed.")
        if record.machine_id is not None and (operation.pk, record.machine_id) not in eligible:
            raise Conflict(f"Machine {record.machine_id} is not eligible for {operation}.", field="machine")
        if record.good < 0 or record.scrap < 0 or record.good + record.scrap == 0:
            raise ApplicationError(f"Report at least one piece for {operation}.", field="good")
        if record.scrap and record.scrap_reason is None:
            raise ApplicationError(f"Scrap needs a reason ({operation}).", field="scrap_reason")
        for span in record.labour:
            if span.ended_at < span.started_at or span.ended_at > record.finished_at:
                raise ApplicationError(f"A labour span of {operation} ends before it starts or after the end.")
            labour.append(LabourEntry(operator=span.operator, operation=operation, machine_id=record.machine_id,
                                      activity=span.activity, started_at=span.started_at, ended_at=span.ended_at))
        intervals = (running or {}).get(operation.pk) or [(record.finished_at, record.finished_at)]
        if intervals[-1][1] > record.finished_at or any(end < start for start, end in intervals):
            raise ApplicationError(f"A running interval of {operation} ends before it starts or after the end.")
        total = sum((end - start).total_seconds() for start, end in intervals)
        made, good_before, scrap_before = 0.0, 0, 0
        for index, (start, end) in enumerate(intervals):
            made += (end - start).total_seconds()
            share = 1.0 if index == len(intervals) - 1 or not total else made / total
            # Cumulative counts rounded: every piece once, none negative.
            good, scrap = int(record.good * share + 0.5), int(record.scrap * share + 0.5)
            if good > good_before or scrap > scrap_before:
                production.append(ProductionEntry(
                    operator=record.operator, operation=operation, machine_id=record.machine_id,
                    quantity_good=good - good_before, quantity_scrap=scrap - scrap_before,
                    scrap_reason=record.scrap_reason if scrap > scrap_before else None, recorded_at=end))
            good_before, scrap_before = good, scrap
        # The action log says when it was done (delivery reports read the completion from it).
        events.append(OperationEvent(operation=operation, action="import_finished", user=user, at=record.finished_at,
                                     from_status=operation.status, to_status=OperationStatus.DONE,
                                     details={"good": record.good, "scrap": record.scrap}))
        # Done in memory already, so that the same operation twice in `records` is refused above.
        operation.machine_id, operation.status = record.machine_id, OperationStatus.DONE
        # It made its parts, so its first article (if it needed one) was approved: a closed gate would make
        # the first-article rules take it for an unfinished one and ask every later job for a full one.
        operation.production_gate_open = True
    LabourEntry.objects.bulk_create(labour, batch_size=1000)
    ProductionEntry.objects.bulk_create(production, batch_size=1000)
    OperationEvent.objects.bulk_create(events, batch_size=1000)
    one_per_job = {}
    for operation in operations.values():
        operation._history_user = user
        operation.save(update_fields=["machine", "status", "production_gate_open", "updated_at"])
        one_per_job.setdefault(operation.job_id, operation)
    for job_id in sorted(one_per_job):
        _job_follow(one_per_job[job_id], user)
    return len(records)


# --- First articles: when one is required, and what its approval proves ---------------------------
# Added for inspection (issue 5). Everything the AS9102 triggers need is jobs-side history: earlier
# operations of the same part and operation number, whether their production gate opened (it opens
# only when no first article was required or when one was approved), what they ran with, and when
# they last produced. So the derivation lives here and jobs still never imports inspection.
# `job_release` should call `job_first_articles_derive` after creating the operations (it sets FULL
# from the step flag today); `operation_start_setup` may call `operation_first_article_derive` once
# the machine is known, for the machine trigger.

FIRST_ARTICLE_LAPSE = dt.timedelta(days=730)  # AS9102 4.6 d: two years without production


@dataclass(frozen=True)
class FirstArticleFacts:
    """What an operation is about to run with. `machine_id` is None while no machine is chosen."""

    part_revision_id: int
    drawing_revision: str
    operation_number: int
    needs_first_article: bool
    nc_program_id: int | None
    routing_signature: tuple
    fixture_id: int | None
    machine_id: int | None = None


@dataclass(frozen=True)
class PastRun:
    """An earlier operation of the same part and operation number."""

    job_number: str
    part_revision_id: int
    drawing_revision: str
    required_first_article: bool
    gate_open: bool
    started: bool
    produced: bool
    last_produced_at: dt.datetime | None
    nc_program_id: int | None
    routing_signature: tuple
    fixture_id: int | None
    machine_id: int | None


def routing_signature(operation: JobOperation | RoutingStep) -> tuple:
    """The routing-step content whose change can change the part (the NC program is checked apart)."""
    return (operation.kind, operation.work_center_id, operation.material, operation.tool_kit,
            operation.instructions.strip())


def first_article_requirement(facts: FirstArticleFacts, history: list[PastRun], *, now: dt.datetime,
                              check_machine: bool = True) -> tuple[str, str]:
    """(requirement, reason) for one operation after AS9102 Rev C 4.6. `history` is the earlier
    operations of the same part and operation number, newest first. A change of the part's design
    (first production, new drawing revision, lapse, an unfinished first article) needs a full first
    article; a change of how one operation makes it (NC program, routing step, machine, fixture) a
    partial one of the characteristics that operation produces."""
    if not facts.needs_first_article:
        return FirstArticleRequirement.NONE, ""
    same_revision = [run for run in history if run.part_revision_id == facts.part_revision_id]
    unfinished = next((run for run in same_revision
                       if run.required_first_article and run.started and not run.gate_open), None)
    if unfinished is not None:
        return FirstArticleRequirement.FULL, f"The first article of {unfinished.job_number} was not completed."
    produced = [run for run in same_revision if run.produced and run.gate_open]
    if not produced:
        earlier = next((run for run in history if run.produced and run.gate_open), None)
        if earlier is not None and earlier.drawing_revision != facts.drawing_revision:
            return FirstArticleRequirement.FULL, (f"New drawing revision {facts.drawing_revision} "
                                                  f"(last produced at {earlier.drawing_revision}).")
        return FirstArticleRequirement.FULL, "First production of this part revision."
    last_at = max((run.last_produced_at for run in produced if run.last_produced_at), default=None)
    if last_at is not None and now - last_at > FIRST_ARTICLE_LAPSE:
        return FirstArticleRequirement.FULL, (f"More than two years since the last production "
                                              f"({last_at:%Y-%m-%d}).")
    last = produced[0]
    if last.nc_program_id != facts.nc_program_id:
        return FirstArticleRequirement.PARTIAL, f"NC program changed since {last.job_number}."
    if last.routing_signature != facts.routing_signature:
        return FirstArticleRequirement.PARTIAL, f"Routing step changed since {last.job_number}."
    if last.fixture_id != facts.fixture_id:
        return FirstArticleRequirement.PARTIAL, f"Different fixture than {last.job_number}."
    if check_machine and facts.machine_id is not None and last.machine_id != facts.machine_id:
        return FirstArticleRequirement.PARTIAL, f"Different machine than {last.job_number}."
    return FirstArticleRequirement.NONE, f"Repeat of {last.job_number} with the same set-up."


def _past_runs(operation: JobOperation) -> list[PastRun]:
    earlier = (
        JobOperation.objects.filter(job__part_revision__part_id=operation.job.part_revision.part_id,
                                    operation_number=operation.operation_number)
        .exclude(pk=operation.pk).exclude(job_id=operation.job_id)
        .select_related("job__part_revision", "nc_program")
        .annotate(last_produced_at=Max("production_entries__recorded_at",
                                       filter=Q(production_entries__quantity_good__gt=0)),
                  produced_good=Sum("production_entries__quantity_good"))
        .order_by("-job__released_at", "-pk")
    )
    not_started = (OperationStatus.PENDING, OperationStatus.READY)
    return [
        PastRun(job_number=run.job.number, part_revision_id=run.job.part_revision_id,
                drawing_revision=run.job.part_revision.drawing_revision,
                required_first_article=run.first_article != FirstArticleRequirement.NONE,
                gate_open=run.production_gate_open, started=run.status not in not_started,
                produced=bool(run.produced_good), last_produced_at=run.last_produced_at,
                nc_program_id=run.nc_program_id, routing_signature=routing_signature(run),
                fixture_id=run.fixture_id, machine_id=run.machine_id)
        for run in earlier
    ]


def _first_article_facts(operation: JobOperation) -> FirstArticleFacts:
    step = operation.routing_step
    return FirstArticleFacts(
        part_revision_id=operation.job.part_revision_id,
        drawing_revision=operation.job.part_revision.drawing_revision,
        operation_number=operation.operation_number,
        needs_first_article=bool(step and step.needs_first_article) and operation.kind == StepKind.INTERNAL,
        nc_program_id=operation.nc_program_id, routing_signature=routing_signature(operation),
        fixture_id=operation.fixture_id, machine_id=operation.machine_id,
    )


def _first_article_apply(operation: JobOperation, user, *, check_machine: bool) -> JobOperation:
    check_machine = check_machine and getattr(settings, "SPINDLE_FIRST_ARTICLE_ON_MACHINE_CHANGE", True)
    requirement, reason = first_article_requirement(_first_article_facts(operation), _past_runs(operation),
                                                    now=timezone.now(), check_machine=check_machine)
    operation.first_article, operation.first_article_reason = requirement, reason[:200]
    operation.production_gate_open = requirement == FirstArticleRequirement.NONE
    operation._history_user = user
    operation.save(update_fields=["first_article", "first_article_reason", "production_gate_open", "updated_at"])
    return operation


@transaction.atomic
def job_first_articles_derive(*, job_id: int, user) -> list[JobOperation]:
    """Set each not-yet-started operation's first-article requirement and reason, and close its
    production gate when one is needed. Meant to run inside `job_release`, after the operations exist."""
    require_perm(user, "jobs.release_job")
    job = lock_job(job_id)
    operations = list(job.operations.select_for_update().filter(
        status__in=(OperationStatus.PENDING, OperationStatus.READY)).order_by("pk"))
    return [_first_article_apply(operation, user, check_machine=False) for operation in operations]


@transaction.atomic
def operation_first_article_derive(*, operation_id: int, user) -> JobOperation:
    """Derive again once the machine is known (at setup): a different machine than the last
    approved run needs a partial first article (SPINDLE_FIRST_ARTICLE_ON_MACHINE_CHANGE, default on)."""
    require_perm(user, "jobs.run_operation")
    _, operation = lock_machine_and_operation(operation_id=operation_id)
    if operation.status not in (OperationStatus.PENDING, OperationStatus.READY, OperationStatus.SETUP):
        raise Conflict(f"Operation {operation} has made its first piece already.", code="wrong_state")
    return _first_article_apply(operation, user, check_machine=True)


@transaction.atomic
def nc_program_mark_proven(*, nc_program_id: int, user) -> None:
    """A first article made with this program version was approved: it is proven. Idempotent."""
    require_perm(user, "inspection.approve_firstarticlereport")
    program = NCProgram.objects.select_for_update().get(pk=nc_program_id)
    if program.status == NCProgramStatus.UNPROVEN:
        program.status = NCProgramStatus.PROVEN
        program._history_user = user
        program.save(update_fields=["status", "updated_at"])


# Scheduling: a planner asks for a run, a worker executes it, the planner publishes it.

SCHEDULE_HEARTBEAT_SECONDS = 5
SCHEDULE_STALE_SECONDS = 30  # a running run silent this long lost its worker (beat checks every 15 s)
SCHEDULE_QUEUED_LIMIT = dt.timedelta(minutes=15)
SCHEDULE_MAX_SECONDS = 3600


def _schedule_parameters(*, time_limit, solver, horizon_days, weights, base_run_id) -> dict:
    errors = []
    try:
        time_limit = int(time_limit)
        if not 1 <= time_limit <= SCHEDULE_MAX_SECONDS:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(("time_limit", f"Give the time limit in whole seconds, 1 to {SCHEDULE_MAX_SECONDS}."))
    if solver not in SOLVERS:
        errors.append(("solver", f"Choose a solver among {', '.join(SOLVERS)}."))
    try:
        horizon_days = int(horizon_days)
        if not 1 <= horizon_days <= 365:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(("horizon_days", "Give the horizon in whole days, 1 to 365."))
    if weights is not None:
        try:
            weights = [int(w) for w in weights]
            if len(weights) != 3 or min(weights) < 0 or not any(weights):
                raise ValueError
        except (TypeError, ValueError):
            errors.append(("weights", "Give three whole weights ≥ 0 (tardiness, changeover, makespan), not all 0."))
    if base_run_id is not None and not ScheduleRun.objects.filter(
            pk=base_run_id, status=ScheduleRunStatus.SUCCEEDED).exists():
        errors.append(("base_run", f"Run {base_run_id} is not a finished run to start from."))
    if errors:
        field, message = errors[0]
        raise ApplicationError(message, field=field)
    return {"time_limit": time_limit, "solver": solver, "horizon_days": horizon_days, "weights": weights,
            "base_run": base_run_id}


def schedule_run_request(*, user, time_limit=30, solver: str = "auto", horizon_days=DEFAULT_HORIZON_DAYS,
                         weights=None, base_run_id: int | None = None) -> ScheduleRun:
    """Queue a run of the scheduler; the worker picks it up once this transaction commits.
    One run at a time: a second request while one is queued or running is refused."""
    from jobs.tasks import schedule_run_execute_task  # tasks import services

    require_perm(user, "jobs.run_schedule")
    parameters = _schedule_parameters(time_limit=time_limit, solver=solver, horizon_days=horizon_days,
                                      weights=weights, base_run_id=base_run_id)
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


class _Heartbeat(threading.Thread):
    """Beside the solver: says the run is alive, records its progress, and notices a cancel
    (asked by a planner, or the run marked failed by the stale check) without waiting for the
    solver to find a better schedule."""

    def __init__(self, run_id: int, time_limit: int):
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


def _figures(result) -> dict:
    f = result.figures
    return {"weighted_tardiness": f.weighted_tardiness, "tardy_jobs": f.tardy_jobs,
            "changeover_minutes": f.changeover_total, "makespan_minutes": f.makespan,
            "solver": result.solver, "status": result.status, "seconds": round(result.seconds, 2)}


@transaction.atomic
def _schedule_run_save(run_id: int, built: BuiltProblem, result, edd) -> None:
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


@transaction.atomic
def schedule_run_cancel(*, user, run_id: int) -> ScheduleRun:
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
def schedule_run_publish(*, user, run_id: int) -> ScheduleRun:
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


def _editable_entry(user, entry_id: int) -> ScheduleEntry:
    require_perm(user, "jobs.change_scheduleentry")
    entry = (ScheduleEntry.objects.select_for_update(of=("self",)).select_related("run", "operation__job")
             .filter(pk=entry_id).first())
    if entry is None:
        raise NotFound(f"There is no schedule entry {entry_id}.")
    if entry.run.status != ScheduleRunStatus.SUCCEEDED:
        raise Conflict(f"Run {entry.run_id} is not finished.", code="wrong_state")
    return entry


@transaction.atomic
def schedule_entry_lock(*, user, entry_id: int, locked: bool) -> ScheduleEntry:
    """A locked entry keeps its machine and start in the next run started from this one."""
    entry = _editable_entry(user, entry_id)
    if entry.locked != locked:
        entry.locked = locked
        entry.save(update_fields=["locked"])
    return entry


@transaction.atomic
def schedule_entry_move(*, user, entry_id: int, machine_id: int, starts_at: dt.datetime) -> ScheduleEntry:
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
