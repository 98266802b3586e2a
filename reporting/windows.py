"""The planned windows of a period: each machine calendar's shift windows, split at local midnight, and whole
days; merged into the time ranges they cover, and written into a query as a VALUES list."""

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from machines.selectors import calendar_windows


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


@dataclass(frozen=True)
class Window:
    calendar_id: int
    shift: str
    start: dt.datetime
    end: dt.datetime

    @property
    def day(self) -> dt.date:
        return timezone.localtime(self.start).date()

    @property
    def seconds(self) -> float:
        return self.end.timestamp() - self.start.timestamp()  # instants: right over a daylight-saving change


def planned_windows(*, calendar_ids, start: dt.datetime, end: dt.datetime, shift: str = "") -> list[Window]:
    """Each calendar's planned windows in [start, end) (machines.selectors.calendar_windows, by shift), split
    at local midnight so that a night shift belongs half to each day."""
    result = []
    by_calendar = calendar_windows(calendar_ids=calendar_ids, start=start, end=end, by_shift=True)
    for calendar_id, windows in by_calendar.items():
        for window in windows:
            if shift and window.shift != shift:
                continue
            w_start, w_end = window.starts_at, window.ends_at
            while w_start < w_end:  # split at local midnight
                midnight = local_midnight(timezone.localtime(w_start).date() + dt.timedelta(days=1))
                piece_end = min(w_end, midnight)
                result.append(Window(calendar_id, window.shift, w_start, piece_end))
                w_start = piece_end
    return result


def day_windows(*, calendar_ids, start, end) -> list[Window]:
    """Whole local days, for utilization over 24 h."""
    result = []
    day = timezone.localtime(start).date()
    while local_midnight(day) < end:
        d_start, d_end = max(local_midnight(day), start), min(local_midnight(day + dt.timedelta(days=1)), end)
        if d_start < d_end:
            result.extend(Window(calendar_id, "", d_start, d_end) for calendar_id in calendar_ids)
        day += dt.timedelta(days=1)
    return result


def bucket_key(bucket: str, day: dt.date, shift: str) -> str:
    match bucket:
        case "day":
            return day.isoformat()
        case "week":
            year, week, _ = day.isocalendar()
            return f"{year}-W{week:02d}"
        case "month":
            return f"{day:%Y-%m}"
        case "shift":
            return shift
    return "period"


# ---------------------------------------------------------------------------------------------------
# Windows as time ranges, and in SQL


def merged_spans(windows: Iterable[tuple[Hashable, dt.datetime, dt.datetime]]) -> dict[Hashable, list[tuple]]:
    """Per key, the time ranges that its windows (key, start, end) cover, in order: touching or overlapping
    windows merged into one, so that no instant is counted twice and a query has as few ranges as can be."""
    by_key: dict[Hashable, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for key, w_start, w_end in windows:
        by_key[key].append((w_start, w_end))
    spans = {}
    for key, items in by_key.items():
        merged: list[tuple[dt.datetime, dt.datetime]] = []
        for w_start, w_end in sorted(items):
            if merged and w_start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], w_end))
            else:
                merged.append((w_start, w_end))
        spans[key] = merged
    return spans


def recorded_in(spans: Iterable[tuple[dt.datetime, dt.datetime]]) -> Q:
    """Records (production entries) whose `recorded_at` is inside one of the time ranges; none without any."""
    condition = Q(pk__in=[])
    for span_start, span_end in spans:
        condition |= Q(recorded_at__gte=span_start, recorded_at__lt=span_end)
    return condition


def windows_cte(columns: dict[str, str], rows: list[tuple], *, name: str = "w") -> tuple[str, list]:
    """`<name>(<columns>) AS (VALUES ...)` for a query's WITH clause, and its parameters: windows (a few per day and
    calendar) as a table to join. `columns` maps each column to its PostgreSQL type, since a VALUES list has none
    there; SQLite needs none. Datetimes are adapted as the database stores them."""
    adapt = connection.ops.adapt_datetimefield_value
    if connection.vendor == "postgresql":
        row = ", ".join(f"%s::{sql_type}" for sql_type in columns.values())
    else:
        row = ", ".join(["%s"] * len(columns))
    params = [adapt(value) if isinstance(value, dt.datetime) else value for item in rows for value in item]
    return f"{name}({', '.join(columns)}) AS (VALUES {', '.join([f'({row})'] * len(rows))})", params


def greatest_sql(*values: str) -> str:
    """SQL for the latest of the instants (or the largest of the values); none may be NULL (SQLite's MAX() of a
    NULL is NULL)."""
    return f"{'GREATEST' if connection.vendor == 'postgresql' else 'MAX'}({', '.join(values)})"


def least_sql(*values: str) -> str:
    return f"{'LEAST' if connection.vendor == 'postgresql' else 'MIN'}({', '.join(values)})"


def seconds_between_sql(since: str, until: str) -> str:
    """SQL for the seconds from the instant `since` to `until`, exact to the microsecond in either database."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {until} - {since})"
    # SQLite keeps a datetime as text, "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC: whole seconds from strftime, the
    # microseconds from the text. julianday() and strftime() of the whole text are a float of days and round to
    # the millisecond: seconds that should be equal would differ in the last places.
    whole = f"strftime('%%s', substr({until}, 1, 19)) - strftime('%%s', substr({since}, 1, 19))"
    micro = f"CAST(substr({until}, 21) AS INTEGER) - CAST(substr({since}, 21) AS INTEGER)"
    return f"(({whole}) * 1000000 + {micro}) / 1000000.0"


def overlap_seconds_sql(start: str, end: str) -> str:
    """SQL for the seconds of the interval [start, end) (end NULL while it is open) inside the joined window
    [w.ws, w.we), which it overlaps. Windows end by now (the reports clip them to it), so an open interval runs to
    the window's end."""
    return seconds_between_sql(greatest_sql(start, "w.ws"), least_sql(f"COALESCE({end}, w.we)", "w.we"))
