"""Manager reports: the ISO 22400-2 time model and KPIs, delivery, paretos, estimated vs actual and cost.

Everything that grows with the shop's history (state events, labour and production entries) is
aggregated in the database; Python only expands the calendars of the period (a few windows per day)
and rolls the aggregated rows up. Each report returns a `Table`: the page, the API and the CSV/XLSX
exports all render the same rows, so they cannot disagree.

Time model (ISO 22400-2, per machine = "work unit"), all clipped to the period and to `now`:
  POT  planned operation time: the calendar's shift windows (plus overtime, minus closures).
  PDOT planned down time: time in state "planned down" inside POT.
  PBT  planned busy time = POT - PDOT.
  APT  actual production time: time in state "running" inside POT.
  AUST actual unit setup time: time in state "setup" inside POT.
  ADET actual unit delay time: idle, unknown and off-shift states inside POT (available, not working).
  ADOT actual unit down time: time in state "down" (unplanned) inside POT.
  AUBT actual unit busy time = APT + AUST + ADET.
A state interval is split at every window boundary (shift change, midnight, period edge); an open
interval counts up to now.
"""

import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Greatest, Least, TruncDate
from django.utils import timezone

from jobs.choices import Activity, JobStatus, OperationStatus, StepKind
from jobs.models import (
    Job,
    JobOperation,
    JobOperationMachine,
    LabourEntry,
    OperationEvent,
    PartRevision,
    ProductionEntry,
    Routing,
    ScheduleEntry,
    ScheduleRun,
)
from machines.choices import MachineState
from machines.models import Machine, MachineStateEvent
from machines.selectors import calendar_windows

# Labour cost per operator hour, added to the machine's rate at release. Settable in settings.
SHOP_LABOUR_RATE = Decimal(str(settings.SHOP_LABOUR_RATE))
BATCH_SIZES = (1, 2, 5, 10, 25, 50)
NO_PLANNED_TIME = "no planned time"
DELAY_STATES = (MachineState.IDLE, MachineState.UNKNOWN, MachineState.OFF_SHIFT)

DEFINITIONS: dict[str, str] = {
    "POT": "Planned operation time: the machine calendar's shift windows in the period "
           "(overtime added, closures removed), up to now.",
    "PDOT": "Planned down time: time in the state 'planned down' inside the planned operation time.",
    "PBT": "Planned busy time = POT − PDOT.",
    "APT": "Actual production time: time in the state 'running' inside the planned operation time.",
    "AUST": "Actual unit setup time: time in the state 'setup' inside the planned operation time.",
    "ADET": "Actual unit delay time: idle, unknown or off-shift inside the planned operation time.",
    "ADOT": "Actual unit down time: unplanned down time inside the planned operation time.",
    "AUBT": "Actual unit busy time = APT + AUST + ADET.",
    "Availability": "APT / PBT.",
    "Effectiveness": "Planned run time per unit × produced quantity / the running time in which those units were "
                     "made. Planned run time per unit is the operation's cycle minutes on that machine (frozen at "
                     "release) / parts per cycle. Units count by the day they were reported, so the running time "
                     "is the whole day's (a lights-out cycle outside the shifts made parts too); with a shift, "
                     "units and running time both count inside that shift's windows (APT).",
    "Quality ratio": "Good quantity / produced quantity (produced = good + scrap + rework). Quantities count "
                     "by the time they were reported: by day, or, with a shift, inside that shift's windows.",
    "OEE": "Availability × effectiveness × quality ratio.",
    "NEE": "Net equipment effectiveness: like OEE, but setup is not a loss: APT / (PBT − AUST) × "
           "effectiveness × quality ratio.",
    "Utilization efficiency": "APT / AUBT.",
    "Allocation efficiency": "AUBT / PBT.",
    "Setup rate": "AUST / (APT + AUST).",
    "Scrap ratio": "Scrap quantity / produced quantity.",
    "First-pass yield": "Good quantity / produced quantity, rework counted as not good the first time.",
    "Throughput": "Produced quantity per hour of planned busy time.",
    "Utilization (planned)": "Running time / planned operation time (POT).",
    "Utilization (24 h)": "Running time / 24 h per day of the period, whatever the calendar, as "
                          "machine-monitoring products show it (not limited to the shift filter).",
}


# ---------------------------------------------------------------------------------------------------
# Filters and tables


@dataclass(frozen=True)
class ReportFilter:
    date_from: dt.date
    date_to: dt.date  # inclusive
    machine_id: int | None = None
    work_center_id: int | None = None
    shift: str = ""
    group: str = "machine"  # machine | work_center | shop
    bucket: str = "total"  # total | day | week | month | shift

    @property
    def start(self) -> dt.datetime:
        return _local_midnight(self.date_from)

    @property
    def end(self) -> dt.datetime:
        return _local_midnight(self.date_to + dt.timedelta(days=1))

    def machines(self):
        machines = Machine.objects.all()
        if self.machine_id:
            machines = machines.filter(pk=self.machine_id)
        if self.work_center_id:
            machines = machines.filter(work_center_id=self.work_center_id)
        return machines


@dataclass
class Table:
    name: str
    title: str
    columns: list[tuple[str, str]]  # (key, label)
    rows: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    chart: dict | None = None

    def header(self) -> list[str]:
        return [label for _, label in self.columns]

    def values(self) -> list[list[Any]]:
        return [[row.get(key) for key, _ in self.columns] for row in self.rows]

    def display_rows(self) -> list[list[str]]:
        return [[display(value) for value in row] for row in self.values()]


