from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.errors import Conflict, Forbidden
from jobs.choices import FirstArticleRequirement, JobStatus, MaterialStatus, OperationStatus, PartRevisionStatus
from jobs.services.release import job_create, job_release, part_revision_release
from tests.factories import JobFactory, PartRevisionFactory, RoutingFactory


@pytest.mark.django_db
def test_release_freezes_the_routing_into_operations(small_shop, planner):
    job = job_release(job_id=small_shop.job.pk, user=planner)

    assert job.status == JobStatus.RELEASED
    assert job.released_by == planner and job.routing == small_shop.turn.routing
    turn, mill = job.operations.order_by("operation_number")
    assert (turn.operation_number, turn.name, turn.work_center) == (10, "Turn", small_shop.lathes)
    assert mill.setup_minutes == Decimal("60") and mill.cycle_minutes == Decimal("12.5")
    # The first operation is ready (material received); the next waits for it.
    assert (turn.status, mill.status) == (OperationStatus.READY, OperationStatus.PENDING)
    assert mill.first_article == FirstArticleRequirement.FULL and not mill.production_gate_open
    assert turn.first_article == FirstArticleRequirement.NONE and turn.production_gate_open


@pytest.mark.django_db
def test_release_derives_eligible_machines_with_their_standards_and_rates(small_shop, planner):
    job_release(job_id=small_shop.job.pk, user=planner)
    turn, mill = small_shop.job.operations.order_by("operation_number")

    # No machine listed on the step: every active machine of its work center.
    assert [option.machine for option in turn.machine_options.all()] == [small_shop.lathe]
    # Listed machines keep their rank, their overrides and the rate at release.
    options = list(mill.machine_options.order_by("rank"))
    assert [(o.machine.code, o.setup_minutes, o.cycle_minutes, o.hourly_rate) for o in options] == [
        ("VF4", Decimal("45"), Decimal("12.5"), Decimal("110")),
        ("VF2", Decimal("60"), Decimal("12.5"), Decimal("85")),
    ]


@pytest.mark.django_db
def test_routing_edits_after_release_do_not_change_work_in_flight(small_shop, planner):
    job_release(job_id=small_shop.job.pk, user=planner)
    small_shop.mill.setup_minutes = Decimal("5")
    small_shop.mill.save()
    small_shop.vf4.hourly_rate = Decimal("300")
    small_shop.vf4.save()

    mill = small_shop.job.operations.get(operation_number=20)
    assert mill.setup_minutes == Decimal("60")
    assert mill.machine_options.get(machine=small_shop.vf4).hourly_rate == Decimal("110")


@pytest.mark.django_db
def test_material_not_in_keeps_every_operation_pending(small_shop, planner):
    small_shop.job.material_status = MaterialStatus.ORDERED
    small_shop.job.save()
    job_release(job_id=small_shop.job.pk, user=planner)
    assert set(small_shop.job.operations.values_list("status", flat=True)) == {OperationStatus.PENDING}


@pytest.mark.django_db
def test_release_twice_is_refused_and_changes_nothing(small_shop, planner):
    job_release(job_id=small_shop.job.pk, user=planner)
    with pytest.raises(Conflict, match="already released"):
        job_release(job_id=small_shop.job.pk, user=planner)
    assert small_shop.job.operations.count() == 2


@pytest.mark.django_db
def test_release_refuses_a_routing_with_no_steps(planner):
    job = JobFactory(part_revision=RoutingFactory().part_revision)
    with pytest.raises(Conflict, match="no routing steps"):
        job_release(job_id=job.pk, user=planner)
    job.refresh_from_db()
    assert job.status == JobStatus.PLANNED and not job.operations.exists()


@pytest.mark.django_db
def test_release_refuses_a_part_revision_that_is_not_released(small_shop, planner):
    small_shop.revision.status = PartRevisionStatus.DRAFT
    small_shop.revision.save()
    with pytest.raises(Conflict, match="draft, not released"):
        job_release(job_id=small_shop.job.pk, user=planner)
    assert not small_shop.job.operations.exists()


@pytest.mark.django_db
def test_release_refuses_a_step_no_active_machine_can_run(small_shop, planner):
    small_shop.lathe.active = False
    small_shop.lathe.save()
    with pytest.raises(Conflict, match="no active machine"):
        job_release(job_id=small_shop.job.pk, user=planner)
    assert not small_shop.job.operations.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("quantity", [0, -3])
def test_a_job_of_zero_or_fewer_pieces_is_refused(planner, quantity):
    with pytest.raises(ValidationError) as refused:
        job_create(user=planner, part_revision=PartRevisionFactory(), quantity=quantity, due_date="2030-01-01")
    assert "quantity" in refused.value.message_dict


@pytest.mark.django_db
def test_an_operator_cannot_release_a_job(small_shop, operator):
    with pytest.raises(Forbidden):
        job_release(job_id=small_shop.job.pk, user=operator)
    small_shop.job.refresh_from_db()
    assert small_shop.job.status == JobStatus.PLANNED


@pytest.mark.django_db
def test_job_numbers_are_given_in_sequence(planner):
    revision = PartRevisionFactory()
    first = job_create(user=planner, part_revision=revision, quantity=5, due_date="2030-01-01")
    second = job_create(user=planner, part_revision=revision, quantity=5, due_date="2030-01-01")
    assert first.number.startswith("WO") and int(second.number[-5:]) == int(first.number[-5:]) + 1


@pytest.mark.django_db
def test_releasing_a_draft_revision_then_an_obsolete_one(planner):
    revision = PartRevisionFactory(status=PartRevisionStatus.DRAFT)
    assert part_revision_release(part_revision_id=revision.pk, user=planner).status == PartRevisionStatus.RELEASED
    revision.status = PartRevisionStatus.OBSOLETE
    revision.save()
    with pytest.raises(Conflict, match="obsolete"):
        part_revision_release(part_revision_id=revision.pk, user=planner)


@pytest.mark.django_db
def test_a_job_for_an_order_line_makes_that_line_s_part(planner):
    from jobs.models import SalesOrder, SalesOrderLine
    from tests.factories import PartRevisionFactory

    ordered = PartRevisionFactory()
    order = SalesOrder.objects.create(number="SO-1", customer=_customer(), po_number="PO-9", order_date="2030-01-01")
    line = SalesOrderLine.objects.create(order=order, line_number=1, part_revision=ordered, quantity=5,
                                         due_date="2030-02-01")
    with pytest.raises(ValidationError) as refused:
        job_create(user=planner, part_revision=PartRevisionFactory(), quantity=5, due_date="2030-02-01",
                   order_line=line)
    assert "part_revision" in refused.value.message_dict
    assert job_create(user=planner, part_revision=ordered, quantity=5, due_date="2030-02-01", order_line=line)


def _customer():
    from jobs.models import Customer

    return Customer.objects.create(code="ACME", name="Acme Aero")
