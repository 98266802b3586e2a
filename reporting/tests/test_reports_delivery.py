"""Delivery of jobs whose operations were recorded as finished in the past (the import a shop moving to
Spindle uses, and the demo's history): their completion is in the action log, so they count."""

import datetime as dt

import pytest
from django.utils import timezone

from jobs.choices import JobStatus
from jobs.services.history_import import FinishedOperation, operations_import_finished
from reporting.builders import delivery_report
from reporting.filters import ReportFilter

pytestmark = [pytest.mark.django_db, pytest.mark.dialects]


def test_a_job_finished_through_the_import_is_on_the_delivery_report(floor, operator):
    job = floor.shop.job
    finished = timezone.make_aware(dt.datetime.combine(job.due_date + dt.timedelta(days=2), dt.time(15)))
    operations_import_finished(user=operator, records=[
        FinishedOperation(operation_id=floor.turn.pk, machine_id=floor.shop.lathe.pk, operator=operator, labour=(),
                          finished_at=finished - dt.timedelta(days=1), good=job.quantity),
        FinishedOperation(operation_id=floor.mill.pk, machine_id=floor.shop.vf4.pk, operator=operator, labour=(),
                          finished_at=finished, good=job.quantity),
    ])
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETE
    day = finished.date()
    [row] = delivery_report(ReportFilter(date_from=day, date_to=day)).rows
    assert (row["job"], row["status"], row["days_late"], row["completion"]) == (job.number, "late", 2, day.isoformat())
