"""The time model (SQL over the intervals' running totals) against a plain clipping in Python of every
interval to every window of machines.selectors.calendar_windows: the reports and the scheduler share one
calendar, and the database sums agree with it to the microsecond. Random status logs with odd minutes and
microseconds, a night shift, a closure, overtime, the autumn daylight-saving night, an open last interval."""

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone

from jobs.models import JobOperation, JobOperationMachine, ProductionEntry
from machines.choices import CalendarExceptionKind, MachineState
from machines.models import Calendar, CalendarException, MachineStateEvent, ShiftWindow
from machines.selectors import calendar_windows
from reporting.filters import ReportFilter
from reporting.timemodel import time_model
from tests.factories import MachineFactory

pytestmark = [pytest.mark.django_db, pytest.mark.dialects]

FIRST, LAST = dt.date(2026, 10, 29), dt.date(2026, 11, 3)  # America/Chicago falls back on Sunday 1 November
H = 3600.0


def local(day: dt.date, hour: int, minute: int = 0, microsecond: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute, 0, microsecond)))


NOW = local(LAST, 15, 7, 250_000)


@pytest.fixture
def shop():
    calendar = Calendar.objects.create(name="Three shifts")
    for weekday in range(7):
        ShiftWindow.objects.create(calendar=calendar, name="first", weekday=weekday, start_time=dt.time(6, 30),
                                   end_time=dt.time(14, 45))
        ShiftWindow.objects.create(calendar=calendar, name="second", weekday=weekday, start_time=dt.time(14, 45),
                                   end_time=dt.time(23, 10))
        ShiftWindow.objects.create(calendar=calendar, name="night", weekday=weekday, start_time=dt.time(23, 10),
                                   end_time=dt.time(5, 20), attended=False)
    CalendarException.objects.create(calendar=calendar, kind=CalendarExceptionKind.CLOSED,
                                     starts_at=local(dt.date(2026, 10, 30), 12, 5),
                                     ends_at=local(dt.date(2026, 10, 31), 2, 40), priority=1)
    CalendarException.objects.create(calendar=calendar, kind=CalendarExceptionKind.EXTRA, priority=2,
                                     starts_at=local(dt.date(2026, 10, 30), 20),
                                     ends_at=local(dt.date(2026, 10, 30), 22))
    rng = random.Random(20261101)
    machines = [MachineFactory(calendar=calendar) for _ in range(2)]
    states = [s for s in MachineState.values]
    for machine in machines:
        moment = local(FIRST - dt.timedelta(days=1), 21, 13, 5)
        while moment < NOW:
            end = moment + dt.timedelta(minutes=rng.randint(1, 600), microseconds=rng.randint(0, 999_999))
            open_ = end >= NOW
            MachineStateEvent.objects.create(machine=machine, state=rng.choice(states), started_at=moment,
                                             ended_at=None if open_ else end)
            moment = end + (dt.timedelta(minutes=rng.choice([0, 0, 0, 17])))  # now and then a gap
    return machines


def clipped_in_python(machines, *, shift: str = "") -> dict[tuple[str, str], dict[str, float]]:
    """Per (machine code, local day): POT and the seconds of each state inside the windows, by brute force."""
    start, end = local(FIRST, 0), NOW
    windows = calendar_windows(calendar_ids=[machines[0].calendar_id], start=start, end=end,
                               by_shift=True)[machines[0].calendar_id]
    pieces = []
    for window in windows:
        if shift and window.shift != shift:
            continue
        piece_start = window.starts_at
        while piece_start < window.ends_at:
            day = timezone.localtime(piece_start).date()
            piece_end = min(window.ends_at, local(day + dt.timedelta(days=1), 0))
            pieces.append((day, piece_start, piece_end))
            piece_start = piece_end
    result: dict = defaultdict(lambda: defaultdict(float))
    for machine in machines:
        events = list(MachineStateEvent.objects.filter(machine=machine))
        for day, w_start, w_end in pieces:
            totals = result[(machine.code, day.isoformat())]
            totals["pot"] += w_end.timestamp() - w_start.timestamp()
            for event in events:
                overlap = min(event.ended_at or NOW, w_end).timestamp() - max(event.started_at, w_start).timestamp()
                if overlap > 0:
                    totals[event.state] += overlap
    return result


