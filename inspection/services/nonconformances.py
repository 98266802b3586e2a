"""Nonconformances: raised by hand or by a failing measurement, they hold their operation until dispositioned."""

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, Conflict, NotFound
from core.permissions import require_perm
from inspection.choices import Disposition, NCSource, NCStatus
from inspection.models import NonConformance
from jobs.choices import OperationStatus
from jobs.models import Job, JobOperation
from jobs.services.operations import operation_hold, operation_release_hold


def _next_nc_number(today: dt.date) -> str:
    prefix = f"NC{today:%y}-"
    last = (NonConformance.objects.filter(number__startswith=prefix).order_by("-number")
            .values_list("number", flat=True).first())
    sequence = int(last.removeprefix(prefix)) + 1 if last and last.removeprefix(prefix).isdigit() else 1
    return f"{prefix}{sequence:05d}"


HOLDABLE = (OperationStatus.PENDING, OperationStatus.READY, OperationStatus.SETUP, OperationStatus.FIRST_ARTICLE,
            OperationStatus.RUNNING, OperationStatus.PAUSED, OperationStatus.SENT)


def nc_create(*, job: Job, operation: JobOperation | None, source: str, quantity: int, description: str,
              user: User) -> NonConformance:
    """The write `nc_raise` and a failing measurement share, inside the caller's transaction and permission
    check: numbers the nonconformance and holds its operation if that is still in work."""
    if source not in NCSource.values:
        raise ApplicationError(f"“{source}” is not a source of nonconformance.", field="source")
    if not str(description).strip():
        raise ApplicationError("Describe the nonconformance.", field="description")
    if quantity < 1:
        raise ApplicationError("The quantity must be at least 1.", field="quantity")
    if operation is not None and operation.job_id != job.pk:
        raise ApplicationError(f"Operation {operation} is not part of {job.number}.", field="operation")
    nc = NonConformance(number=_next_nc_number(timezone.localdate()), source=source, job=job, operation=operation,
                        quantity=quantity, description=description.strip(), raised_by=user)
    nc.full_clean()
    nc._history_user = user
    nc.save()
    if operation is None:
        return nc
    status = JobOperation.objects.values_list("status", flat=True).get(pk=operation.pk)  # not a stale copy
    if status in HOLDABLE:
        operation_hold(operation_id=operation.pk, user=user, reason=f"Nonconformance {nc.number}")
        nc.holds_operation = True
    elif status == OperationStatus.ON_HOLD and NonConformance.objects.filter(
            operation_id=operation.pk, holds_operation=True, status=NCStatus.OPEN).exclude(pk=nc.pk).exists():
        # Another open nonconformance holds it already: this one holds it too, so the hold lasts
        # until both are dispositioned.
        nc.holds_operation = True
    if nc.holds_operation:
        nc.save(update_fields=["holds_operation", "updated_at"])
    return nc


@transaction.atomic
def nc_raise(*, user: User, job_id: int, description: str, quantity: int = 1, operation_id: int | None = None,
             source: str = NCSource.IN_PROCESS) -> NonConformance:
    """Raise a nonconformance. It holds its operation (if that is still in work) until dispositioned."""
    require_perm(user, "inspection.add_nonconformance")
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"There is no job {job_id}.")
    operation = JobOperation.objects.filter(pk=operation_id).first() if operation_id else None
    if operation_id and operation is None:
        raise NotFound(f"There is no operation {operation_id}.")
    return nc_create(job=job, operation=operation, source=source, quantity=quantity, description=description,
                     user=user)


def _nc_lock(nc_id: int) -> NonConformance:
    nc = NonConformance.objects.select_for_update().filter(pk=nc_id).first()
    if nc is None:
        raise NotFound(f"There is no nonconformance {nc_id}.")
    return nc


@transaction.atomic
def nc_disposition(*, nc_id: int, user: User, disposition: str, note: str = "") -> NonConformance:
    """Decide what happens to the nonconforming pieces; recorded with who and when. The hold it put on
    its operation is released once no other open nonconformance holds it."""
    require_perm(user, "inspection.change_nonconformance")
    nc = _nc_lock(nc_id)
    if disposition not in Disposition.values or disposition == Disposition.PENDING:
        raise ApplicationError("Choose rework, scrap, use as is or return to supplier.", field="disposition")
    if nc.status != NCStatus.OPEN:
        raise Conflict(f"{nc.number} is {nc.get_status_display().lower()} already.", code="already_dispositioned")
    nc.disposition, nc.disposition_note = disposition, note.strip()
    nc.status, nc.dispositioned_by, nc.dispositioned_at = NCStatus.DISPOSITIONED, user, timezone.now()
    nc.full_clean()
    nc._history_user = user
    nc.save()
    if nc.holds_operation and nc.operation_id:
        others = NonConformance.objects.filter(operation_id=nc.operation_id, holds_operation=True,
                                               status=NCStatus.OPEN).exclude(pk=nc.pk)
        status = JobOperation.objects.values_list("status", flat=True).get(pk=nc.operation_id)
        if status == OperationStatus.ON_HOLD and not others.exists():
            operation_release_hold(operation_id=nc.operation_id, user=user)
    return nc


@transaction.atomic
def nc_close(*, nc_id: int, user: User, root_cause: str = "", corrective_action: str = "") -> NonConformance:
    """Close a dispositioned nonconformance, with its root cause and corrective action if given."""
    require_perm(user, "inspection.change_nonconformance")
    nc = _nc_lock(nc_id)
    if nc.status == NCStatus.CLOSED:
        raise Conflict(f"{nc.number} is closed already.", code="already_closed")
    if nc.status != NCStatus.DISPOSITIONED:
        raise Conflict(f"{nc.number} needs a disposition before it is closed.", code="not_dispositioned")
    nc.root_cause = root_cause.strip() or nc.root_cause
    nc.corrective_action = corrective_action.strip() or nc.corrective_action
    nc.status, nc.closed_at = NCStatus.CLOSED, timezone.now()
    nc._history_user = user
    nc.save()
    return nc

