"""Estimated vs actual hours and job cost, and the unit cost of a part by batch size."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, DurationField, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from jobs.choices import Activity, OperationStatus, StepKind
from jobs.models import JobOperation, JobOperationMachine, LabourEntry, PartRevision, Routing
from reporting.filters import ReportFilter
from reporting.tables import Table

# Labour cost per operator hour, added to the machine's rate at release. Settable in settings.
SHOP_LABOUR_RATE = Decimal(str(settings.SHOP_LABOUR_RATE))
BATCH_SIZES = (1, 2, 5, 10, 25, 50)


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