def display(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return str(value)  # rounded where computed
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def ratio(numerator: float, denominator: float) -> float | None:
    """None (shown as "no planned time" where the denominator is planned time) instead of dividing by 0."""
    return numerator / denominator if denominator else None


def hours(seconds: float) -> float:
    return round(seconds / 3600, 3)


# ---------------------------------------------------------------------------------------------------
# Calendars: the planned windows of the period (a few per day; computed here, small)


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
                midnight = _local_midnight(timezone.localtime(w_start).date() + dt.timedelta(days=1))
                piece_end = min(w_end, midnight)
                result.append(Window(calendar_id, window.shift, w_start, piece_end))
                w_start = piece_end
    return result


def _day_windows(*, calendar_ids, start, end) -> list[Window]:
    """Whole local days, for utilization over 24 h."""
    result = []
    day = timezone.localtime(start).date()
    while _local_midnight(day) < end:
        d_start, d_end = max(_local_midnight(day), start), min(_local_midnight(day + dt.timedelta(days=1)), end)
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
# The time model in SQL
#
# PostgreSQL: every state interval carries the seconds its machine spent in each state before it
# (`MachineStateEvent.seconds_before`, written with the interval). The seconds in a state up to an instant x,
# C(x), are those totals of the interval in force at x plus its own part up to x: one index probe. The time
# in a state inside a window [a, b) is C(b) - C(a), exact to the microsecond whatever the interval lengths,
# and a window set costs one probe per machine and window edge (touching windows of a bucket are merged
# first): a year of a 60-machine shop is tens of thousands of probes, not a million intervals.


def _window_edges(windows: list[tuple]) -> list[tuple]:
    """(kind, calendar_id, bucket, instant, sign): +1 at each window's end, -1 at its start, touching or
    overlapping windows of the same kind, calendar and bucket merged into one."""
    spans: dict[tuple, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for kind, window, bucket in windows:
        spans[(kind, window.calendar_id, bucket)].append((window.start, window.end))
    edges = []
    for (kind, calendar_id, bucket), items in spans.items():
        merged: list[list[dt.datetime]] = []
        for w_start, w_end in sorted(items):
            if merged and w_start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], w_end)
            else:
                merged.append([w_start, w_end])
        for w_start, w_end in merged:
            edges.append((kind, calendar_id, bucket, w_start, -1))
            edges.append((kind, calendar_id, bucket, w_end, 1))
    return edges


def _state_seconds_postgresql(*, machines: dict[int, int], windows: list[tuple], now) -> list[tuple]:
    edges = _window_edges(windows)
    values = ", ".join(["(%s::integer, %s, %s, %s::timestamptz, %s::integer)"] * len(edges))
    params: list[Any] = [value for edge in edges for value in (edge[1], edge[0], edge[2], edge[3], edge[4])]
    every_machine = len(machines) == Machine.objects.count()
    machine_filter = "" if every_machine else "AND m.id = ANY(%s)"
    states = list(MachineState.values)
    # C(x) per state, one column each: the totals before the interval in force at x, plus its own part
    at_instant = ", ".join(
        f"COALESCE((e.seconds_before ->> '{state}')::float8, 0) + CASE WHEN e.state = '{state}' THEN "
        f"GREATEST(EXTRACT(EPOCH FROM LEAST(x.at, COALESCE(e.ended_at, %s)) - e.started_at)::float8, 0) "
        f"ELSE 0 END AS s{n}" for n, state in enumerate(states))
    sums = ", ".join(f"SUM(w.sign * c.s{n})" for n in range(len(states)))
    sql = f"""
        WITH w(calendar_id, kind, bucket, at, sign) AS (VALUES {values}),
        c AS (
            SELECT m.id AS machine_id, x.calendar_id, x.at, {at_instant}
            FROM machines_machine m
            JOIN (SELECT DISTINCT calendar_id, at FROM w) x ON x.calendar_id = m.calendar_id
            CROSS JOIN LATERAL (
                SELECT ev.state, ev.started_at, ev.ended_at, ev.seconds_before
                FROM machines_machinestateevent ev
                WHERE ev.machine_id = m.id AND ev.started_at <= x.at
                  -- an interval of no length adds nothing; skipped, it cannot hide the one starting with it
                  AND (ev.ended_at IS NULL OR ev.ended_at > ev.started_at)
                ORDER BY ev.started_at DESC LIMIT 1
            ) e
            WHERE TRUE {machine_filter}
        )
        SELECT c.machine_id, w.kind, w.bucket, {sums}
        FROM c JOIN w ON w.calendar_id = c.calendar_id AND w.at = c.at
        GROUP BY c.machine_id, w.kind, w.bucket
    """
    params += [now] * len(states) + ([] if every_machine else [list(machines)])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [(machine_id, kind, bucket, state, float(seconds or 0))
            for machine_id, kind, bucket, *by_state in rows for state, seconds in zip(states, by_state, strict=True)]


# SQLite (the embedded demo database, small): the windows as a VALUES list, joined to the intervals.


def _window_values(windows: list[tuple]) -> tuple[str, list]:
    """A VALUES list (kind, calendar_id, bucket, ws, we) for the query; windows are few (days x shifts)."""
    adapt = connection.ops.adapt_datetimefield_value
    rows, params = [], []
    for kind, window, bucket in windows:
        rows.append("(%s, %s, %s, %s, %s)")
        params.extend([kind, window.calendar_id, bucket, adapt(window.start), adapt(window.end)])
    return ", ".join(rows), params


