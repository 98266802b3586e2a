import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.utils import timezone

from machines.choices import CalendarExceptionKind, MachineState
from machines.models import CalendarException, Machine, MachineStateEvent, ShiftWindow


def machine_list() -> QuerySet[Machine]:
    """Machines with their current state (the open state event), in one query."""
    open_event = MachineStateEvent.objects.filter(machine=OuterRef("pk"), ended_at__isnull=True)
    return (
        Machine.objects.select_related("work_center", "calendar")
        .annotate(
            current_state=Subquery(open_event.values("state")[:1]),
            state_since=Subquery(open_event.values("started_at")[:1]),
        )
        .order_by("work_center__code", "code")
    )


def machine_state_counts() -> dict[str, int]:
    """How many active machines are in each state now; machines with no open event count as unknown."""
    counts = dict(
        MachineStateEvent.objects.filter(ended_at__isnull=True, machine__active=True)
        .values_list("state").annotate(n=Count("id")).order_by()
    )
    counts[MachineState.UNKNOWN] = counts.get(MachineState.UNKNOWN, 0) + (
        Machine.objects.filter(active=True).count() - sum(counts.values())
    )
    return counts


@dataclass(frozen=True)
class WorkWindow:
    starts_at: dt.datetime
    ends_at: dt.datetime
    attended: bool
    shift: str = ""  # the shift window's name ("overtime" for extra time), when asked for by shift

    @property
    def seconds(self) -> float:
        # From instants, not wall clocks: a night over a daylight-saving change is 7 or 9 hours long.
        return self.ends_at.timestamp() - self.starts_at.timestamp()


def _subtract(windows: list[WorkWindow], start: dt.datetime, end: dt.datetime) -> list[WorkWindow]:
    kept = []
    for window in windows:
        if window.ends_at <= start or window.starts_at >= end:
            kept.append(window)
            continue
        if window.starts_at < start:
            kept.append(WorkWindow(window.starts_at, start.astimezone(window.starts_at.tzinfo), window.attended,
                                   window.shift))
        if window.ends_at > end:
            kept.append(WorkWindow(end.astimezone(window.ends_at.tzinfo), window.ends_at, window.attended,
                                   window.shift))
    return kept


def calendar_windows(*, calendar_ids: Iterable[int], start: dt.datetime, end: dt.datetime,
                     by_shift: bool = False) -> dict[int, list[WorkWindow]]:
    """The working windows of each calendar between `start` and `end`, in the shop's time zone:
    weekly shift windows (one that ends before it starts runs past midnight), then the dated
    exceptions in order of priority (closed time removed, extra time added, the higher priority
    last so it wins). Touching windows of the same kind are merged; `by_shift` keeps the shift names
    (extra time is "overtime") and merges only windows of the same shift. Two queries.
    The one computation of planned time: the scheduler and the reports both read it."""
    shop_tz = timezone.get_current_timezone()
    ids = list(calendar_ids)
    result: dict[int, list[WorkWindow]] = {calendar_id: [] for calendar_id in ids}
    shifts = list(ShiftWindow.objects.filter(calendar_id__in=ids))
    day = start.astimezone(shop_tz).date() - dt.timedelta(days=1)
    while day <= end.astimezone(shop_tz).date():
        for shift in shifts:
            if shift.weekday != day.weekday():
                continue
            opens = dt.datetime.combine(day, shift.start_time, tzinfo=shop_tz)
            closes_on = day + dt.timedelta(days=1) if shift.end_time <= shift.start_time else day
            closes = dt.datetime.combine(closes_on, shift.end_time, tzinfo=shop_tz)
            opens, closes = max(opens, start), min(closes, end)
            if opens < closes:
                result[shift.calendar_id].append(WorkWindow(opens, closes, shift.attended,
                                                            shift.name if by_shift else ""))
        day += dt.timedelta(days=1)
    exceptions = CalendarException.objects.filter(calendar_id__in=ids, ends_at__gt=start, starts_at__lt=end)
    for exception in exceptions.order_by("priority", "starts_at"):
        windows = _subtract(result[exception.calendar_id], exception.starts_at, exception.ends_at)
        if exception.kind == CalendarExceptionKind.EXTRA:
            windows.append(WorkWindow(max(exception.starts_at, start).astimezone(shop_tz),
                                      min(exception.ends_at, end).astimezone(shop_tz), exception.attended,
                                      "overtime" if by_shift else ""))
        result[exception.calendar_id] = windows
    for calendar_id, windows in result.items():
        merged: list[WorkWindow] = []
        for window in sorted(windows, key=lambda w: w.starts_at):
            last = merged[-1] if merged else None
            if (last and last.attended == window.attended and last.shift == window.shift
                    and window.starts_at <= last.ends_at):
                merged[-1] = WorkWindow(last.starts_at, max(last.ends_at, window.ends_at), last.attended, last.shift)
            else:
                merged.append(window)
        result[calendar_id] = merged
    return result
