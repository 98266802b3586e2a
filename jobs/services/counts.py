"""Automatic good counts: where a machine's part counter counts good parts only (Machine.part_counter_counts_good),
what it counts during a run is reported as good by itself, in the name of the operator who runs it; the operator
reports scrap, and anything the counter does not see, as before. A periodic task (config's beat schedule) runs the
round: the collector that feeds the counter belongs to machines, which never calls jobs."""

import logging

from django.db import transaction
from django.db.models import F

from core.errors import ApplicationError
from jobs.choices import Activity, OperationStatus
from jobs.locks import lock_machine_and_operation
from jobs.models import JobOperation, LabourEntry
from jobs.selectors import machine_count_recorded, operation_quantities
from jobs.services.operations import operation_report
from machines.connectivity.selectors import machine_part_count, part_count_value

logger = logging.getLogger(__name__)

# Where the OperationEvent of an automatic count says it came from.
COUNTER_TERMINAL = "machine counter"
COUNTED_STATUSES = (OperationStatus.RUNNING, OperationStatus.PAUSED)  # where a report applies


def operation_counted_report(*, operation_id: int) -> int:
    """Report as good what the machine counted since the counter last recorded on the operation (its run's start, or
    the last automatic count), in the name of the operator on its run: the one signed on, else the last who was.
    Idempotent by counter value: the report records the counter it counts up to, and the count is taken under the
    machine's and the operation's locks (which an ingest of the machine's signals takes too), so a replay, or a
    second round at once, finds nothing new. A counter that went back was reset: it counts from zero. Never more
    than the job still needs: an over-run is the operator's to confirm. Returns the pieces reported."""
    with transaction.atomic():
        machine, operation = lock_machine_and_operation(operation_id=operation_id)
        if machine is None or not machine.part_counter_counts_good or operation.status not in COUNTED_STATUSES:
            return 0
        counter = machine_part_count(machine_id=machine.pk)
        last = part_count_value(machine_count_recorded(operation.pk).values_list("details__machine_count",
                                                                                flat=True).first())
        if counter is None or last is None or counter == last:
            return 0
        totals = operation_quantities(operation)
        good = min(counter - last if counter > last else counter,
                   operation.job.quantity - totals["good"] - totals["scrap"])
        runner = (LabourEntry.objects.filter(operation=operation, activity=Activity.RUN).select_related("operator")
                  .order_by(F("ended_at").desc(nulls_first=True), "-started_at").first())
        if good <= 0 or runner is None:
            return 0
        operation_report(operation_id=operation.pk, user=runner.operator, terminal=COUNTER_TERMINAL, good=good,
                         machine_count=counter)
        return good


def operations_counted_report() -> int:
    """The periodic round: every operation running (or paused) on a monitored machine whose counter counts good
    parts. One operation refused (its operator's role changed, a first article reopened) does not stop the others.
    Returns the pieces reported."""
    operation_ids = JobOperation.objects.filter(
        status__in=COUNTED_STATUSES, machine__part_counter_counts_good=True, machine__connection__isnull=False,
    ).order_by("pk").values_list("pk", flat=True)
    reported = 0
    for operation_id in operation_ids:
        try:
            reported += operation_counted_report(operation_id=operation_id)
        except ApplicationError as exc:
            logger.warning("Automatic good count of operation %s refused: %s", operation_id, exc.message)
    return reported
