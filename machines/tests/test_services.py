import datetime as dt

import pytest
from django.utils import timezone

from core.errors import ApplicationError, Conflict, Forbidden
from machines.choices import MachineState
from machines.models import DowntimeReason, MachineStateEvent
from machines.services.states import Interval, machine_state_change, state_events_import
from tests.factories import MachineFactory

T0 = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
def alarm(db):
    return DowntimeReason.objects.create(code="ALARM", label="Machine alarm")


@pytest.mark.django_db
def test_a_state_change_closes_the_open_state_where_the_new_one_starts(operator):
    machine = MachineFactory()
    machine_state_change(machine_id=machine.pk, state=MachineState.SETUP, user=operator, at=T0)
    machine_state_change(machine_id=machine.pk, state=MachineState.RUNNING, user=operator,
                         at=T0 + dt.timedelta(minutes=50))

    setup, running = MachineStateEvent.objects.filter(machine=machine).order_by("started_at")
    assert setup.ended_at == running.started_at == T0 + dt.timedelta(minutes=50)
    assert running.ended_at is None


@pytest.mark.django_db
def test_repeating_the_current_state_changes_nothing(operator):
    machine = MachineFactory()
    first = machine_state_change(machine_id=machine.pk, state=MachineState.IDLE, user=operator, at=T0)
    again = machine_state_change(machine_id=machine.pk, state=MachineState.IDLE, user=operator,
                                 at=T0 + dt.timedelta(minutes=5))
    assert again == first and MachineStateEvent.objects.filter(machine=machine).count() == 1


@pytest.mark.django_db
def test_down_needs_an_unplanned_reason(operator, alarm):
    machine = MachineFactory()
    with pytest.raises(ApplicationError, match="needs a reason"):
        machine_state_change(machine_id=machine.pk, state=MachineState.DOWN, user=operator, at=T0)
    with pytest.raises(ApplicationError, match="unplanned reason"):
        machine_state_change(machine_id=machine.pk, state=MachineState.PLANNED_DOWN, user=operator, at=T0,
                             reason=alarm)
    event = machine_state_change(machine_id=machine.pk, state=MachineState.DOWN, user=operator, at=T0, reason=alarm)
    assert event.reason == alarm


@pytest.mark.django_db
def test_a_change_cannot_start_before_the_open_state(operator):
    machine = MachineFactory()
    machine_state_change(machine_id=machine.pk, state=MachineState.RUNNING, user=operator, at=T0)
    with pytest.raises(Conflict):
        machine_state_change(machine_id=machine.pk, state=MachineState.IDLE, user=operator,
                             at=T0 - dt.timedelta(minutes=1))
    assert MachineStateEvent.objects.get(machine=machine).ended_at is None


@pytest.mark.django_db
def test_only_roles_that_report_states_may(planner):
    with pytest.raises(Forbidden):
        machine_state_change(machine_id=MachineFactory().pk, state=MachineState.IDLE, user=planner)


@pytest.mark.django_db
def test_history_import_appends_ordered_intervals_and_refuses_overlaps(operator):
    machine = MachineFactory()
    hour = dt.timedelta(hours=1)
    count = state_events_import(machine_id=machine.pk, user=operator, intervals=[
        Interval(MachineState.SETUP, T0, T0 + hour),
        Interval(MachineState.RUNNING, T0 + hour, T0 + 3 * hour),
    ])
    assert count == 2
    with pytest.raises(ApplicationError, match="overlap"):
        state_events_import(machine_id=machine.pk, user=operator,
                            intervals=[Interval(MachineState.IDLE, T0 + 2 * hour, T0 + 4 * hour)])
    state_events_import(machine_id=machine.pk, user=operator,
                        intervals=[Interval(MachineState.IDLE, T0 + 3 * hour, None)])
    assert MachineStateEvent.objects.filter(machine=machine).count() == 3
    assert timezone.is_aware(MachineStateEvent.objects.get(machine=machine, ended_at=None).started_at)