def _state_seconds_sqlite(*, machine_ids: list[int], windows: list[tuple], start, end, now) -> list[tuple]:
    """Rows (machine_id, kind, bucket, state, seconds): each state interval clipped to each window it
    overlaps, open intervals up to now. One query; the database does the sums."""
    values, params = _window_values(windows)
    adapt = connection.ops.adapt_datetimefield_value
    end_expr = "COALESCE(e.ended_at, %s)"
    # julianday is a float of days: round each clipped interval to the millisecond.
    seconds = f"ROUND((julianday(MIN({end_expr}, w.we)) - julianday(MAX(e.started_at, w.ws))) * 86400.0, 3)"
    placeholders = ", ".join(["%s"] * len(machine_ids))
    sql = f"""
        WITH w(kind, calendar_id, bucket, ws, we) AS (VALUES {values})
        SELECT e.machine_id, w.kind, w.bucket, e.state, SUM({seconds})
        FROM machines_machinestateevent e
        JOIN machines_machine m ON m.id = e.machine_id
        JOIN w ON w.calendar_id = m.calendar_id AND e.started_at < w.we AND {end_expr} > w.ws
        WHERE e.machine_id IN ({placeholders}) AND e.started_at < %s AND {end_expr} > %s
        GROUP BY e.machine_id, w.kind, w.bucket, e.state
    """
    now_a = adapt(now)
    all_params = [*params, now_a, now_a, *machine_ids, adapt(end), now_a, adapt(start)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        return [(m, kind, bucket, state, float(secs or 0)) for m, kind, bucket, state, secs in cursor.fetchall()]


def _state_seconds(*, machines: dict[int, int], windows: list[tuple], start, end, now) -> list[tuple]:
    """Rows (machine_id, kind, bucket, state, seconds): each state interval clipped to the windows it
    overlaps ("cal": the calendar's, "day": whole days), open intervals up to now. `machines` maps each
    machine id to its calendar id. One query; the database does the sums."""
    if not windows or not machines:
        return []
    if connection.vendor == "postgresql":
        # zero sums: instants of a bucket the machine never was in that state
        return [row for row in _state_seconds_postgresql(machines=machines, windows=windows, now=now) if row[4]]
    return _state_seconds_sqlite(machine_ids=list(machines), windows=windows, start=start, end=end, now=now)


def _production(*, machine_ids, windows: list[tuple], kind: str) -> dict:
    """Per (machine, bucket): produced, good, scrap, rework and planned run seconds (standard cycle of
    the operation on that machine, frozen at release, per piece x pieces) of the entries recorded in the
    windows of `kind`: whole days (one query grouped by local day), or the calendar's windows when a shift
    is asked for (one query per bucket, its windows merged into as few time ranges as they make)."""
    result: dict = defaultdict(lambda: defaultdict(float))
    if not windows or not machine_ids:
        return result
    spans: dict[str, dict[int, list[list]]] = defaultdict(lambda: defaultdict(list))
    for window_kind, window, bucket in sorted(windows, key=lambda item: item[1].start):
        if window_kind != kind:
            continue
        calendar_spans = spans[bucket][window.calendar_id]
        if calendar_spans and calendar_spans[-1][1] == window.start:
            calendar_spans[-1][1] = window.end
        else:
            calendar_spans.append([window.start, window.end])
    cycle = Coalesce(
        Subquery(JobOperationMachine.objects.filter(operation=OuterRef("operation"), machine=OuterRef("machine"))
                 .values("cycle_minutes")[:1]),
        F("operation__cycle_minutes"),
    )
    per_piece_seconds = ExpressionWrapper(
        Cast(cycle, FloatField()) * 60.0 / Cast(F("operation__parts_per_cycle"), FloatField()),
        output_field=FloatField(),
    )
    produced = F("quantity_good") + F("quantity_scrap") + F("quantity_rework")
    aggregates = {
        "produced": Sum(produced), "good": Sum("quantity_good"), "scrap": Sum("quantity_scrap"),
        "rework": Sum("quantity_rework"),
        "planned_run": Sum(ExpressionWrapper(Cast(produced, FloatField()) * per_piece_seconds,
                                             output_field=FloatField())),
    }
    if kind == "day":  # whole local days, the same for every calendar: one query, grouped by day
        days = [(window, bucket) for window_kind, window, bucket in windows if window_kind == "day"]
        if not days:
            return result
        bucket_of = {window.day: bucket for window, bucket in days}
        rows = (
            ProductionEntry.objects.filter(machine_id__in=machine_ids,
                                           recorded_at__gte=min(window.start for window, _ in days),
                                           recorded_at__lt=max(window.end for window, _ in days))
            .annotate(day=TruncDate("recorded_at", tzinfo=timezone.get_current_timezone()))
            .values("machine_id", "day").annotate(**aggregates).order_by()
        )
        for row in rows:
            target = result[(row["machine_id"], bucket_of[row["day"]])]
            for key in aggregates:
                target[key] += float(row[key] or 0)
        return result
    calendars = dict(Machine.objects.filter(pk__in=machine_ids).values_list("pk", "calendar_id"))
    for bucket, by_calendar in spans.items():
        condition = Q()
        for calendar_id, calendar_spans in by_calendar.items():
            ranges = Q()
            for span_start, span_end in calendar_spans:
                ranges |= Q(recorded_at__gte=span_start, recorded_at__lt=span_end)
            condition |= Q(machine_id__in=[m for m, c in calendars.items() if c == calendar_id]) & ranges
        rows = (
            ProductionEntry.objects.filter(condition)
            .values("machine_id")
            .annotate(**aggregates)
        )
        for row in rows:
            target = result[(row["machine_id"], bucket)]
            for key in ("produced", "good", "scrap", "rework", "planned_run"):
                target[key] += float(row[key] or 0)
    return result


@dataclass
class TimeModel:
    pot: float = 0.0
    pdot: float = 0.0
    apt: float = 0.0
    aust: float = 0.0
    adet: float = 0.0
    adot: float = 0.0
    running_24h: float = 0.0
    hours_24h: float = 0.0
    produced: float = 0.0
    good: float = 0.0
    scrap: float = 0.0
    rework: float = 0.0
    planned_run: float = 0.0
    # running time in the same scope as the quantities (whole days, or the shift's windows): effectiveness
    production_time: float = 0.0

    def add(self, other: "TimeModel") -> None:
        for key in self.__dataclass_fields__:
            setattr(self, key, getattr(self, key) + getattr(other, key))

    @property
    def pbt(self) -> float:
        return self.pot - self.pdot

    @property
    def aubt(self) -> float:
        return self.apt + self.aust + self.adet

    def kpis(self) -> dict[str, float | None]:
        availability = ratio(self.apt, self.pbt)
        effectiveness = ratio(self.planned_run, self.production_time)
        quality = ratio(self.good, self.produced)
        oee = None if None in (availability, effectiveness, quality) else availability * effectiveness * quality
        net_availability = ratio(self.apt, self.pbt - self.aust)
        nee = None if None in (net_availability, effectiveness, quality) else (
            net_availability * effectiveness * quality)
        return {
            "availability": availability,
            "effectiveness": effectiveness,
            "quality": quality,
            "oee": oee,
            "nee": nee,
            "utilization_efficiency": ratio(self.apt, self.aubt),
            "allocation_efficiency": ratio(self.aubt, self.pbt),
            "setup_rate": ratio(self.aust, self.apt + self.aust),
            "scrap_ratio": ratio(self.scrap, self.produced),
            "first_pass_yield": ratio(self.good, self.produced),
            "throughput": ratio(self.produced, self.pbt / 3600),
            "utilization_planned": ratio(self.apt, self.pot),
            "utilization_24h": ratio(self.running_24h, self.hours_24h),
        }


def time_model(filters: ReportFilter, *, now: dt.datetime | None = None) -> dict[tuple[str, str], TimeModel]:
    """The time model and quantities per (group key, bucket), keys sorted. Group keys are machine codes,
    work center codes or "shop"."""
    now = now or timezone.now()
    machines = list(filters.machines().select_related("work_center").order_by("code"))
    start, end = filters.start, min(filters.end, now)
    calendar_ids = sorted({m.calendar_id for m in machines})
    windows: list[tuple] = []
    if start < end:
        for window in planned_windows(calendar_ids=calendar_ids, start=start, end=end, shift=filters.shift):
            windows.append(("cal", window, bucket_key(filters.bucket, window.day, window.shift)))
        # By shift there is no 24-hour figure: a day's 24 h belong to no shift (it stayed a "24 h" row of zeros).
        if filters.bucket != "shift":
            for window in _day_windows(calendar_ids=calendar_ids, start=start, end=end):
                windows.append(("day", window, bucket_key(filters.bucket, window.day, "")))
    machine_ids = [m.pk for m in machines]
    per_machine: dict[tuple[int, str], TimeModel] = defaultdict(TimeModel)
    # Planned time and 24 h come straight from the windows, per calendar, for every machine.
    calendar_pot: dict[tuple[int, str], float] = defaultdict(float)
    calendar_day: dict[tuple[int, str], float] = defaultdict(float)
    for kind, window, bucket in windows:
        target = calendar_pot if kind == "cal" else calendar_day
        target[(window.calendar_id, bucket)] += window.seconds
    for machine in machines:
        for (calendar_id, bucket), seconds in calendar_pot.items():
            if calendar_id == machine.calendar_id:
                per_machine[(machine.pk, bucket)].pot += seconds
        for (calendar_id, bucket), seconds in calendar_day.items():
            if calendar_id == machine.calendar_id:
                per_machine[(machine.pk, bucket)].hours_24h += seconds
    for machine_id, kind, bucket, state, seconds in _state_seconds(
        machines={m.pk: m.calendar_id for m in machines}, windows=windows, start=start, end=end, now=now,
    ):
        model = per_machine[(machine_id, bucket)]
        if kind == "day":
            if state == MachineState.RUNNING:
                model.running_24h += seconds
            continue
        match state:
            case MachineState.RUNNING:
                model.apt += seconds
            case MachineState.SETUP:
                model.aust += seconds
            case MachineState.DOWN:
                model.adot += seconds
            case MachineState.PLANNED_DOWN:
                model.pdot += seconds
            case _:
                model.adet += seconds
    production_kind = "cal" if filters.shift or filters.bucket == "shift" else "day"
    for model in per_machine.values():
        model.production_time = model.apt if production_kind == "cal" else model.running_24h
    for (machine_id, bucket), quantities in _production(machine_ids=machine_ids, windows=windows,
                                                        kind=production_kind).items():
        model = per_machine[(machine_id, bucket)]
        for key, value in quantities.items():
            setattr(model, key, getattr(model, key) + value)
    by_id = {m.pk: m for m in machines}
    grouped: dict[tuple[str, str], TimeModel] = defaultdict(TimeModel)
    for (machine_id, bucket), model in per_machine.items():
        machine = by_id[machine_id]
        key = {"machine": machine.code, "work_center": machine.work_center.code}.get(filters.group, "shop")
        grouped[(key, bucket)].add(model)
    if not grouped and machines:  # no planned time, no events: still one row per group to say so
        for machine in machines:
            key = {"machine": machine.code, "work_center": machine.work_center.code}.get(filters.group, "shop")
            grouped[(key, "period")]
    return dict(sorted(grouped.items()))


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def utilization_report(filters: ReportFilter, *, now: dt.datetime | None = None) -> Table:
    rows = []
    for (key, bucket), model in time_model(filters, now=now).items():
        kpis = model.kpis()
        rows.append({
            "group": key, "bucket": bucket,
            "pot_h": hours(model.pot), "pdot_h": hours(model.pdot), "pbt_h": hours(model.pbt),
            "apt_h": hours(model.apt), "aust_h": hours(model.aust), "adet_h": hours(model.adet),
            "adot_h": hours(model.adot),
            "availability_pct": _percent(kpis["availability"]) if model.pbt else NO_PLANNED_TIME,
            "utilization_planned_pct": _percent(kpis["utilization_planned"]) if model.pot else NO_PLANNED_TIME,
            "utilization_24h_pct": _percent(kpis["utilization_24h"]),
            "setup_rate_pct": _percent(kpis["setup_rate"]),
        })
    columns = [
        ("group", filters.group.replace("_", " ").capitalize()), ("bucket", "Period"),
        ("pot_h", "POT h"), ("pdot_h", "PDOT h"), ("pbt_h", "PBT h"), ("apt_h", "APT h"), ("aust_h", "AUST h"),
        ("adet_h", "ADET h"), ("adot_h", "ADOT h"), ("availability_pct", "Availability %"),
        ("utilization_planned_pct", "Utilization (planned) %"), ("utilization_24h_pct", "Utilization (24 h) %"),
        ("setup_rate_pct", "Setup rate %"),
    ]
    notes = []
    if filters.bucket == "shift":
        columns.remove(("utilization_24h_pct", "Utilization (24 h) %"))
        for row in rows:
            del row["utilization_24h_pct"]
        notes.append("Utilization over 24 h is not split by shift (a shift has no 24 hours): choose the whole "
                     "period, day, week or month for it.")
    chart = {
        "type": "bar",
        "labels": [f"{r['group']} {r['bucket']}".strip() for r in rows],
        "datasets": [
            {"label": "Running h", "data": [r["apt_h"] for r in rows]},
            {"label": "Setup h", "data": [r["aust_h"] for r in rows]},
            {"label": "Delay h", "data": [r["adet_h"] for r in rows]},
            {"label": "Down h", "data": [r["adot_h"] for r in rows]},
            {"label": "Planned down h", "data": [r["pdot_h"] for r in rows]},
        ],
        "stacked": True,
    }
    return Table("utilization", "Utilization (ISO 22400 time model)", columns, rows, notes=notes, chart=chart)


def oee_report(filters: ReportFilter, *, now: dt.datetime | None = None) -> Table:
    rows = []
    for (key, bucket), model in time_model(filters, now=now).items():
        kpis = model.kpis()
        no_plan = not model.pbt
        rows.append({
            "group": key, "bucket": bucket,
            "pbt_h": hours(model.pbt), "apt_h": hours(model.apt),
            "produced": int(model.produced), "good": int(model.good), "scrap": int(model.scrap),
            "rework": int(model.rework), "planned_run_h": hours(model.planned_run),
            "availability_pct": NO_PLANNED_TIME if no_plan else _percent(kpis["availability"]),
            "effectiveness_pct": _percent(kpis["effectiveness"]),
            "quality_pct": _percent(kpis["quality"]),
            "oee_pct": NO_PLANNED_TIME if no_plan else _percent(kpis["oee"]),
            "nee_pct": NO_PLANNED_TIME if no_plan else _percent(kpis["nee"]),
            "utilization_efficiency_pct": _percent(kpis["utilization_efficiency"]),
            "allocation_efficiency_pct": NO_PLANNED_TIME if no_plan else _percent(kpis["allocation_efficiency"]),
            "setup_rate_pct": _percent(kpis["setup_rate"]),
            "scrap_ratio_pct": _percent(kpis["scrap_ratio"]),
            "first_pass_yield_pct": _percent(kpis["first_pass_yield"]),
            "throughput_per_h": None if kpis["throughput"] is None else round(kpis["throughput"], 3),
        })
    columns = [
        ("group", filters.group.replace("_", " ").capitalize()), ("bucket", "Period"), ("pbt_h", "PBT h"),
        ("apt_h", "APT h"), ("produced", "Produced"), ("good", "Good"), ("scrap", "Scrap"), ("rework", "Rework"),
        ("planned_run_h", "Planned run h"), ("availability_pct", "Availability %"),
        ("effectiveness_pct", "Effectiveness %"), ("quality_pct", "Quality %"), ("oee_pct", "OEE %"),
        ("nee_pct", "NEE %"), ("utilization_efficiency_pct", "Utilization eff. %"),
        ("allocation_efficiency_pct", "Allocation eff. %"), ("setup_rate_pct", "Setup rate %"),
        ("scrap_ratio_pct", "Scrap ratio %"), ("first_pass_yield_pct", "First-pass yield %"),
        ("throughput_per_h", "Throughput /h"),
    ]
    numeric = [r for r in rows if isinstance(r["oee_pct"], float)]
    chart = {
        "type": "bar",
        "labels": [f"{r['group']} {r['bucket']}".strip() for r in numeric],
        "datasets": [
            {"label": "Availability %", "data": [r["availability_pct"] for r in numeric]},
            {"label": "Effectiveness %", "data": [r["effectiveness_pct"] for r in numeric]},
            {"label": "Quality %", "data": [r["quality_pct"] for r in numeric]},
            {"label": "OEE %", "data": [r["oee_pct"] for r in numeric]},
        ],
    }
    return Table("oee", "OEE (ISO 22400-2)", columns, rows, chart=chart)


# ---------------------------------------------------------------------------------------------------
# Delivery


def _completed_at():
    return Subquery(
        OperationEvent.objects.filter(operation__job=OuterRef("pk"), to_status=OperationStatus.DONE)
        .values("operation__job").annotate(last=Max("at")).values("last")[:1]
    )


def delivery_report(filters: ReportFilter, *, now: dt.datetime | None = None) -> Table:
    """Completed jobs of the period (completion = the last operation done) with on time or late; then open
    jobs whose projected completion by the published schedule is after their due date."""
    now = now or timezone.now()
    completed = (
        Job.objects.filter(status=JobStatus.COMPLETE).annotate(completed_at=_completed_at())
        .filter(completed_at__gte=filters.start, completed_at__lt=filters.end)
        .select_related("part_revision__part").order_by("completed_at", "number")
    )
    if filters.machine_id or filters.work_center_id:
        operations = JobOperation.objects.all()
        if filters.machine_id:
            operations = operations.filter(machine_id=filters.machine_id)
        if filters.work_center_id:
            operations = operations.filter(work_center_id=filters.work_center_id)
        completed = completed.filter(pk__in=operations.values("job_id"))
    rows = []
    for job in completed:
        completed_on = timezone.localtime(job.completed_at).date()
        late_days = (completed_on - job.due_date).days
        rows.append({
            "job": job.number, "part": str(job.part_revision), "quantity": job.quantity,
            "due_date": job.due_date.isoformat(), "completion": completed_on.isoformat(),
            "status": "on time" if late_days <= 0 else "late", "days_late": max(late_days, 0),
        })
    on_time = sum(1 for r in rows if r["status"] == "on time")
    notes = [f"On-time delivery: {on_time} of {len(rows)} completed jobs"
             + (f" ({on_time / len(rows) * 100:.1f} %)." if rows else ".")]
    published = ScheduleRun.objects.filter(published=True).first()
    if published is None:
        notes.append("No schedule is published: projected completion of open jobs is not known.")
    else:
        projected = (
            Job.objects.filter(status__in=JobStatus.open())
            .annotate(projected=Subquery(
                ScheduleEntry.objects.filter(run=published, operation__job=OuterRef("pk"))
                .values("operation__job").annotate(last=Max("ends_at")).values("last")[:1]))
            .filter(projected__isnull=False).select_related("part_revision__part").order_by("due_date", "number")
        )
        for job in projected:
            projected_on = timezone.localtime(job.projected).date()
            if projected_on > job.due_date:
                rows.append({
                    "job": job.number, "part": str(job.part_revision), "quantity": job.quantity,
                    "due_date": job.due_date.isoformat(), "completion": projected_on.isoformat(),
                    "status": "will be late (projected)", "days_late": (projected_on - job.due_date).days,
                })
        notes.append(f"Projected completion from the schedule published "
                     f"{timezone.localtime(published.published_at or published.created_at):%Y-%m-%d %H:%M}.")
    columns = [("job", "Job"), ("part", "Part"), ("quantity", "Qty"), ("due_date", "Due"),
               ("completion", "Completed / projected"), ("status", "Status"), ("days_late", "Days late")]
    late = len(rows) - on_time
    chart = {"type": "doughnut", "labels": ["On time", "Late or projected late"],
             "datasets": [{"label": "Jobs", "data": [on_time, late]}]}
    return Table("delivery", "Delivery", columns, rows, notes=notes, chart=chart)


# ---------------------------------------------------------------------------------------------------
# Paretos


def _pareto_rows(items: list[tuple[str, float]], unit_key: str) -> list[dict]:
    total = sum(value for _, value in items) or 0
    rows, running = [], 0.0
    for label, value in items:
        running += value
        rows.append({"item": label, unit_key: value,
                     "share_pct": round(value / total * 100, 1) if total else None,
                     "cumulative_pct": round(running / total * 100, 1) if total else None})
    return rows


def _pareto_chart(rows: list[dict], unit_key: str, label: str) -> dict:
    return {"type": "pareto", "labels": [r["item"] for r in rows],
            "datasets": [{"label": label, "data": [r[unit_key] for r in rows]},
                         {"label": "Cumulative %", "data": [r["cumulative_pct"] for r in rows]}]}


def _shift_windows(filters: ReportFilter, end: dt.datetime) -> dict[int, list[tuple[dt.datetime, dt.datetime]]]:
    """The shift's windows in the period (up to `end`) per calendar of the filtered machines, touching ones
    merged: what a shift filter keeps of scrap and downtime, as it does of the time model."""
    calendar_ids = sorted(set(filters.machines().values_list("calendar_id", flat=True)))
    spans: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    if filters.start >= end:
        return spans
    windows = planned_windows(calendar_ids=calendar_ids, start=filters.start, end=end, shift=filters.shift)
    for window in sorted(windows, key=lambda w: (w.calendar_id, w.start)):
        calendar_spans = spans[window.calendar_id]
        if calendar_spans and calendar_spans[-1][1] >= window.start:
            calendar_spans[-1] = (calendar_spans[-1][0], max(calendar_spans[-1][1], window.end))
        else:
            calendar_spans.append((window.start, window.end))
    return spans


def scrap_report(filters: ReportFilter, *, by: str = "reason", now: dt.datetime | None = None) -> Table:
    """Scrap pieces of the production reports recorded in the period (with a shift: inside that shift's
    windows of the machine's calendar), by reason, part or machine."""
    entries = ProductionEntry.objects.filter(recorded_at__gte=filters.start, recorded_at__lt=filters.end,
                                             quantity_scrap__gt=0)
    if filters.machine_id:
        entries = entries.filter(machine_id=filters.machine_id)
    if filters.work_center_id:
        entries = entries.filter(machine__work_center_id=filters.work_center_id)
    if filters.shift:
        in_shift = Q(pk__in=[])
        for calendar_id, spans in _shift_windows(filters, filters.end).items():
            ranges = Q(pk__in=[])
            for span_start, span_end in spans:
                ranges |= Q(recorded_at__gte=span_start, recorded_at__lt=span_end)
            in_shift |= Q(machine__calendar_id=calendar_id) & ranges
        entries = entries.filter(in_shift)
    key = {"reason": "scrap_reason__code", "part": "operation__job__part_revision__part__number",
           "machine": "machine__code"}[by]
    aggregated = entries.values(key).annotate(scrap=Sum("quantity_scrap")).order_by("-scrap", key)
    rows = _pareto_rows([(row[key] or "(none)", int(row["scrap"])) for row in aggregated], "scrap")
    columns = [("item", by.capitalize()), ("scrap", "Scrap pieces"), ("share_pct", "Share %"),
               ("cumulative_pct", "Cumulative %")]
    return Table(f"scrap-{by}", f"Scrap by {by}", columns, rows, chart=_pareto_chart(rows, "scrap", "Scrap"))


def clipped_seconds(start: dt.datetime, end: dt.datetime, now: dt.datetime):
    """An interval's seconds inside [start, end), the open one up to now: in SQL, GREATEST/LEAST."""
    duration = ExpressionWrapper(
        Least(Coalesce("ended_at", Value(now)), Value(end)) - Greatest("started_at", Value(start)),
        output_field=DurationField(),
    )
    return Sum(duration)


DOWN_STATES = (MachineState.DOWN, MachineState.PLANNED_DOWN)


def _downtime_in_shift(filters: ReportFilter, *, by: str, end: dt.datetime, now: dt.datetime) -> list[tuple]:
    """(key, seconds, stops) of down and planned-down intervals clipped to the shift's windows of each
    machine's calendar (as the time model clips them); stops = intervals with time in those windows. One
    query: the windows (a few per day) as a VALUES list joined to the intervals that overlap them."""
    windows = [(calendar_id, span_start, span_end)
               for calendar_id, spans in _shift_windows(filters, end).items() for span_start, span_end in spans]
    if not windows:
        return []
    adapt = connection.ops.adapt_datetimefield_value
    event_table = MachineStateEvent._meta.db_table
    machine_table = Machine._meta.db_table
    reason_table = MachineStateEvent._meta.get_field("reason").related_model._meta.db_table
    finish = "COALESCE(e.ended_at, %s)"
    if connection.vendor == "postgresql":
        values = ", ".join(["(%s::integer, %s::timestamptz, %s::timestamptz)"] * len(windows))
        seconds = f"EXTRACT(EPOCH FROM LEAST({finish}, w.we) - GREATEST(e.started_at, w.ws))"
    else:
        values = ", ".join(["(%s, %s, %s)"] * len(windows))
        seconds = f"(julianday(MIN({finish}, w.we)) - julianday(MAX(e.started_at, w.ws))) * 86400.0"
    key = "r.code" if by == "reason" else "m.code"
    conditions, params = ["e.state IN (%s, %s)"], [*DOWN_STATES]
    if filters.machine_id:
        conditions.append("e.machine_id = %s")
        params.append(filters.machine_id)
    if filters.work_center_id:
        conditions.append("m.work_center_id = %s")
        params.append(filters.work_center_id)
    sql = f"""
        WITH w(calendar_id, ws, we) AS (VALUES {values})
        SELECT {key}, SUM({seconds}), COUNT(DISTINCT e.id)
        FROM {event_table} e
        JOIN {machine_table} m ON m.id = e.machine_id
        LEFT JOIN {reason_table} r ON r.id = e.reason_id
        JOIN w ON w.calendar_id = m.calendar_id AND e.started_at < w.we AND {finish} > w.ws
        WHERE {" AND ".join(conditions)}
        GROUP BY {key}
    """
    now_a = adapt(now)
    all_params = [value for window in windows for value in (window[0], adapt(window[1]), adapt(window[2]))]
    all_params += [now_a, now_a, *params]
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        return [(item, float(secs or 0), stops) for item, secs, stops in cursor.fetchall()]


def downtime_report(filters: ReportFilter, *, by: str = "reason", now: dt.datetime | None = None) -> Table:
    """Down and planned-down time clipped to the period (not to the calendar: a machine down over the
    weekend is down), by reason or machine. With a shift: clipped to that shift's windows instead."""
    now = now or timezone.now()
    end = min(filters.end, now)
    key = {"reason": "reason__code", "machine": "machine__code"}[by]
    if filters.shift:
        found = _downtime_in_shift(filters, by=by, end=end, now=now)
    else:
        events = MachineStateEvent.objects.filter(state__in=DOWN_STATES, started_at__lt=end).filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=filters.start))
        if filters.machine_id:
            events = events.filter(machine_id=filters.machine_id)
        if filters.work_center_id:
            events = events.filter(machine__work_center_id=filters.work_center_id)
        aggregated = events.values(key).annotate(down=clipped_seconds(filters.start, end, now), stops=Count("pk"))
        found = [(row[key], row["down"].total_seconds(), row["stops"]) for row in aggregated]
    found = sorted(((item or "(no reason)", seconds, stops) for item, seconds, stops in found if seconds > 0),
                   key=lambda item: (-item[1], item[0]))
    rows = _pareto_rows([(item, round(seconds / 3600, 3)) for item, seconds, _ in found], "hours")
    for row, (_, _, stops) in zip(rows, found, strict=True):
        row["stops"] = stops
    columns = [("item", by.capitalize()), ("hours", "Down h"), ("stops", "Stops"), ("share_pct", "Share %"),
               ("cumulative_pct", "Cumulative %")]
    notes = [f"Shift {filters.shift}: down time inside that shift's windows of each machine's calendar."] \
        if filters.shift else []
    return Table(f"downtime-{by}", f"Downtime by {by}", columns, rows, notes=notes,
                 chart=_pareto_chart(rows, "hours", "Down h"))


