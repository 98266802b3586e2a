"""The database itself refuses what would break an invariant, whoever writes."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from inspection.models import FirstArticleReport
from jobs.choices import ScheduleRunStatus
from jobs.models import Job, JobOperation, ProductionEntry, ScheduleRun
from machines.choices import MachineState
from machines.models import MachineStateEvent
from tests.factories import JobFactory, MachineFactory


def refused(create) -> bool:
    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


@pytest.mark.django_db
def test_job_numbers_are_unique():
    job = JobFactory(number="WO-1")
    assert refused(lambda: Job.objects.create(number="WO-1", part_revision=job.part_revision, quantity=1,
                                              due_date=job.due_date))


@pytest.mark.django_db
def test_job_quantity_must_be_positive():
    job = JobFactory()
    assert refused(lambda: Job.objects.filter(pk=job.pk).update(quantity=0))


@pytest.mark.django_db
def test_quantities_are_never_negative(operator):
    operation = JobOperation.objects.create(job=JobFactory(), operation_number=10, name="Mill")
    now = timezone.now()

    def entry(**quantities):
        return lambda: ProductionEntry.objects.create(operator=operator, operation=operation, recorded_at=now,
                                                      **quantities)

    assert refused(entry(quantity_good=-1))
    assert refused(entry(quantity_good=0))  # an empty report
    assert refused(entry(quantity_scrap=2))  # scrap without a reason
    assert refused(lambda: JobOperation.objects.filter(pk=operation.pk).update(setup_minutes=-5))
    assert not refused(entry(quantity_good=3))


@pytest.mark.django_db
def test_a_machine_has_at_most_one_open_state():
    machine = MachineFactory()
    start = timezone.now() - dt.timedelta(hours=2)
    MachineStateEvent.objects.create(machine=machine, state=MachineState.RUNNING, started_at=start)
    assert refused(lambda: MachineStateEvent.objects.create(machine=machine, state=MachineState.IDLE,
                                                            started_at=start + dt.timedelta(hours=1)))
    # Another machine may have its own open state.
    assert not refused(lambda: MachineStateEvent.objects.create(machine=MachineFactory(), state=MachineState.IDLE,
                                                                started_at=start))


@pytest.mark.django_db
def test_at_most_one_schedule_run_is_published(planner):
    def published_run():
        return ScheduleRun.objects.create(requested_by=planner, status=ScheduleRunStatus.SUCCEEDED, published=True)

    published_run()
    assert refused(published_run)
    assert refused(lambda: ScheduleRun.objects.create(requested_by=planner, status=ScheduleRunStatus.FAILED,
                                                      published=True))


@pytest.mark.django_db
def test_fair_identifiers_are_unique():
    job = JobFactory()
    operation = JobOperation.objects.create(job=job, operation_number=10, name="Mill")
    FirstArticleReport.objects.create(fair_id="FAI-1", job=job, operation=operation)
    assert refused(lambda: FirstArticleReport.objects.create(fair_id="FAI-1", job=job, operation=operation))
