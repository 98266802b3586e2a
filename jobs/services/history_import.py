"""Finished work imported in bulk.

Recording finished work one operation at a time costs some forty queries (each entry's full_clean checks its keys
and constraints in the database) and takes one labour span per activity. A backfill of months of work (a shop
moving to Spindle, the demo's history) needs thousands, and a run that went on over several shifts has one labour
span per shift, each with its own operator."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from core.errors import ApplicationError, Conflict
from core.permissions import require_perm
from jobs.choices import OperationStatus
from jobs.models import JobOperation, JobOperationMachine, LabourEntry, OperationEvent, ProductionEntry, ScrapReason
from jobs.services.release import job_follow_operations


@dataclass(frozen=True)
class LabourSpan:
    operator: User
    activity: str
    started_at: dt.datetime
    ended_at: dt.datetime


@dataclass(frozen=True)
class FinishedOperation:
    """An operation finished in the past. An outside-processing one has no machine and no labour."""

    operation_id: int
    machine_id: int | None
    operator: User  # who reported the quantities
    labour: tuple[LabourSpan, ...]
    finished_at: dt.datetime
    good: int
    scrap: int = 0
    scrap_reason: ScrapReason | None = None


@transaction.atomic
def operations_import_finished(*, records: list[FinishedOperation], user: User,
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
    for operation in operations.values():
        operation._history_user = user
        operation.save(update_fields=["machine", "status", "production_gate_open", "updated_at"])
    for job_id in sorted({operation.job_id for operation in operations.values()}):
        job_follow_operations(job_id=job_id, user=user)
    return len(records)
