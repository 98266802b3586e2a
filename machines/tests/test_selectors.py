import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from machines.choices import CalendarExceptionKind, Weekday
from machines.models import Calendar, CalendarException, ShiftWindow
from machines.selectors import WorkWindow, calendar_windows

SHOP = ZoneInfo("America/Chicago")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A time in the week of Monday 2 March 2026, in the shop's time zone."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SHOP)


@pytest.fixture
def two_shifts(db):
    calendar = Calendar.objects.create(name="Two shifts")
    for weekday in range(Weekday.MONDAY, Weekday.SATURDAY):
        ShiftWindow.objects.create(calendar=calendar, name="First", weekday=weekday, start_time=dt.time(6),
                                   end_time=dt.time(14, 30))
        ShiftWindow.objects.create(calendar=calendar, name="Second", weekday=weekday, start_time=dt.time(14, 30),
                                   end_time=dt.time(23))
    return calendar


@pytest.mark.django_db
def test_back_to_back_shifts_make_one_window_a_day_and_weekends_are_off(two_shifts, settings):
    settings.TIME_ZONE = "America/Chicago"
    windows = calendar_windows(calendar_ids=[two_shifts.pk], start=at(2, 0), end=at(9, 0))[two_shifts.pk]
    assert windows == [WorkWindow(at(day, 6), at(day, 23), True) for day in range(2, 7)]


@pytest.mark.django_db
def test_a_night_shift_runs_past_midnight_and_the_period_clips_it(settings):
    settings.TIME_ZONE = "America/Chicago"
    calendar = Calendar.objects.create(name="Nights")
    ShiftWindow.objects.create(calendar=calendar, name="Night", weekday=Weekday.MONDAY, start_time=dt.time(22),
                               end_time=dt.time(6), attended=False)
    windows = calendar_windows(calendar_ids=[calendar.pk], start=at(3, 1), end=at(4, 0))[calendar.pk]
    assert windows == [WorkWindow(at(3, 1), at(3, 6), False)]


@pytest.mark.django_db
def test_a_holiday_closes_and_overtime_opens(two_shifts, settings):
    settings.TIME_ZONE = "America/Chicago"
    CalendarException.objects.create(calendar=two_shifts, kind=CalendarExceptionKind.CLOSED, starts_at=at(3, 0),
                                     ends_at=at(4, 0))
    CalendarException.objects.create(calendar=two_shifts, kind=CalendarExceptionKind.EXTRA, starts_at=at(7, 7),
                                     ends_at=at(7, 12))
    windows = calendar_windows(calendar_ids=[two_shifts.pk], start=at(2, 0), end=at(9, 0))[two_shifts.pk]
    assert [(w.starts_at.day, w.starts_at.hour, w.ends_at.hour) for w in windows] == [
        (2, 6, 23), (4, 6, 23), (5, 6, 23), (6, 6, 23), (7, 7, 12)]