# ---------------------------------------------------------------------------------------------------
# Estimated vs actual, job cost, unit cost curve


def _labour_hours(activity: str, now: dt.datetime):
    duration = ExpressionWrapper(Coalesce("labour_entries__ended_at", Value(now)) - F("labour_entries__started_at"),
                                 output_field=DurationField())
    return Sum(duration, filter=Q(labour_entries__activity=activity))


def job_cost_report(filters: ReportFilter, *, now: dt.datetime | None = None) -> Table:
    """Per operation of the jobs worked in the period: estimated and actual setup and run hours (actual =
    labour entries, open ones up to now), cost = hours x (machine rate frozen at release + labour rate)."""
    now = now or timezone.now()
    worked = LabourEntry.objects.filter(started_at__lt=filters.end).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=filters.start))
    if filters.machine_id:
        worked = worked.filter(machine_id=filters.machine_id)
    if filters.work_center_id:
        worked = worked.filter(machine__work_center_id=filters.work_center_id)
    option = JobOperationMachine.objects.filter(operation=OuterRef("pk"), machine=OuterRef("machine"))
    operations = (
        JobOperation.objects.filter(job__in=worked.values("operation__job"), kind=StepKind.INTERNAL)
        .select_related("job", "machine")
        .annotate(
            std_setup=Coalesce(Subquery(option.values("setup_minutes")[:1]), F("setup_minutes")),
            std_cycle=Coalesce(Subquery(option.values("cycle_minutes")[:1]), F("cycle_minutes")),
            rate=Coalesce(Subquery(option.values("hourly_rate")[:1]), F("machine__hourly_rate"),
                          Value(Decimal(0)), output_field=DecimalField()),
            setup_actual=_labour_hours(Activity.SETUP, now),
            run_actual=_labour_hours(Activity.RUN, now),
        )
        .order_by("job__number", "operation_number")
    )
    rows = []
    for op in operations:
        est_setup = float(op.std_setup) / 60
        est_run = float(op.std_cycle) / op.parts_per_cycle * op.job.quantity / 60
        act_setup = op.setup_actual.total_seconds() / 3600 if op.setup_actual else 0.0
        act_run = op.run_actual.total_seconds() / 3600 if op.run_actual else 0.0
        rate = float(op.rate) + float(SHOP_LABOUR_RATE)
        setup_cost, run_cost = act_setup * rate, act_run * rate
        total = setup_cost + run_cost
        rows.append({
            "job": op.job.number, "operation": f"{op.operation_number} {op.name}",
            "machine": op.machine.code if op.machine else "",
            "est_setup_h": round(est_setup, 3), "act_setup_h": round(act_setup, 3),
            "est_run_h": round(est_run, 3), "act_run_h": round(act_run, 3),
            "rate": round(rate, 2), "cost": round(total, 2),
            "setup_share_pct": round(setup_cost / total * 100, 1) if total else None,
        })
    columns = [("job", "Job"), ("operation", "Operation"), ("machine", "Machine"),
               ("est_setup_h", "Setup h est."), ("act_setup_h", "Setup h actual"), ("est_run_h", "Run h est."),
               ("act_run_h", "Run h actual"), ("rate", "Rate /h (machine + labour)"), ("cost", "Cost"),
               ("setup_share_pct", "Setup share %")]
    by_job: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for r in rows:
        totals = by_job[r["job"]]
        totals[0] += r["est_setup_h"] + r["est_run_h"]
        totals[1] += r["act_setup_h"] + r["act_run_h"]
    chart = {"type": "bar", "labels": list(by_job),
             "datasets": [{"label": "Estimated h", "data": [round(v[0], 3) for v in by_job.values()]},
                          {"label": "Actual h", "data": [round(v[1], 3) for v in by_job.values()]}]}
    notes = [f"Labour rate {SHOP_LABOUR_RATE} per hour (setting SHOP_LABOUR_RATE) added to the machine rate "
             "frozen at release. Actual hours are labour entries: two operators on one operation count twice."]
    return Table("job-costs", "Estimated vs actual and job cost", columns, rows, notes=notes, chart=chart)


