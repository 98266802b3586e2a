"""factory_boy factories for master data. State changes in tests go through the services."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from jobs.choices import MaterialStatus, PartRevisionStatus
from jobs.models import Job, Part, PartRevision, Routing, RoutingStep, RoutingStepMachine
from machines.choices import MachineKind
from machines.models import Calendar, Machine, WorkCenter


class WorkCenterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkCenter

    code = factory.Sequence(lambda n: f"WC{n}")
    name = factory.Sequence(lambda n: f"Work center {n}")


class CalendarFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Calendar

    name = factory.Sequence(lambda n: f"Calendar {n}")


class MachineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Machine

    code = factory.Sequence(lambda n: f"M{n:03d}")
    name = factory.Sequence(lambda n: f"Mill {n}")
    work_center = factory.SubFactory(WorkCenterFactory)
    kind = MachineKind.MILL_3AXIS
    hourly_rate = Decimal("95.00")
    calendar = factory.SubFactory(CalendarFactory)


class PartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Part

    number = factory.Sequence(lambda n: f"P-{1000 + n}")
    description = "Bracket"


class PartRevisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartRevision

    part = factory.SubFactory(PartFactory)
    revision = "A"
    drawing_number = factory.LazyAttribute(lambda o: f"DWG-{o.part.number}")
    drawing_revision = "A"
    status = PartRevisionStatus.RELEASED
    material = "6061-T6"


class RoutingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Routing

    part_revision = factory.SubFactory(PartRevisionFactory)
    version = 1


class RoutingStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingStep

    routing = factory.SubFactory(RoutingFactory)
    operation_number = factory.Sequence(lambda n: 10 * (n + 1))
    name = "Mill op"
    work_center = factory.SubFactory(WorkCenterFactory)
    setup_minutes = Decimal("60")
    cycle_minutes = Decimal("12.5")


class RoutingStepMachineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingStepMachine

    step = factory.SubFactory(RoutingStepFactory)
    machine = factory.SubFactory(MachineFactory)
    rank = 1


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    number = factory.Sequence(lambda n: f"WO-{n:05d}")
    part_revision = factory.SubFactory(PartRevisionFactory)
    quantity = 10
    due_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=14))
    material_status = MaterialStatus.RECEIVED
