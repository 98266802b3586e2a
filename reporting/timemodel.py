"""The ISO 22400-2 time model and its KPIs, per machine (or work center, or shop) and bucket of a period.

Everything that grows with the shop's history (state events, production entries) is aggregated in the
database; Python only expands the calendars of the period (a few windows per day: reporting.windows) and
rolls the aggregated rows up. The report builders (reporting.builders) turn the figures into tables.

Time model (ISO 22400-2, per machine = "work unit"), all clipped to the period and to `now`:
  POT  planned operation time: the calendar's shift windows (plus overtime, minus closures).
  PDOT planned down time: time in state "planned down" inside POT.
  PBT  planned busy time = POT - PDOT.
  APT  actual production time: time in state "running" inside POT.
  AUST actual unit setup time: time in state "setup" inside POT.
  ADET actual unit delay time: idle, off-shift, stopped and alarm states inside POT (available, not working).
  ADOT actual unit down time: time in state "down" (unplanned) inside POT.
  AUBT actual unit busy time = APT + AUST + ADET.
  Unknown: the states "unknown" and "disconnected" inside POT (no data: the machine could not be read). In no
  element above; the KPIs that divide by planned time divide by the time with data (PBT - unknown).
A state interval is split at every window boundary (shift change, midnight, period edge); an open
interval counts up to now.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import ExpressionWrapper, F, FloatField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from jobs.models import JobOperationMachine, ProductionEntry
from machines.choices import MachineState, StateSource
from machines.models import Machine, MachineStateEvent
from reporting.filters import ReportFilter
from reporting.windows import (
    bucket_key,
    day_windows,
    merged_spans,
    overlap_seconds_sql,
    planned_windows,
    recorded_in,
    windows_cte,
)

DEFINITIONS: dict[str, str] = {
    "POT": "Planned operation time: the machine calendar's shift windows in the period "
           "(overtime added, closures removed), up to now.",
    "PDOT": "Planned down time: time in the state 'planned down' inside the planned operation time.",
    "PBT": "Planned busy time = POT − PDOT.",
    "APT": "Actual production time: time in the state 'running' inside the planned operation time.",
    "AUST": "Actual unit setup time: time in the state 'setup' inside the planned operation time.",
    "ADET": "Actual unit delay time: idle, off shift, stopped or in alarm inside the planned operation time. A "
            "machine stops or alarms by its own signals with an operation on it; with the operator's reason that "
            "time is also downtime by that reason (the downtime pareto), without one it is 'Unassigned' there.",
    "ADOT": "Actual unit down time: unplanned down time inside the planned operation time.",
    "AUBT": "Actual unit busy time = APT + AUST + ADET.",
    "Unknown": "Unknown (no data): time in the states 'unknown' and 'disconnected' inside the planned operation "
               "time, when Spindle could not read a monitored machine (connection lost, machine unavailable, "
               "observations lost). It is in no element above, never running nor idle. The KPIs that divide by "
               "planned time divide by the time with data (PBT − unknown; POT − unknown for utilization), and "
               "Unknown % (unknown / POT) stands beside them. Quantities count whatever the data: with much "
               "unknown time, effectiveness reads high.",
    "Availability": "APT / (PBT − unknown).",
    "Effectiveness": "Planned run time per unit × produced quantity / the running time in which those units were "
                     "made. Planned run time per unit is the operation's cycle minutes on that machine (frozen at "
                     "release) / parts per cycle. Units count by the day they were reported, so the running time "
                     "is the whole day's (a lights-out cycle outside the shifts made parts too); with a shift, "
                     "units and running time both count inside that shift's windows (APT).",
    "Quality ratio": "Good quantity / produced quantity (produced = good + scrap + rework). Quantities count "
                     "by the time they were reported: by day, or, with a shift, inside that shift's windows.",
    "OEE": "Availability × effectiveness × quality ratio.",
    "NEE": "Net equipment effectiveness: like OEE, but setup is not a loss: APT / (PBT − unknown − AUST) × "
           "effectiveness × quality ratio.",
    "Utilization efficiency": "APT / AUBT.",
    "Allocation efficiency": "AUBT / (PBT − unknown).",
    "Setup rate": "AUST / (APT + AUST).",
    "Scrap ratio": "Scrap quantity / produced quantity.",
    "First-pass yield": "Good quantity / produced quantity, rework counted as not good the first time.",
    "Throughput": "Produced quantity per hour of planned busy time (PBT, unknown time included: pieces count "
                  "whatever the data).",
    "Utilization (planned)": "Running time / (planned operation time (POT) − unknown).",
    "Utilization (24 h)": "Running time / (24 h per day of the period − the unknown time in them), whatever the "
                          "calendar, as machine-monitoring products show it (not limited to the shift filter).",
    "Source": "Machine-fed: the machine's states come from its own signals (an MTConnect agent or an edge "
              "device) together with the operator's activity. Operator-reported: from the terminal alone; "
              "'machine-fed from' a time: its signals began inside the period, the terminal's states before. For "
              "a work center or the shop: how many of its machines are machine-fed.",
}


# No data: a monitored machine that could not be read (the status log's "unknown" and "disconnected").
UNKNOWN_STATES = (MachineState.UNKNOWN, MachineState.DISCONNECTED)
# The sources of the states a machine's own signals write (machines.connectivity).
MACHINE_SOURCES = (StateSource.MTCONNECT, StateSource.API)


# The windows of a query: "cal" (the calendar's) or "day" (whole days), each with its report bucket.
WINDOW_COLUMNS = {"kind": "text", "calendar_id": "integer", "bucket": "text", "ws": "timestamptz", "we": "timestamptz"}
EDGE_COLUMNS = {"calendar_id": "integer", "kind": "text", "bucket": "text", "at": "timestamptz", "sign": "integer"}


# Under a microsecond, a time is nothing: differences of sums measured to the microsecond are not exactly 0.
NOTHING = 1e-6


def ratio(numerator: float, denominator: float) -> float | None:
    """None (shown as "no planned time" or "no data" where the denominator is planned time) instead of dividing
    by 0."""
    return numerator / denominator if denominator > NOTHING else None


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
    """(calendar_id, kind, bucket, instant, sign): +1 at each window's end, -1 at its start, touching or
    overlapping windows of the same kind, calendar and bucket merged into one."""
    spans = merged_spans(((kind, window.calendar_id, bucket), window.start, window.end)
                         for kind, window, bucket in windows)
    return [(calendar_id, kind, bucket, instant, sign)
            for (kind, calendar_id, bucket), items in spans.items()
            for w_start, w_end in items for instant, sign in ((w_start, -1), (w_end, 1))]


def _state_seconds_postgresql(*, machines: dict[int, int], windows: list[tuple], now) -> list[tuple]:
    cte, params = windows_cte(EDGE_COLUMNS, _window_edges(windows))
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
        WITH {cte},
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


def _state_seconds_sqlite(*, machine_ids: list[int], windows: list[tuple], start, end, now) -> list[tuple]:
    """Rows (machine_id, kind, bucket, state, seconds): each state interval clipped to each window it
    overlaps, open intervals up to now. One query; the database does the sums."""
    cte, params = windows_cte(WINDOW_COLUMNS, [(kind, window.calendar_id, bucket, window.start, window.end)
                                               for kind, window, bucket in windows])
    adapt = connection.ops.adapt_datetimefield_value
    end_expr = "COALESCE(e.ended_at, %s)"
    placeholders = ", ".join(["%s"] * len(machine_ids))
    sql = f"""
        WITH {cte}
        SELECT e.machine_id, w.kind, w.bucket, e.state, SUM({overlap_seconds_sql("e.started_at", "e.ended_at")})
        FROM machines_machinestateevent e
        JOIN machines_machine m ON m.id = e.machine_id
        JOIN w ON w.calendar_id = m.calendar_id AND e.started_at < w.we AND {end_expr} > w.ws
        WHERE e.machine_id IN ({placeholders}) AND e.started_at < %s AND {end_expr} > %s
        GROUP BY e.machine_id, w.kind, w.bucket, e.state
    """
    now_a = adapt(now)
    all_params = [*params, now_a, *machine_ids, adapt(end), now_a, adapt(start)]
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
    conditions: dict[str, Q] = defaultdict(lambda: Q(pk__in=[]))
    spans = merged_spans(((bucket, window.calendar_id), window.start, window.end)
                         for window_kind, window, bucket in windows if window_kind == kind)
    for (bucket, calendar_id), calendar_spans in spans.items():
        calendar_machines = [m for m, c in calendars.items() if c == calendar_id]
        conditions[bucket] |= Q(machine_id__in=calendar_machines) & recorded_in(calendar_spans)
    for bucket, condition in conditions.items():
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
    unknown: float = 0.0
    running_24h: float = 0.0
    hours_24h: float = 0.0
    unknown_24h: float = 0.0
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

    @property
    def pbt_known(self) -> float:
        """Planned busy time with data: what the KPIs of planned time divide by."""
        return self.pbt - self.unknown

    def kpis(self) -> dict[str, float | None]:
        availability = ratio(self.apt, self.pbt_known)
        effectiveness = ratio(self.planned_run, self.production_time)
        quality = ratio(self.good, self.produced)
        oee = None if None in (availability, effectiveness, quality) else availability * effectiveness * quality
        net_availability = ratio(self.apt, self.pbt_known - self.aust)
        nee = None if None in (net_availability, effectiveness, quality) else (
            net_availability * effectiveness * quality)
        return {
            "availability": availability,
            "effectiveness": effectiveness,
            "quality": quality,
            "oee": oee,
            "nee": nee,
            "utilization_efficiency": ratio(self.apt, self.aubt),
            "allocation_efficiency": ratio(self.aubt, self.pbt_known),
            "setup_rate": ratio(self.aust, self.apt + self.aust),
            "scrap_ratio": ratio(self.scrap, self.produced),
            "first_pass_yield": ratio(self.good, self.produced),
            "throughput": ratio(self.produced, self.pbt / 3600),
            "utilization_planned": ratio(self.apt, self.pot - self.unknown),
            "utilization_24h": ratio(self.running_24h, self.hours_24h - self.unknown_24h),
            "unknown_share": ratio(self.unknown, self.pot),
        }


def group_key(machine: Machine, group: str) -> str:
    """The row a machine's figures add to: its code, its work center's code, or "shop"."""
    return {"machine": machine.code, "work_center": machine.work_center.code}.get(group, "shop")


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
            for window in day_windows(calendar_ids=calendar_ids, start=start, end=end):
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
            elif state in UNKNOWN_STATES:
                model.unknown_24h += seconds
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
            case _ if state in UNKNOWN_STATES:
                model.unknown += seconds
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
        grouped[(group_key(machine, filters.group), bucket)].add(model)
    if not grouped and machines:  # no planned time, no events: still one row per group to say so
        for machine in machines:
            grouped[(group_key(machine, filters.group), "period")]
    return dict(sorted(grouped.items()))


def machines_fed(*, machine_ids, start: dt.datetime, end: dt.datetime) -> dict[int, dt.datetime]:
    """The machines whose status log follows their own signals in [start, end), each with the instant it does from:
    `start` when the interval in force then came from the machine, else its first interval from the machine in the
    period. One query: two index probes per machine (machine, started_at), whatever the history."""
    events = MachineStateEvent.objects.filter(machine=OuterRef("pk"))
    rows = Machine.objects.filter(pk__in=machine_ids).annotate(
        source_then=Subquery(events.filter(started_at__lte=start).order_by("-started_at").values("source")[:1]),
        first_fed=Subquery(events.filter(started_at__gt=start, started_at__lt=end, source__in=MACHINE_SOURCES)
                           .order_by("started_at").values("started_at")[:1]),
    ).values_list("pk", "source_then", "first_fed")
    return {pk: start if source_then in MACHINE_SOURCES else first_fed
            for pk, source_then, first_fed in rows if source_then in MACHINE_SOURCES or first_fed is not None}
