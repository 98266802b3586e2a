"""Every transition of an operation and every refusal, at the service level."""

import pytest

from core.errors import ApplicationError, Conflict, Forbidden
from jobs.choices import Activity, JobStatus, OperationStatus
from jobs.models import LabourEntry, OperationEvent
from jobs.selectors import operation_quantities
from jobs.services.operations import (
    operation_complete,
    operation_first_piece,
    operation_hold,
    operation_pause,
    operation_production_gate_set,
    operation_receive,
    operation_release_hold,
    operation_report,
    operation_resume,
    operation_send,
    operation_start_run,
    operation_start_setup,
)
from machines.choices import FixtureKind, MachineState
from machines.models import Fixture, MachineStateEvent
from tests.factories import RoutingStepFactory


def machine_states(machine) -> list[str]:
    return list(MachineStateEvent.objects.filter(machine=machine).order_by("started_at", "pk")
                .values_list("state", flat=True))


def status_of(operation) -> str:
    operation.refresh_from_db()
    return operation.status


@pytest.fixture
def turning(floor, operator):
    """The turning operation set up on the lathe."""
    operation_start_setup(operation_id=floor.turn.pk, machine_id=floor.shop.lathe.pk, user=operator)
    return floor


@pytest.fixture
def running(turning, operator):
    operation_first_piece(operation_id=turning.turn.pk, user=operator)
    return turning


@pytest.mark.django_db
def test_start_setup_takes_the_machine_and_opens_setup_labour(floor, operator):
    op = operation_start_setup(operation_id=floor.turn.pk, machine_id=floor.shop.lathe.pk, user=operator,
                               terminal="lathe-1")
    assert (op.status, op.machine) == (OperationStatus.SETUP, floor.shop.lathe)
    assert machine_states(floor.shop.lathe) == [MachineState.SETUP]
    labour = LabourEntry.objects.get(operation=op)
    assert (labour.operator, labour.activity, labour.ended_at) == (operator, Activity.SETUP, None)
    floor.shop.job.refresh_from_db()
    assert floor.shop.job.status == JobStatus.IN_PROGRESS
    event = OperationEvent.objects.get(operation=op)
    assert (event.action, event.user, event.terminal, event.from_status, event.to_status) == (
        "start_setup", operator, "lathe-1", OperationStatus.READY, OperationStatus.SETUP)


@pytest.mark.django_db
def test_first_piece_without_a_first_article_goes_straight_to_running(turning, operator):
    op = operation_first_piece(operation_id=turning.turn.pk, user=operator)
    assert op.status == OperationStatus.RUNNING
    assert machine_states(turning.shop.lathe) == [MachineState.SETUP, MachineState.RUNNING]
    entries = LabourEntry.objects.filter(operation=op).order_by("started_at", "pk")
    assert [(e.activity, e.ended_at is None) for e in entries] == [(Activity.SETUP, False), (Activity.RUN, True)]


@pytest.mark.django_db
def test_setup_and_run_time_are_recorded_apart(running, operator):
    op = operation_complete(operation_id=running.turn.pk, user=operator, short_reason="Material short")
    activities = set(LabourEntry.objects.filter(operation=op).values_list("activity", flat=True))
    assert activities == {Activity.SETUP, Activity.RUN}
    assert not LabourEntry.objects.filter(operation=op, ended_at__isnull=True).exists()


@pytest.mark.django_db
def test_report_counts_and_completes_at_the_quantity(running, operator):
    operation_report(operation_id=running.turn.pk, user=operator, good=6)
    operation_report(operation_id=running.turn.pk, user=operator, good=3, scrap=1, scrap_reason=running.chips)
    assert operation_quantities(running.turn) == {"good": 9, "scrap": 1, "rework": 0}
    assert status_of(running.turn) == OperationStatus.DONE
    assert status_of(running.mill) == OperationStatus.READY  # the next operation may start
    assert machine_states(running.shop.lathe)[-1] == MachineState.IDLE


@pytest.mark.django_db
@pytest.mark.parametrize(("quantities", "field"), [
    ({"good": -1}, "good"), ({"good": 0}, "good"), ({"scrap": 2}, "scrap_reason"),
])
def test_bad_quantities_are_refused(running, operator, quantities, field):
    with pytest.raises(ApplicationError) as refused:
        operation_report(operation_id=running.turn.pk, user=operator, **quantities)
    assert refused.value.field == field
    assert operation_quantities(running.turn)["good"] == 0


@pytest.mark.django_db
def test_more_good_pieces_than_ordered_needs_the_overrun_confirmed(running, operator):
    with pytest.raises(Conflict, match="over-run") as refused:
        operation_report(operation_id=running.turn.pk, user=operator, good=11)
    assert refused.value.code == "overrun"
    operation_report(operation_id=running.turn.pk, user=operator, good=11, confirm_overrun=True)
    assert operation_quantities(running.turn)["good"] == 11


