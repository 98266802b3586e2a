"""The life of an operation. Each action is declared once in jobs.actions (its statuses, permission, step kinds,
production gate, input) with its service here: a decision, a function of the locked operation (and its machine)
that decides, writes and returns what it changed, wrapped by `OperationService` in the steps every action shares."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, Conflict
from core.idempotency import idempotency_claim
from core.permissions import require_perm
from jobs.choices import Activity, OperationStatus
from jobs.locks import lock_machine_and_operation
from jobs.models import JobOperation, LabourEntry, OperationEvent, ProductionEntry, ScrapReason
from jobs.selectors import operation_quantities
from jobs.services.first_articles import first_article_apply
from jobs.services.release import job_follow_operations
from machines.choices import MachineState, StateSource
from machines.connectivity.selectors import machine_part_count
from machines.models import DowntimeReason, Machine
from machines.services.setup import fixture_mount, machine_setup_record
from machines.services.states import machine_state_change

if TYPE_CHECKING:
    from jobs.actions import OperationAction

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
    user: User
    at: dt.datetime
    source: str


class OperationService:
    """The service of an operation action, around its decision: permission, idempotency key, row locks in order
    (machine, then operation), the refusals of the action's entry (status, step kind, production gate), the
    decision itself, the history user, and an OperationEvent saying who did what where. Its entry in
    jobs.actions.ACTIONS binds it (jobs' AppConfig.ready builds the table)."""

    def __init__(self, decide: Callable[..., dict | None]) -> None:
        functools.update_wrapper(self, decide)
        self.decide = decide
        self.action: OperationAction | None = None

    def __call__(self, *, operation_id: int, user: User, terminal: str = "", idempotency_key: str | None = None,
                 source: str = StateSource.TERMINAL, machine_id: int | None = None,
                 **arguments: Any) -> JobOperation:
        action = self.action
        if action is None:
            raise ImproperlyConfigured(f"{self.__name__} is the service of no action in jobs.actions.ACTIONS.")
        with transaction.atomic():
            require_perm(user, action.perm)
            if idempotency_claim(key=idempotency_key, user=user, action=action.name, target_id=operation_id):
                return JobOperation.objects.get(pk=operation_id)
            machine, operation = lock_machine_and_operation(operation_id=operation_id, machine_id=machine_id)
            refusal = action.refusal(operation)
            if refusal is not None:
                raise refusal
            before = operation.status
            values = _field_values(operation)
            context = ActionContext(operation, machine, user, timezone.now(), source)
            details = self.decide(context, **arguments) or {}
            _operation_save(operation, user, changed=_changed_fields(operation, values))
            if operation.status != before:
                job_follow_operations(job_id=operation.job_id, user=user)
            OperationEvent.objects.create(operation=operation, action=action.name, user=user, terminal=terminal[:50],
                                          at=context.at, from_status=before, to_status=operation.status,
                                          details=details)
            return operation


def _field_values(operation: JobOperation) -> dict[str, object]:
    return {field.attname: getattr(operation, field.attname) for field in operation._meta.concrete_fields}


def _changed_fields(operation: JobOperation, before: dict[str, object]) -> list[str]:
    return [field.name for field in operation._meta.concrete_fields
            if getattr(operation, field.attname) != before[field.attname]]


def _operation_save(operation: JobOperation, user: User, *, changed: list[str]) -> None:
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


def _labour_open(operation: JobOperation, operator: User, machine: Machine, activity: str, at: dt.datetime) -> None:
    """The operator works `activity` on the operation from `at`; other activities on it stop."""
    _labour_close(operation, at, activity=Activity.RUN if activity == Activity.SETUP else Activity.SETUP)
    open_entry = LabourEntry.objects.filter(operation=operation, operator=operator, ended_at__isnull=True)
    if not open_entry.exists():
        LabourEntry.objects.create(operator=operator, operation=operation, machine=machine, activity=activity,
                                   started_at=at)


def _occupy(context: ActionContext, status: str, operator: User) -> None:
    """Put the operation in an active status on its machine: the machine's state and the labour follow."""
    operation, machine = context.operation, context.machine
    machine_state_change(machine_id=machine.pk, state=MACHINE_STATE_OF[status], user=context.user, at=context.at,
                         source=context.source)
    _labour_open(operation, operator, machine, ACTIVITY_OF[status], context.at)
    operation.status = status


def _vacate(context: ActionContext, machine_state: str = MachineState.IDLE,
            reason: DowntimeReason | None = None) -> None:
    _labour_close(context.operation, context.at)
    machine_state_change(machine_id=context.machine.pk, state=machine_state, reason=reason, user=context.user,
                         at=context.at, source=context.source)


def _run_started(context: ActionContext) -> dict:
    """The machine's part counter as a run starts on it, where it reports one: the run's count starts from it
    (jobs.selectors.MachineReading), and so do automatic good counts (jobs.services.counts)."""
    count = machine_part_count(machine_id=context.machine.pk) if context.machine else None
    return {} if count is None else {"machine_count": count}


def _finish(context: ActionContext) -> None:
    if context.machine is not None:
        _vacate(context)
    context.operation.status = OperationStatus.DONE
    context.operation.resume_status, context.operation.pause_reason = "", None


@OperationService
def operation_start_setup(context: ActionContext) -> dict:
    operation, machine = context.operation, context.machine
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
    first_article_apply(operation=operation, user=context.user, check_machine=True)  # now the machine is known
    _occupy(context, OperationStatus.SETUP, context.user)
    return {"machine": machine.code}


@OperationService
def operation_first_piece(context: ActionContext) -> dict:
    operation = context.operation
    if not operation.production_gate_open:
        operation.status = OperationStatus.FIRST_ARTICLE  # waits here for the inspector's approval
        return {"first_article": operation.first_article}
    _occupy(context, OperationStatus.RUNNING, context.user)
    return _run_started(context)


@OperationService
def operation_start_run(context: ActionContext) -> dict:
    _occupy(context, OperationStatus.RUNNING, context.user)
    return _run_started(context)


@OperationService
def operation_report(context: ActionContext, *, good: int = 0, scrap: int = 0, rework: int = 0,
                     scrap_reason: ScrapReason | None = None, confirm_overrun: bool = False,
                     machine_count: int | None = None) -> dict:
    """Good, scrap and rework pieces since the last report; the operation is done when good and scrap
    reach the job's quantity. `machine_count`: the machine's part counter this report counts up to (an automatic
    good count, jobs.services.counts), recorded with it."""
    operation = context.operation
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
            "scrap_reason": scrap_reason.code if scrap_reason and scrap else "",
            **({"machine_count": machine_count} if machine_count is not None else {})}