@pytest.mark.parametrize("shift", ["", "night"])
def test_the_database_sums_agree_with_clipping_every_interval_in_python(shop, shift):
    period = ReportFilter(date_from=FIRST, date_to=LAST, bucket="day", shift=shift)
    models = time_model(period, now=NOW)
    expected = clipped_in_python(shop, shift=shift)
    assert {key for key, model in models.items() if model.pot} == {key for key, t in expected.items() if t["pot"]}
    for key, totals in expected.items():
        model = models[key]
        delay = sum(totals[s] for s in (MachineState.IDLE, MachineState.OFF_SHIFT, MachineState.STOPPED,
                                        MachineState.ALARM))
        unknown = totals[MachineState.UNKNOWN] + totals[MachineState.DISCONNECTED]
        assert model.pot == pytest.approx(totals["pot"], abs=1e-6)
        assert model.apt == pytest.approx(totals[MachineState.RUNNING], abs=1e-6)
        assert model.aust == pytest.approx(totals[MachineState.SETUP], abs=1e-6)
        assert model.adot == pytest.approx(totals[MachineState.DOWN], abs=1e-6)
        assert model.pdot == pytest.approx(totals[MachineState.PLANNED_DOWN], abs=1e-6)
        assert model.adet == pytest.approx(delay, abs=1e-6)
        assert model.unknown == pytest.approx(unknown, abs=1e-6)


def test_the_night_the_clocks_go_back_has_nine_planned_hours():
    calendar = Calendar.objects.create(name="Saturday night")
    ShiftWindow.objects.create(calendar=calendar, name="night", weekday=5, start_time=dt.time(22),
                               end_time=dt.time(6))
    machine = MachineFactory(calendar=calendar)
    saturday, sunday = dt.date(2026, 10, 31), dt.date(2026, 11, 1)
    MachineStateEvent.objects.create(machine=machine, state=MachineState.RUNNING, started_at=local(saturday, 21),
                                     ended_at=local(sunday, 7))
    period = ReportFilter(date_from=saturday, date_to=sunday, machine_id=machine.pk)
    [(_, model)] = time_model(period, now=local(sunday + dt.timedelta(days=2), 0)).items()
    assert model.pot == model.apt == 9 * H  # 22:00 to 06:00 over a 25-hour Sunday
    assert model.hours_24h == 49 * H and model.running_24h == 11 * H
    assert model.kpis()["availability"] == 1.0


def test_parts_made_by_a_cycle_outside_the_shifts_do_not_push_effectiveness_over_100(floor, operator):
    lathe = floor.shop.lathe
    monday = dt.date(2026, 6, 1)
    ShiftWindow.objects.create(calendar=lathe.calendar, name="first", weekday=0, start_time=dt.time(6),
                               end_time=dt.time(14))
    MachineStateEvent.objects.create(machine=lathe, state=MachineState.RUNNING, started_at=local(monday, 4),
                                     ended_at=local(monday, 8))  # lights-out from 4:00, the shift from 6:00
    JobOperation.objects.filter(pk=floor.turn.pk).update(cycle_minutes=Decimal("10"), machine=lathe)
    JobOperationMachine.objects.filter(operation=floor.turn).update(cycle_minutes=Decimal("10"))
    ProductionEntry.objects.create(operator=operator, operation=floor.turn, machine=lathe, quantity_good=24,
                                   recorded_at=local(monday, 8))  # 24 x 10 min = the 4 hours it ran
    period = ReportFilter(date_from=monday, date_to=monday, machine_id=lathe.pk)
    [(_, model)] = time_model(period, now=local(monday, 23)).items()
    assert (model.apt, model.running_24h, model.planned_run) == (2 * H, 4 * H, 4 * H)
    assert model.kpis()["effectiveness"] == 1.0  # not 4 h / 2 h


def test_an_interval_of_no_length_does_not_hide_the_one_starting_with_it():
    calendar = Calendar.objects.create(name="Days")
    ShiftWindow.objects.create(calendar=calendar, name="first", weekday=0, start_time=dt.time(6), end_time=dt.time(14))
    machine = MachineFactory(calendar=calendar)
    monday = dt.date(2026, 6, 1)
    MachineStateEvent.objects.create(machine=machine, state=MachineState.IDLE, started_at=local(monday, 6),
                                     ended_at=local(monday, 8))
    MachineStateEvent.objects.create(machine=machine, state=MachineState.RUNNING, started_at=local(monday, 8))
    # a setup opened and closed at the same instant, written last (a retried terminal, an import)
    MachineStateEvent.objects.create(machine=machine, state=MachineState.SETUP, started_at=local(monday, 8),
                                     ended_at=local(monday, 8))
    period = ReportFilter(date_from=monday, date_to=monday, machine_id=machine.pk)
    [(_, model)] = time_model(period, now=local(monday, 23)).items()
    assert (model.pot, model.adet, model.aust, model.apt) == (8 * H, 2 * H, 0, 6 * H)
