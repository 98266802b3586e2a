import datetime as dt

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from jobs.choices import JobStatus, OperationStatus
from jobs.models import Job, JobOperation


def job_list() -> QuerySet[Job]:
    return Job.objects.select_related("part_revision__part", "order_line__order__customer")


def jobs_awaiting_release() -> QuerySet[Job]:
    return job_list().filter(status=JobStatus.PLANNED).order_by("due_date", "priority")


def jobs_late(*, today: dt.date) -> QuerySet[Job]:
    return job_list().filter(status__in=JobStatus.open(), due_date__lt=today).order_by("due_date")


def operation_list() -> QuerySet[JobOperation]:
    """Operations with quantities summed from their production entries."""
    return JobOperation.objects.select_related(
        "job__part_revision__part", "work_center", "machine", "fixture", "nc_program"
    ).annotate(
        good_quantity=Coalesce(Sum("production_entries__quantity_good"), 0),
        scrap_quantity=Coalesce(Sum("production_entries__quantity_scrap"), 0),
        rework_quantity=Coalesce(Sum("production_entries__quantity_rework"), 0),
    ).order_by("job__due_date", "job_id", "operation_number")


def operations_ready() -> QuerySet[JobOperation]:
    return operation_list().filter(status=OperationStatus.READY).order_by("job__priority", "job__due_date")


def operations_open_count() -> int:
    return JobOperation.objects.filter(~Q(status=OperationStatus.DONE), job__status__in=JobStatus.open()).count()