@OperationService
def operation_pause(context: ActionContext, *, reason: DowntimeReason | None) -> dict:
    operation = context.operation
    if reason is None:
        raise ApplicationError("Say why the machine stops.", field="reason")
    state = MachineState.PLANNED_DOWN if reason.planned else MachineState.DOWN
    _vacate(context, state, reason)
    operation.resume_status, operation.pause_reason = operation.status, reason
    operation.status = OperationStatus.PAUSED
    return {"reason": reason.code}


@OperationService
def operation_resume(context: ActionContext) -> dict:
    operation = context.operation
    _occupy(context, operation.resume_status, context.user)
    operation.resume_status, operation.pause_reason = "", None
    return {}


@OperationService
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


@OperationService
def operation_hold(context: ActionContext, *, reason: str) -> dict:
    operation = context.operation
    if not reason.strip():
        raise ApplicationError("Say why the operation is held.", field="reason")
    if operation.status in MACHINE_STATE_OF:
        _vacate(context)  # a paused machine stays down for its own reason
    operation.resume_status = operation.status
    operation.status = OperationStatus.ON_HOLD
    return {"reason": reason.strip()}


@OperationService
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
    return {"back_to": back, **(_run_started(context) if back == OperationStatus.RUNNING else {})}


@OperationService
def operation_send(context: ActionContext, *, vendor: str = "", sent_on: dt.date | None = None) -> dict:
    operation = context.operation
    operation.vendor = vendor.strip() or operation.vendor
    operation.sent_on = sent_on or timezone.localdate()
    operation.status = OperationStatus.SENT
    return {"vendor": operation.vendor, "sent_on": operation.sent_on.isoformat()}


@OperationService
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


@OperationService
def operation_production_gate_set(context: ActionContext, *, open_gate: bool) -> dict:
    """Called by inspection when the first article of an operation waiting for it is approved (the gate opens)
    or rejected (it stays closed and the operation goes back to setup for a new first piece)."""
    operation = context.operation
    operation.production_gate_open = open_gate
    if not open_gate:
        if operation.status == OperationStatus.FIRST_ARTICLE:
            operation.status = OperationStatus.SETUP
        else:  # paused or held while waiting: it goes back to setup from there
            operation.resume_status = OperationStatus.SETUP
    return {"open": open_gate}
