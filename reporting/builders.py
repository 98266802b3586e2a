"""The manager reports built on the time model (utilization, OEE) and on the shop's records (delivery, the
scrap and downtime paretos), each as a `Table`."""

import datetime as dt

from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from jobs.choices import JobStatus, OperationStatus
from jobs.models import Job, JobOperation, OperationEvent, ProductionEntry, ScheduleEntry, ScheduleRun
from machines.choices import MachineState
from machines.models import Machine, MachineStateEvent
from reporting.filters import ReportFilter
from reporting.tables import Table
from reporting.timemodel import NOTHING, group_key, machines_fed, time_model
from reporting.windows import merged_spans, overlap_seconds_sql, planned_windows, recorded_in, windows_cte

NO_PLANNED_TIME = "no planned time"
NO_DATA = "no data"
MACHINE_FED, OPERATOR_REPORTED = "machine-fed", "operator-reported"


def hours(seconds: float) -> float:
    return round(seconds / 3600, 3)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _of_planned(value: float | None, planned: float, unknown: float, *,
                none: str | None = NO_PLANNED_TIME) -> float | str | None:
    """A KPI over planned time as shown: `none` without planned time, "no data" when none of it has data."""
    if planned <= NOTHING:
        return none
    return NO_DATA if planned - unknown <= NOTHING else _percent(value)


def source_notes(filters: ReportFilter, *, now: dt.datetime | None = None) -> dict[str, str]:
    """Per row of the time model (machine, work center or shop): whether its states come from the machines' own
    signals (machine-fed, from a time when that began inside the period) or from the terminal alone."""
    start, end = filters.start, min(filters.end, now or timezone.now())
    machines = list(filters.machines().select_related("work_center"))
    fed = machines_fed(machine_ids=[m.pk for m in machines], start=start, end=end)
    groups: dict[str, list] = {}
    for machine in machines:
        groups.setdefault(group_key(machine, filters.group), []).append(fed.get(machine.pk))
    notes = {}
    for key, froms in groups.items():
        whole = sum(1 for at in froms if at == start)
        later = sorted(at for at in froms if at is not None and at > start)
        if whole == len(froms):
            notes[key] = MACHINE_FED
        elif not whole and not later:
            notes[key] = OPERATOR_REPORTED
        elif len(froms) == 1:
            notes[key] = f"{OPERATOR_REPORTED}, {MACHINE_FED} from {timezone.localtime(later[0]):%Y-%m-%d %H:%M}"
        else:
            notes[key] = f"{MACHINE_FED}: {whole} of {len(froms)} machines" + (
                f", {len(later)} from within the period" if later else "")
    return notes


def utilization_report(filters: ReportFilter, *, now: dt.datetime | None = None) -> Table:
    rows = []
    sources = source_notes(filters, now=now)
    for (key, bucket), model in time_model(filters, now=now).items():
        kpis = model.kpis()
        rows.append({
            "group": key, "bucket": bucket,
            "pot_h": hours(model.pot), "pdot_h": hours(model.pdot), "pbt_h": hours(model.pbt),
            "apt_h": hours(model.apt), "aust_h": hours(model.aust), "adet_h": hours(model.adet),
            "adot_h": hours(model.adot),
            "availability_pct": _of_planned(kpis["availability"], model.pbt, model.unknown),
            "utilization_planned_pct": _of_planned(kpis["utilization_planned"], model.pot, model.unknown),
            "utilization_24h_pct": _of_planned(kpis["utilization_24h"], model.hours_24h, model.unknown_24h,
                                               none=None),
            "setup_rate_pct": _percent(kpis["setup_rate"]),
            "unknown_h": hours(model.unknown), "unknown_pct": _percent(kpis["unknown_share"]),
            "source": sources.get(key, ""),
        })
    columns = [
        ("group", filters.group.replace("_", " ").capitalize()), ("bucket", "Period"),
        ("pot_h", "POT h"), ("pdot_h", "PDOT h"), ("pbt_h", "PBT h"), ("apt_h", "APT h"), ("aust_h", "AUST h"),
        ("adet_h", "ADET h"), ("adot_h", "ADOT h"), ("availability_pct", "Availability %"),
        ("utilization_planned_pct", "Utilization (planned) %"), ("utilization_24h_pct", "Utilization (24 h) %"),
        ("setup_rate_pct", "Setup rate %"), ("unknown_h", "Unknown (no data) h"), ("unknown_pct", "Unknown %"),
        ("source", "Source"),
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
            {"label": "Unknown h", "data": [r["unknown_h"] for r in rows]},
        ],
        "stacked": True,
    }
    return Table("utilization", "Utilization (ISO 22400 time model)", columns, rows, notes=notes, chart=chart)