def unit_cost_curve(*, part_revision_id: int, now: dt.datetime | None = None) -> Table:
    """Unit cost by batch size for a part revision: per step of its newest routing, setup hours from the
    shop's actual setup history of that step (mean actual setup per operation; the standard when there is
    none) plus n x the standard cycle, at the rank-1 machine's rate plus labour, plus outside cost per lot."""
    now = now or timezone.now()
    revision = PartRevision.objects.select_related("part").get(pk=part_revision_id)
    routing = Routing.objects.filter(part_revision=revision).order_by("-version").first()
    steps = list(routing.steps.prefetch_related("eligible_machines__machine").order_by("operation_number")) \
        if routing else []
    history = (
        JobOperation.objects.filter(job__part_revision=revision, status=OperationStatus.DONE)
        .values("operation_number")
        .annotate(setup=_labour_hours(Activity.SETUP, now), count=Count("pk", distinct=True))
    )
    # Sum over labour entries joined to operations; divide by distinct operations for the mean.
    actual_setup = {row["operation_number"]: (row["setup"].total_seconds() / 3600 / row["count"])
                    for row in history if row["setup"]}
    rows = []
    per_step = []
    for step in steps:
        option = min(step.eligible_machines.all(), key=lambda o: o.rank, default=None)
        setup_min = option.setup_minutes if option and option.setup_minutes is not None else step.setup_minutes
        cycle_min = option.cycle_minutes if option and option.cycle_minutes is not None else step.cycle_minutes
        machine_rate = float(option.machine.hourly_rate) if option else 0.0
        rate = machine_rate + float(SHOP_LABOUR_RATE) if step.kind == StepKind.INTERNAL else 0.0
        setup_h = actual_setup.get(step.operation_number, float(setup_min) / 60)
        per_step.append((setup_h, float(cycle_min) / step.parts_per_cycle / 60, rate, float(step.outside_cost)))
    for size in BATCH_SIZES:
        setup_cost = sum(s * r for s, _, r, _ in per_step)
        run_cost = sum(c * size * r for _, c, r, _ in per_step)
        outside = sum(o for *_, o in per_step)
        total = setup_cost + run_cost + outside
        rows.append({"batch": size, "setup_cost": round(setup_cost, 2), "run_cost": round(run_cost, 2),
                     "outside_cost": round(outside, 2), "batch_cost": round(total, 2),
                     "unit_cost": round(total / size, 2),
                     "setup_share_pct": round(setup_cost / total * 100, 1) if total else None})
    columns = [("batch", "Batch size"), ("setup_cost", "Setup cost"), ("run_cost", "Run cost"),
               ("outside_cost", "Outside cost"), ("batch_cost", "Batch cost"), ("unit_cost", "Unit cost"),
               ("setup_share_pct", "Setup share %")]
    chart = {"type": "line", "labels": [str(s) for s in BATCH_SIZES],
             "datasets": [{"label": "Unit cost", "data": [r["unit_cost"] for r in rows]}]}
    notes = [f"{revision}: routing v{routing.version if routing else '—'}; setup from the actual history of "
             f"{len(actual_setup)} of {len(steps)} steps, the standard for the others."]
    return Table("unit-cost", f"Unit cost by batch size — {revision}", columns, rows, notes=notes, chart=chart)


# ---------------------------------------------------------------------------------------------------
# Exports


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.header())
    writer.writerows(table.values())
    return out.getvalue()


def table_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = table.name[:31]
    sheet.append(table.header())
    for row in table.values():
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


REPORTS = {
    "utilization": utilization_report,
    "oee": oee_report,
    "delivery": delivery_report,
    "scrap": scrap_report,
    "downtime": downtime_report,
    "job-costs": job_cost_report,
}