@pytest.mark.django_db
def test_pause_opens_a_down_interval_and_resume_goes_back(running, operator):
    op = operation_pause(operation_id=running.turn.pk, user=operator, reason=running.alarm)
    assert (op.status, op.resume_status) == (OperationStatus.PAUSED, OperationStatus.RUNNING)
    assert machine_states(running.shop.lathe)[-1] == MachineState.DOWN
    assert not LabourEntry.objects.filter(operation=op, ended_at__isnull=True).exists()

    op = operation_resume(operation_id=running.turn.pk, user=operator)
    assert op.status == OperationStatus.RUNNING
    assert machine_states(running.shop.lathe)[-2:] == [MachineState.DOWN, MachineState.RUNNING]
    assert LabourEntry.objects.filter(operation=op, ended_at__isnull=True, activity=Activity.RUN).count() == 1


@pytest.mark.django_db
def test_a_planned_reason_makes_planned_down_time(turning, operator):
    operation_pause(operation_id=turning.turn.pk, user=operator, reason=turning.break_)
    assert machine_states(turning.shop.lathe)[-1] == MachineState.PLANNED_DOWN
    assert operation_resume(operation_id=turning.turn.pk, user=operator).status == OperationStatus.SETUP


@pytest.mark.django_db
def test_pause_needs_a_reason(running, operator):
    with pytest.raises(ApplicationError, match="why"):
        operation_pause(operation_id=running.turn.pk, user=operator, reason=None)
    assert status_of(running.turn) == OperationStatus.RUNNING


@pytest.mark.django_db
def test_closing_short_needs_a_reason(running, operator):
    operation_report(operation_id=running.turn.pk, user=operator, good=4)
    with pytest.raises(ApplicationError, match="close short"):
        operation_complete(operation_id=running.turn.pk, user=operator)
    op = operation_complete(operation_id=running.turn.pk, user=operator, short_reason="Customer cut the order")
    assert (op.status, op.closed_short_reason) == (OperationStatus.DONE, "Customer cut the order")


@pytest.mark.django_db
def test_hold_stops_reports_and_release_goes_back_where_it_was(running, operator, inspector):
    operation_hold(operation_id=running.turn.pk, user=inspector, reason="Suspect bar stock")
    assert machine_states(running.shop.lathe)[-1] == MachineState.IDLE
    with pytest.raises(Conflict, match="on hold"):
        operation_report(operation_id=running.turn.pk, user=operator, good=1)
    op = operation_release_hold(operation_id=running.turn.pk, user=inspector)
    assert op.status == OperationStatus.RUNNING
    assert machine_states(running.shop.lathe)[-1] == MachineState.RUNNING
    # The operator who was running it carries on the clock.
    assert LabourEntry.objects.get(operation=op, ended_at__isnull=True).operator == operator


@pytest.mark.django_db
def test_an_operator_cannot_hold(running, operator):
    with pytest.raises(Forbidden):
        operation_hold(operation_id=running.turn.pk, user=operator, reason="x")


@pytest.mark.django_db
def test_hold_of_a_waiting_operation_returns_it_to_waiting(floor, inspector):
    operation_hold(operation_id=floor.mill.pk, user=inspector, reason="Drawing query")
    assert operation_release_hold(operation_id=floor.mill.pk, user=inspector).status == OperationStatus.PENDING


@pytest.mark.django_db
def test_first_article_gate(floor, operator, inspector):
    operation_start_setup(operation_id=floor.turn.pk, machine_id=floor.shop.lathe.pk, user=operator)
    operation_first_piece(operation_id=floor.turn.pk, user=operator)
    operation_complete(operation_id=floor.turn.pk, user=operator, short_reason="test")
    operation_start_setup(operation_id=floor.mill.pk, machine_id=floor.shop.vf4.pk, user=operator)

    op = operation_first_piece(operation_id=floor.mill.pk, user=operator)
    assert op.status == OperationStatus.FIRST_ARTICLE
    with pytest.raises(Conflict, match="first article"):
        operation_start_run(operation_id=floor.mill.pk, user=operator)
    with pytest.raises(Conflict):
        operation_report(operation_id=floor.mill.pk, user=operator, good=1)
    with pytest.raises(Forbidden):  # only an inspector's approval opens the gate
        operation_production_gate_set(operation_id=floor.mill.pk, user=operator, open_gate=True)

    with pytest.raises(Conflict, match="not waiting"):  # the turning operation needs no first article
        operation_production_gate_set(operation_id=floor.turn.pk, user=inspector, open_gate=False)
    operation_production_gate_set(operation_id=floor.mill.pk, user=inspector, open_gate=False)
    assert status_of(floor.mill) == OperationStatus.SETUP  # rejected: a new first piece
    operation_first_piece(operation_id=floor.mill.pk, user=operator)
    operation_production_gate_set(operation_id=floor.mill.pk, user=inspector, open_gate=True)
    assert operation_start_run(operation_id=floor.mill.pk, user=operator).status == OperationStatus.RUNNING