def oee_report(filters: ReportFilter, *, now: dt.datetime | None = None) -> Table:
    rows = []
    sources = source_notes(filters, now=now)
    for (key, bucket), model in time_model(filters, now=now).items():
        kpis = model.kpis()
        rows.append({
            "group": key, "bucket": bucket,
            "pbt_h": hours(model.pbt), "apt_h": hours(model.apt),
            "produced": int(model.produced), "good": int(model.good), "scrap": int(model.scrap),
            "rework": int(model.rework), "planned_run_h": hours(model.planned_run),
            "availability_pct": _of_planned(kpis["availability"], model.pbt, model.unknown),
            "effectiveness_pct": _percent(kpis["effectiveness"]),
            "quality_pct": _percent(kpis["quality"]),
            "oee_pct": _of_planned(kpis["oee"], model.pbt, model.unknown),
            "nee_pct": _of_planned(kpis["nee"], model.pbt, model.unknown),
            "utilization_efficiency_pct": _percent(kpis["utilization_efficiency"]),
            "allocation_efficiency_pct": _of_planned(kpis["allocation_efficiency"], model.pbt, model.unknown),
            "setup_rate_pct": _percent(kpis["setup_rate"]),
            "scrap_ratio_pct": _percent(kpis["scrap_ratio"]),
            "first_pass_yield_pct": _percent(kpis["first_pass_yield"]),
            "throughput_per_h": None if kpis["throughput"] is None else round(kpis["throughput"], 3),
            "unknown_pct": _percent(kpis["unknown_share"]), "source": sources.get(key, ""),
        })
    columns = [
        ("group", filters.group.replace("_", " ").capitalize()), ("bucket", "Period"), ("pbt_h", "PBT h"),
        ("apt_h", "APT h"), ("produced", "Produced"), ("good", "Good"), ("scrap", "Scrap"), ("rework", "Rework"),
        ("planned_run_h", "Planned run h"), ("availability_pct", "Availability %"),
        ("effectiveness_pct", "Effectiveness %"), ("quality_pct", "Quality %"), ("oee_pct", "OEE %"),
        ("nee_pct", "NEE %"), ("utilization_efficiency_pct", "Utilization eff. %"),
        ("allocation_efficiency_pct", "Allocation eff. %"), ("setup_rate_pct", "Setup rate %"),
        ("scrap_ratio_pct", "Scrap ratio %"), ("first_pass_yield_pct", "First-pass yield %"),
        ("throughput_per_h", "Throughput /h"), ("unknown_pct", "Unknown %"), ("source", "Source"),
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


def shift_windows(filters: ReportFilter, end: dt.datetime) -> dict[int, list[tuple[dt.datetime, dt.datetime]]]:
    """The shift's windows in the period (up to `end`) per calendar of the filtered machines, touching ones
    merged: what a shift filter keeps of scrap and downtime, as it does of the time model."""
    calendar_ids = sorted(set(filters.machines().values_list("calendar_id", flat=True)))
    if filters.start >= end:
        return {}
    windows = planned_windows(calendar_ids=calendar_ids, start=filters.start, end=end, shift=filters.shift)
    return merged_spans((window.calendar_id, window.start, window.end)
                        for window in sorted(windows, key=lambda w: (w.calendar_id, w.start)))


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
        for calendar_id, spans in shift_windows(filters, filters.end).items():
            in_shift |= Q(machine__calendar_id=calendar_id) & recorded_in(spans)
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


# Down and planned down (the operator's, always with a reason), and the stops and alarms of a machine's own signals
# (with the operator's reason once explained, "Unassigned" until then).
DOWNTIME_STATES = (MachineState.DOWN, MachineState.PLANNED_DOWN, *MachineState.stops())
UNASSIGNED = "Unassigned"


def _downtime_in_shift(filters: ReportFilter, *, by: str, end: dt.datetime, now: dt.datetime) -> list[tuple]:
    """(key, seconds, stops) of the downtime intervals clipped to the shift's windows of each
    machine's calendar (as the time model clips them); stops = intervals with time in those windows. One
    query: the windows (a few per day) as a VALUES list joined to the intervals that overlap them."""
    windows = [(calendar_id, span_start, span_end)
               for calendar_id, spans in shift_windows(filters, end).items() for span_start, span_end in spans]
    if not windows:
        return []
    cte, window_params = windows_cte({"calendar_id": "integer", "ws": "timestamptz", "we": "timestamptz"}, windows)
    event_table = MachineStateEvent._meta.db_table
    machine_table = Machine._meta.db_table
    reason_table = MachineStateEvent._meta.get_field("reason").related_model._meta.db_table
    finish = "COALESCE(e.ended_at, %s)"
    seconds = overlap_seconds_sql("e.started_at", "e.ended_at")
    key = "r.code" if by == "reason" else "m.code"
    conditions = [f"e.state IN ({', '.join(['%s'] * len(DOWNTIME_STATES))})"]
    params: list[object] = [*DOWNTIME_STATES]
    if filters.machine_id:
        conditions.append("e.machine_id = %s")
        params.append(filters.machine_id)
    if filters.work_center_id:
        conditions.append("m.work_center_id = %s")
        params.append(filters.work_center_id)
    sql = f"""
        WITH {cte}
        SELECT {key}, SUM({seconds}), COUNT(DISTINCT e.id)
        FROM {event_table} e
        JOIN {machine_table} m ON m.id = e.machine_id
        LEFT JOIN {reason_table} r ON r.id = e.reason_id
        JOIN w ON w.calendar_id = m.calendar_id AND e.started_at < w.we AND {finish} > w.ws
        WHERE {" AND ".join(conditions)}
        GROUP BY {key}
    """
    all_params = [*window_params, connection.ops.adapt_datetimefield_value(now), *params]
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        return [(item, float(secs or 0), stops) for item, secs, stops in cursor.fetchall()]


def downtime_report(filters: ReportFilter, *, by: str = "reason", now: dt.datetime | None = None) -> Table:
    """Down, planned-down, stopped and alarm time clipped to the period (not to the calendar: a machine down over
    the weekend is down), by reason ("Unassigned" for a stop nobody explained yet) or machine. With a shift:
    clipped to that shift's windows instead."""
    now = now or timezone.now()
    end = min(filters.end, now)
    key = {"reason": "reason__code", "machine": "machine__code"}[by]
    if filters.shift:
        found = _downtime_in_shift(filters, by=by, end=end, now=now)
    else:
        events = MachineStateEvent.objects.filter(state__in=DOWNTIME_STATES, started_at__lt=end).filter(
            Q(ended_at__isnull=True) | Q(ended_at__gt=filters.start))
        if filters.machine_id:
            events = events.filter(machine_id=filters.machine_id)
        if filters.work_center_id:
            events = events.filter(machine__work_center_id=filters.work_center_id)
        aggregated = events.values(key).annotate(down=clipped_seconds(filters.start, end, now), stops=Count("pk"))
        found = [(row[key], row["down"].total_seconds(), row["stops"]) for row in aggregated]
    found = sorted(((item or UNASSIGNED, seconds, stops) for item, seconds, stops in found if seconds > 0),
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
