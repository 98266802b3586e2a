"""Run time as the operators reported it against what the machines measured, per machine with signals.

Operator-reported: the labour entries of activity run on the machine (the operator's claim, from starting the run
to pausing or completing it); two operators on one machine at once count once. Machine-measured: the machine's
running intervals that its own signals wrote (MTConnect or an edge device). Both are clipped to the period (with a
shift, to that shift's windows of the machine's calendar), open ones up to now, and to the time the machine's log
follows its signals (reporting.timemodel.machines_fed); summed in the database, two queries whatever the history.
"""

import datetime as dt

from django.db import connection
from django.utils import timezone

from jobs.choices import Activity
from jobs.models import LabourEntry
from machines.choices import MachineState
from machines.models import Machine, MachineStateEvent
from reporting.builders import hours, shift_windows
from reporting.filters import ReportFilter
from reporting.tables import Table
from reporting.timemodel import MACHINE_SOURCES, UNKNOWN_STATES, machines_fed
from reporting.windows import greatest_sql, least_sql, seconds_between_sql, windows_cte


def _windows(filters: ReportFilter, machines: list[Machine], end: dt.datetime) -> list[tuple]:
    """(calendar_id, start, end) of the time compared: the shift's windows, or the whole period, per calendar."""
    if filters.shift:
        return [(calendar_id, span_start, span_end)
                for calendar_id, spans in shift_windows(filters, end).items() for span_start, span_end in spans]
    return [(calendar_id, filters.start, end) for calendar_id in sorted({m.calendar_id for m in machines})]


def _clipped(alias: str) -> tuple[str, str, str]:
    """SQL for the part of the interval `alias` (started_at, ended_at NULL while open) inside the window w from
    the machine's f.since on: its start, its end, and the condition that it has one. Windows end by now."""
    since = greatest_sql(f"{alias}.started_at", "w.ws", "f.since")
    until = least_sql(f"COALESCE({alias}.ended_at, w.we)", "w.we")
    overlaps = (f"{alias}.started_at < w.we AND COALESCE({alias}.ended_at, w.we) > {greatest_sql('w.ws', 'f.since')}"
                f" AND w.we > f.since")
    return since, until, overlaps


def _run_seconds(*, fed: dict[int, dt.datetime], windows: list[tuple]) -> tuple[dict, dict, dict]:
    """Per machine: operator-reported run seconds, machine-measured run seconds, unknown seconds."""
    if not fed or not windows:
        return {}, {}, {}
    cte, window_params = windows_cte({"calendar_id": "integer", "ws": "timestamptz", "we": "timestamptz"}, windows)
    machines_cte, machine_params = windows_cte({"machine_id": "integer", "since": "timestamptz"},
                                               sorted(fed.items()), name="f")
    labour_table, event_table = LabourEntry._meta.db_table, MachineStateEvent._meta.db_table
    machine_table = Machine._meta.db_table
    since, until, overlaps = _clipped("l")
    # The union of the (clipped) labour intervals: each adds what reaches beyond the latest end before it.
    labour_sql = f"""
        WITH {cte}, {machines_cte},
        pieces AS (
            SELECT l.machine_id, {since} AS s, {until} AS e
            FROM {labour_table} l
            JOIN f ON f.machine_id = l.machine_id
            JOIN {machine_table} m ON m.id = l.machine_id
            JOIN w ON w.calendar_id = m.calendar_id
            WHERE l.activity = %s AND {overlaps}
        ),
        ordered AS (
            SELECT machine_id, s, e, MAX(e) OVER (PARTITION BY machine_id ORDER BY s, e
                                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered
            FROM pieces
        )
        SELECT machine_id, SUM({seconds_between_sql(greatest_sql("s", "COALESCE(covered, s)"), "e")})
        FROM ordered
        WHERE covered IS NULL OR e > covered
        GROUP BY machine_id
    """
    since, until, overlaps = _clipped("e")
    seconds = seconds_between_sql(since, until)
    sources, unknown = ", ".join(["%s"] * len(MACHINE_SOURCES)), ", ".join(["%s"] * len(UNKNOWN_STATES))
    events_sql = f"""
        WITH {cte}, {machines_cte}
        SELECT e.machine_id, SUM(CASE WHEN e.state = %s THEN {seconds} ELSE 0 END),
               SUM(CASE WHEN e.state IN ({unknown}) THEN {seconds} ELSE 0 END)
        FROM {event_table} e
        JOIN f ON f.machine_id = e.machine_id
        JOIN {machine_table} m ON m.id = e.machine_id
        JOIN w ON w.calendar_id = m.calendar_id
        WHERE {overlaps} AND ((e.state = %s AND e.source IN ({sources})) OR e.state IN ({unknown}))
        GROUP BY e.machine_id
    """
    with connection.cursor() as cursor:
        cursor.execute(labour_sql, [*window_params, *machine_params, Activity.RUN])
        reported = {machine_id: float(secs or 0) for machine_id, secs in cursor.fetchall()}
        cursor.execute(events_sql, [*window_params, *machine_params, MachineState.RUNNING, *UNKNOWN_STATES,
                                    MachineState.RUNNING, *MACHINE_SOURCES, *UNKNOWN_STATES])
        rows = cursor.fetchall()
    measured = {machine_id: float(run or 0) for machine_id, run, _ in rows}
    unknown_seconds = {machine_id: float(secs or 0) for machine_id, _, secs in rows}
    return reported, measured, unknown_seconds


def run_comparison_report(filters: ReportFilter, *, now: dt.datetime | None = None) -> Table:
    """Per machine whose own signals fed its status log in the period: run hours the operators reported, run hours
    the machine measured, the gap (reported − measured, in hours and % of reported) and the unknown hours."""
    now = now or timezone.now()
    end = min(filters.end, now)
    machines = list(filters.machines().order_by("code"))
    fed = machines_fed(machine_ids=[m.pk for m in machines], start=filters.start, end=end) \
        if filters.start < end else {}
    reported, measured, unknown = _run_seconds(fed=fed, windows=_windows(filters, machines, end) if fed else [])
    rows = []
    for machine in machines:
        if machine.pk not in fed:
            continue
        claimed, ran = reported.get(machine.pk, 0.0), measured.get(machine.pk, 0.0)
        since = fed[machine.pk]
        rows.append({
            "machine": machine.code,
            "since": timezone.localtime(since).strftime("%Y-%m-%d %H:%M") if since > filters.start else "",
            "reported_h": hours(claimed), "measured_h": hours(ran), "gap_h": hours(claimed - ran),
            "gap_pct": round((claimed - ran) / claimed * 100, 1) if claimed else None,
            "unknown_h": hours(unknown.get(machine.pk, 0.0)),
        })
    columns = [("machine", "Machine"), ("since", "Signals from"), ("reported_h", "Reported run h"),
               ("measured_h", "Measured run h"), ("gap_h", "Gap h"), ("gap_pct", "Gap %"),
               ("unknown_h", "Unknown h")]
    notes = ["Only machines whose own signals (MTConnect or an edge device) fed their status log in the period, "
             "compared from then on (Signals from, when that began inside the period)."]
    if filters.shift:
        notes.append(f"Shift {filters.shift}: inside that shift's windows of each machine's calendar.")
    chart = {"type": "bar", "labels": [r["machine"] for r in rows],
             "datasets": [{"label": "Reported h", "data": [r["reported_h"] for r in rows]},
                          {"label": "Measured h", "data": [r["measured_h"] for r in rows]}]}
    return Table("run-comparison", "Run time: operator-reported vs machine-measured", columns, rows, notes=notes,
                 chart=chart)
