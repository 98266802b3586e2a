"""A job whose milling operation waits for its first article, an inspection plan and gauges."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from inspection.choices import RequirementKind
from inspection.models import Characteristic, Gauge, GaugeType, InspectionPlan
from jobs.models import JobOperation, MaterialLot
from jobs.services.operations import operation_first_piece, operation_report, operation_start_setup


@dataclass
class Waiting:
    floor: object
    operation: JobOperation
    plan: InspectionPlan
    bore: Characteristic
    length: Characteristic
    finish: Characteristic
    caliper_type: GaugeType
    caliper: Gauge
    micrometer: Gauge


def bring_to_first_article(floor, operator) -> JobOperation:
    """Turn done on the lathe; the mill set up on VF4 and its first piece made."""
    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=floor.shop.lathe.pk)
    operation_first_piece(operation_id=floor.turn.pk, user=operator)
    operation_report(operation_id=floor.turn.pk, user=operator, good=floor.shop.job.quantity)
    operation_start_setup(operation_id=floor.mill.pk, user=operator, machine_id=floor.shop.vf4.pk)
    return operation_first_piece(operation_id=floor.mill.pk, user=operator)


def make_plan(revision) -> tuple:
    plan = InspectionPlan.objects.create(part_revision=revision)
    caliper_type = GaugeType.objects.create(code="CAL", name="Caliper")
    mic_type = GaugeType.objects.create(code="MIC", name="Micrometer")
    bore = Characteristic.objects.create(plan=plan, balloon_number="1", description="Bore", nominal=Decimal("10"),
                                         lower_limit=Decimal("9.98"), upper_limit=Decimal("10.02"), unit="mm",
                                         gauge_type=caliper_type, operation_number=20)
    length = Characteristic.objects.create(plan=plan, balloon_number="2", description="Length", nominal=Decimal("50"),
                                           lower_limit=Decimal("49.9"), upper_limit=Decimal("50.1"), unit="mm",
                                           gauge_type=mic_type, operation_number=10)
    finish = Characteristic.objects.create(plan=plan, balloon_number="3", description="Deburr all edges",
                                           requirement_kind=RequirementKind.ATTRIBUTE,
                                           attribute_note="No burrs", operation_number=20)
    return plan, caliper_type, mic_type, bore, length, finish


@pytest.fixture
def waiting(floor, operator, inspector) -> Waiting:
    MaterialLot.objects.create(job=floor.shop.job, material="6061-T6 bar", heat_number="H12345",
                               certificate_number="CERT-778", supplier="Metals Inc")
    plan, caliper_type, mic_type, bore, length, finish = make_plan(floor.shop.revision)
    due = timezone.localdate() + dt.timedelta(days=200)
    caliper = Gauge.objects.create(asset_id="G-001", gauge_type=caliper_type, calibration_interval_days=365,
                                   next_due_on=due)
    micrometer = Gauge.objects.create(asset_id="G-002", gauge_type=mic_type, calibration_interval_days=365,
                                      next_due_on=due)
    operation = bring_to_first_article(floor, operator)
    return Waiting(floor, operation, plan, bore, length, finish, caliper_type, caliper, micrometer)