@pytest.mark.django_db
def test_wrong_transitions_are_refused_and_change_nothing(floor, operator):
    with pytest.raises(Conflict, match="“Start run” does not apply"):
        operation_start_run(operation_id=floor.turn.pk, user=operator)
    with pytest.raises(Conflict, match="“Start setup” does not apply"):  # not ready: its predecessor is not done
        operation_start_setup(operation_id=floor.mill.pk, machine_id=floor.shop.vf4.pk, user=operator)
    with pytest.raises(Conflict, match="not one of the machines"):
        operation_start_setup(operation_id=floor.turn.pk, machine_id=floor.shop.vf2.pk, user=operator)
    with pytest.raises(Conflict, match="“Resume” does not apply"):
        operation_resume(operation_id=floor.turn.pk, user=operator)
    assert status_of(floor.turn) == OperationStatus.READY
    assert not MachineStateEvent.objects.exists() and not OperationEvent.objects.exists()


@pytest.mark.django_db
def test_a_machine_runs_one_operation_at_a_time(turning, operator, planner):
    from jobs.services.release import job_release
    from tests.factories import JobFactory

    other = JobFactory(part_revision=turning.shop.revision)
    job_release(job_id=other.pk, user=planner)
    with pytest.raises(Conflict, match="busy"):
        operation_start_setup(operation_id=other.operations.get(operation_number=10).pk,
                              machine_id=turning.shop.lathe.pk, user=operator)


@pytest.mark.django_db
def test_a_fixture_in_use_elsewhere_is_refused_an_idle_one_moves(floor, operator, planner):
    from jobs.services.release import job_release
    from tests.factories import JobFactory, MachineFactory

    vise = Fixture.objects.create(code="VISE-1", name="6in vise", kind=FixtureKind.VISE)
    second_lathe = MachineFactory(code="LB2", work_center=floor.shop.lathes, calendar=floor.shop.lathe.calendar)
    floor.turn.fixture = vise
    floor.turn.save()
    other = JobFactory(part_revision=floor.shop.revision)
    job_release(job_id=other.pk, user=planner)
    other_turn = other.operations.get(operation_number=10)
    other_turn.fixture = vise
    other_turn.save()

    operation_start_setup(operation_id=floor.turn.pk, machine_id=floor.shop.lathe.pk, user=operator)
    vise.refresh_from_db()
    assert vise.mounted_on == floor.shop.lathe
    with pytest.raises(Conflict, match="VISE-1 is mounted on"):
        operation_start_setup(operation_id=other_turn.pk, machine_id=second_lathe.pk, user=operator)

    operation_complete(operation_id=floor.turn.pk, user=operator, short_reason="test")
    operation_start_setup(operation_id=other_turn.pk, machine_id=second_lathe.pk, user=operator)
    vise.refresh_from_db()
    assert vise.mounted_on == second_lathe


@pytest.mark.django_db
def test_outside_processing_is_sent_and_received(floor, operator):
    step = RoutingStepFactory(routing=floor.shop.turn.routing, operation_number=30, name="Anodize",
                              kind="outside", work_center=None, vendor="Valley Anodizing")
    from jobs.models import JobOperation

    anodize = JobOperation.objects.create(job=floor.shop.job, routing_step=step, operation_number=30,
                                          name="Anodize", kind="outside", vendor="Valley Anodizing",
                                          status=OperationStatus.READY)
    with pytest.raises(Conflict, match="outside processing"):
        operation_start_setup(operation_id=anodize.pk, machine_id=floor.shop.lathe.pk, user=operator)
    op = operation_send(operation_id=anodize.pk, user=operator, vendor="")
    assert (op.status, op.vendor) == (OperationStatus.SENT, "Valley Anodizing")
    with pytest.raises(ApplicationError, match="certificate"):
        operation_receive(operation_id=anodize.pk, user=operator, quantity=10, certificate_number=" ")
    op = operation_receive(operation_id=anodize.pk, user=operator, quantity=10, certificate_number="C-7781")
    assert (op.status, op.vendor_certificate_number) == (OperationStatus.DONE, "C-7781")
    assert operation_quantities(op)["good"] == 10


@pytest.mark.django_db
def test_a_retried_request_with_its_key_applies_once(running, operator):
    for _ in range(3):
        operation_report(operation_id=running.turn.pk, user=operator, good=2, idempotency_key="tap-1")
    assert operation_quantities(running.turn)["good"] == 2
    with pytest.raises(Conflict, match="different request"):
        operation_pause(operation_id=running.turn.pk, user=operator, reason=running.alarm,
                        idempotency_key="tap-1")


@pytest.mark.django_db
def test_an_inspector_cannot_run_operations(floor, inspector):
    with pytest.raises(Forbidden):
        operation_start_setup(operation_id=floor.turn.pk, machine_id=floor.shop.lathe.pk, user=inspector)
