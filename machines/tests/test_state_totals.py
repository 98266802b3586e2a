"""The running totals each state interval carries (seconds its machine spent in each state before it):
written with the interval by every path that writes one, equal to a recomputation from the log, and not
counted twice when two terminals change one machine at once."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from machines.choices import MachineState
from machines.models import DowntimeReason, MachineStateEvent
from machines.services.states import Interval, machine_state_change, state_events_import, state_totals_rebuild
from tests.factories import MachineFactory

H = 3600.0


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(dt.date(2026, 6, day), dt.time(hour, minute)))


def log(machine) -> list[tuple[str, dict]]:
    events = MachineStateEvent.objects.filter(machine=machine).order_by("started_at")
    return [(event.state, event.seconds_before) for event in events]


@pytest.mark.django_db
@pytest.mark.dialects
def test_state_changes_across_midnight_carry_the_totals_before_them(operator):
    machine = MachineFactory()
    alarm = DowntimeReason.objects.create(code="ALARM", label="Machine alarm")
    machine_state_change(machine_id=machine.pk, state=MachineState.RUNNING, user=operator, at=at(1, 20))
    machine_state_change(machine_id=machine.pk, state=MachineState.DOWN, reason=alarm, user=operator, at=at(1, 23))
    machine_state_change(machine_id=machine.pk, state=MachineState.RUNNING, user=operator, at=at(2, 1, 30))
    machine_state_change(machine_id=machine.pk, state=MachineState.SETUP, user=operator, at=at(2, 5))

    assert log(machine) == [
        ("running", {}),
        ("down", {"running": 3 * H}),
        ("running", {"running": 3 * H, "down": 2.5 * H}),  # down over midnight counted whole
        ("setup", {"running": 6.5 * H, "down": 2.5 * H}),
    ]
    assert state_totals_rebuild(machine_ids=[machine.pk]) == 0  # what the log recomputes to


@pytest.mark.django_db
@pytest.mark.dialects
def test_an_import_and_a_row_created_directly_carry_them_too(operator):
    machine = MachineFactory()
    state_events_import(machine_id=machine.pk, user=operator, intervals=[
        Interval(MachineState.IDLE, at(1, 6), at(1, 7)),
        Interval(MachineState.RUNNING, at(1, 7), at(1, 9, 15)),
        Interval(MachineState.IDLE, at(1, 10), at(1, 11)),  # a gap 9:15-10:00 counts for nothing
    ])
    MachineStateEvent.objects.create(machine=machine, state=MachineState.RUNNING, started_at=at(1, 11))
    assert log(machine)[-2:] == [("idle", {"idle": 1 * H, "running": 2.25 * H}),
                                 ("running", {"idle": 2 * H, "running": 2.25 * H})]
    assert state_totals_rebuild(machine_ids=[machine.pk]) == 0


@pytest.mark.django_db
@pytest.mark.dialects
def test_the_rebuild_repairs_totals_changed_by_hand(operator):
    machine = MachineFactory()
    for hour, state in ((6, MachineState.SETUP), (7, MachineState.RUNNING), (9, MachineState.IDLE)):
        machine_state_change(machine_id=machine.pk, state=state, user=operator, at=at(1, hour))
    expected = log(machine)
    MachineStateEvent.objects.filter(machine=machine).update(seconds_before={"running": 1.0})
    assert state_totals_rebuild() == 3
    assert log(machine) == expected


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_of_one_machine_do_not_count_twice(operator):
    machine = MachineFactory()
    machine_state_change(machine_id=machine.pk, state=MachineState.IDLE, user=operator, at=at(1, 6))
    changes = [(MachineState.SETUP if n % 2 else MachineState.RUNNING, at(1, 7, n)) for n in range(20)]

    def change(item):
        state, when = item
        try:
            return machine_state_change(machine_id=machine.pk, state=state, user=operator, at=when)
        except Exception as refused:  # a change dated before the one already recorded is refused
            return refused
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(change, changes))

    events = list(MachineStateEvent.objects.filter(machine=machine).order_by("started_at"))
    assert sum(event.ended_at is None for event in events) == 1
    assert state_totals_rebuild(machine_ids=[machine.pk]) == 0  # each total is its predecessors', once
    last = events[-1]
    assert sum(last.seconds_before.values()) == (last.started_at - at(1, 6)).total_seconds()
