"""A small shop, built for tests that need a job ready to release."""

from dataclasses import dataclass
from decimal import Decimal

import pytest

from jobs.models import Job, JobOperation, PartRevision, RoutingStep, ScrapReason
from machines.models import DowntimeReason, Machine, WorkCenter
from tests.factories import (
    JobFactory,
    MachineFactory,
    RoutingFactory,
    RoutingStepFactory,
    RoutingStepMachineFactory,
    WorkCenterFactory,
)


@dataclass
class SmallShop:
    mills: WorkCenter
    lathes: WorkCenter
    vf2: Machine
    vf4: Machine
    lathe: Machine
    revision: PartRevision
    turn: RoutingStep
    mill: RoutingStep
    job: Job


@pytest.fixture
def small_shop(db) -> SmallShop:
    """A part revision whose routing turns on any lathe, then mills on a ranked pair of mills."""
    mills, lathes = WorkCenterFactory(code="MILL3"), WorkCenterFactory(code="LATHE")
    vf2 = MachineFactory(code="VF2", work_center=mills, hourly_rate=Decimal("85"))
    vf4 = MachineFactory(code="VF4", work_center=mills, calendar=vf2.calendar, hourly_rate=Decimal("110"))
    lathe = MachineFactory(code="LB3000", work_center=lathes, calendar=vf2.calendar, hourly_rate=Decimal("90"))
    routing = RoutingFactory()
    turn = RoutingStepFactory(routing=routing, operation_number=10, name="Turn", work_center=lathes)
    mill = RoutingStepFactory(routing=routing, operation_number=20, name="Mill flats", work_center=mills,
                              needs_first_article=True)
    RoutingStepMachineFactory(step=mill, machine=vf4, rank=1, setup_minutes=Decimal("45"))
    RoutingStepMachineFactory(step=mill, machine=vf2, rank=2)
    job = JobFactory(part_revision=routing.part_revision)
    return SmallShop(mills, lathes, vf2, vf4, lathe, routing.part_revision, turn, mill, job)


@dataclass
class FloorSetup:
    shop: SmallShop
    turn: JobOperation
    mill: JobOperation
    alarm: DowntimeReason
    break_: DowntimeReason
    chips: ScrapReason


@pytest.fixture
def floor(small_shop, planner) -> FloorSetup:
    """The small shop's job released: its turning operation is ready on the lathe."""
    from jobs.services.release import job_release

    job_release(job_id=small_shop.job.pk, user=planner)
    turn, mill = small_shop.job.operations.order_by("operation_number")
    return FloorSetup(
        shop=small_shop, turn=turn, mill=mill,
        alarm=DowntimeReason.objects.create(code="ALARM", label="Machine alarm"),
        break_=DowntimeReason.objects.create(code="BREAK", label="Break", planned=True),
        chips=ScrapReason.objects.create(code="DIM", label="Out of tolerance"),
    )
