import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from inspection.choices import FAIType, GaugeStatus, InspectionKind, NCStatus, ReportStatus, RequirementKind
from inspection.models import (
    Characteristic,
    CharacteristicResult,
    FirstArticleReport,
    Gauge,
    GaugeType,
    InspectionPlan,
    InspectionReading,
    InspectionRecord,
    NonConformance,
)
from jobs.choices import OperationStatus
from jobs.models import JobOperation, OperationEvent, PartRevision


def gauges_due(*, today: dt.date, within_days: int = 14) -> QuerySet[Gauge]:
    """Gauges in service whose calibration is overdue or due within `within_days`."""
    return (
        Gauge.objects.select_related("gauge_type")
        .exclude(status__in=[GaugeStatus.RETIRED, GaugeStatus.OUT_FOR_CALIBRATION])
        .filter(next_due_on__lte=today + dt.timedelta(days=within_days))
        .order_by("next_due_on")
    )


def first_articles_waiting() -> QuerySet[FirstArticleReport]:
    return (
        FirstArticleReport.objects.select_related("job__part_revision__part", "operation")
        .filter(status__in=[ReportStatus.OPEN, ReportStatus.SUBMITTED])
        .order_by("created_at")
    )


def nonconformances_open() -> QuerySet[NonConformance]:
    return NonConformance.objects.select_related("job").exclude(status=NCStatus.CLOSED).order_by("-created_at")


def first_article_queue() -> QuerySet[JobOperation]:
    """Operations waiting for their first article (on hold there too), oldest first: since the first
    piece was reported. Each with its open report, if one is open, as `open_reports`."""
    waiting = OperationStatus.FIRST_ARTICLE
    # The event that entered the status: the production gate's own events stay in it.
    first_piece_at = (OperationEvent.objects.filter(operation=OuterRef("pk"), to_status=waiting)
                      .exclude(from_status=waiting).order_by("-at").values("at")[:1])
    return (
        JobOperation.objects.filter(Q(status=waiting) | Q(status=OperationStatus.ON_HOLD, resume_status=waiting))
        .select_related("job__part_revision__part", "machine", "nc_program")
        .annotate(waiting_since=Subquery(first_piece_at))
        .prefetch_related(Prefetch("first_article_reports", to_attr="open_reports",
                                   queryset=FirstArticleReport.objects.filter(
                                       status__in=[ReportStatus.OPEN, ReportStatus.SUBMITTED])))
        .order_by(F("waiting_since").asc(nulls_first=True), "pk")
    )


def report_detail(report_id: int) -> FirstArticleReport:
    return (FirstArticleReport.objects
            .select_related("job__part_revision__part", "job__order_line__order__customer", "operation__machine",
                            "operation__nc_program", "operation__fixture", "prepared_by", "decided_by")
            .prefetch_related("form_two_lines")
            .get(pk=report_id))


def report_characteristics(report: FirstArticleReport) -> QuerySet[Characteristic]:
    """The characteristics a report must cover: a partial one its listed ones; a full one every
    characteristic of the plan produced at this operation or before it."""
    if report.fai_type == FAIType.PARTIAL:
        return report.covered_characteristics.select_related("gauge_type").order_by("balloon_number")
    plan = InspectionPlan.objects.filter(part_revision_id=report.job.part_revision_id).first()
    if plan is None:
        return Characteristic.objects.none()
    return (plan.characteristics.select_related("gauge_type")
            .filter(Q(operation_number__isnull=True) | Q(operation_number__lte=report.operation.operation_number))
            .order_by("balloon_number"))


def report_rows(report: FirstArticleReport) -> list[dict]:
    """Form 3: each characteristic the report covers with its result (None until measured) and the
    gauges that may measure it (of its type, usable today)."""
    results = {r.characteristic_id: r for r in report.results.select_related("gauge", "nonconformance")}
    today = timezone.localdate()
    gauges = list(Gauge.objects.filter(status__in=GaugeStatus.usable(), next_due_on__gte=today)
                  .select_related("gauge_type").order_by("asset_id"))
    return [
        {"characteristic": c, "result": results.get(c.pk), "requirement": requirement_text(c),
         "gauges": [g for g in gauges if not c.gauge_type_id or g.gauge_type_id == c.gauge_type_id]}
        for c in report_characteristics(report)
    ]


def plain_number(value: Decimal) -> str:
    """10.02000 as "10.02", 10.00000 as "10": a limit as the drawing shows it."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def requirement_text(characteristic: Characteristic) -> str:
    c = characteristic
    if c.requirement_kind == RequirementKind.ATTRIBUTE:
        return c.attribute_note
    return f"{plain_number(c.nominal)} ({plain_number(c.lower_limit)} – {plain_number(c.upper_limit)}) {c.unit}"


def gauge_list() -> QuerySet[Gauge]:
    return Gauge.objects.select_related("gauge_type").order_by("asset_id")


def _recall_window(gauge: Gauge, calibration_id: int | None) -> tuple[dt.datetime | None, dt.datetime] | None:
    """From the last good calibration before the out-of-tolerance one (the latest found out of
    tolerance unless `calibration_id` is given) up to the end of that calibration's day; None when
    the gauge was never found out of tolerance."""
    bad = gauge.calibrations.filter(as_found_in_tolerance=False)
    bad = bad.filter(pk=calibration_id) if calibration_id else bad.order_by("-calibrated_on", "-pk")
    calibration = bad.first()
    if calibration is None:
        return None
    zone = timezone.get_current_timezone()
    since = (gauge.calibrations.filter(calibrated_on__lt=calibration.calibrated_on, as_left_in_tolerance=True)
             .order_by("-calibrated_on").values_list("calibrated_on", flat=True).first())
    until = dt.datetime.combine(calibration.calibrated_on + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return (dt.datetime.combine(since, dt.time.min, tzinfo=zone) if since else None), until


def gauge_recall(*, gauge_id: int, calibration_id: int | None = None) -> QuerySet[CharacteristicResult]:
    """Every first-article result measured with the gauge since its last good calibration before the
    out-of-tolerance one, up to that calibration, with their reports and jobs."""
    gauge = Gauge.objects.get(pk=gauge_id)
    results = CharacteristicResult.objects.filter(gauge=gauge).select_related(
        "gauge", "report__job__part_revision__part", "report__operation", "characteristic", "measured_by",
        "nonconformance")
    window = _recall_window(gauge, calibration_id)
    if window is None:
        return results.none()
    since, until = window
    results = results.filter(measured_at__lt=until)
    if since is not None:
        results = results.filter(measured_at__gte=since)
    return results.order_by("measured_at")


def gauge_recall_readings(*, gauge_id: int, calibration_id: int | None = None) -> QuerySet[InspectionReading]:
    """The same for in-process and final inspection readings, by the time of their record."""
    gauge = Gauge.objects.get(pk=gauge_id)
    readings = InspectionReading.objects.filter(gauge=gauge).select_related(
        "gauge", "record__job__part_revision__part", "record__operation", "record__inspector", "characteristic",
        "nonconformance")
    window = _recall_window(gauge, calibration_id)
    if window is None:
        return readings.none()
    since, until = window
    readings = readings.filter(record__inspected_at__lt=until)
    if since is not None:
        readings = readings.filter(record__inspected_at__gte=since)
    return readings.order_by("record__inspected_at", "pk")


@dataclass(frozen=True)
class RecallEntry:
    """One suspect measurement, from a first-article report or an inspection record."""

    gauge: str
    measured_at: dt.datetime
    job: str
    operation: str
    part: str
    inspection: str
    record: str
    record_status: str
    balloon: str
    piece: str
    measured_value: str
    unit: str
    verdict: str
    measured_by: str
    nonconformance: str


def _value(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def gauge_recall_entries(*, gauge_id: int, calibration_id: int | None = None) -> list[RecallEntry]:
    """Everything the gauge measured in the recall window: first-article rows and in-process and final
    readings, oldest first, each with its job, operation, part and record."""
    entries = [
        RecallEntry(gauge=r.gauge.asset_id, measured_at=r.measured_at, job=r.report.job.number,
                    operation=str(r.report.operation.operation_number), part=r.report.job.part_revision.part.number,
                    inspection="First article", record=r.report.fair_id, record_status=r.report.get_status_display(),
                    balloon=r.characteristic.balloon_number, piece=r.report.serial_number,
                    measured_value=_value(r.measured_value), unit=r.characteristic.unit,
                    verdict=r.get_verdict_display(), measured_by=r.measured_by.get_username(),
                    nonconformance=r.nonconformance.number if r.nonconformance else "")
        for r in gauge_recall(gauge_id=gauge_id, calibration_id=calibration_id)
    ] + [
        RecallEntry(gauge=r.gauge.asset_id, measured_at=r.record.inspected_at, job=r.record.job.number,
                    operation=str(r.record.operation.operation_number) if r.record.operation else "",
                    part=r.record.job.part_revision.part.number, inspection=r.record.get_kind_display(),
                    record=r.record.label,
                    record_status={True: "Accepted", False: "Rejected"}.get(r.record.accepted, ""),
                    balloon=r.characteristic.balloon_number, piece=r.piece, measured_value=_value(r.measured_value),
                    unit=r.characteristic.unit, verdict=r.get_verdict_display(),
                    measured_by=r.record.inspector.get_username(),
                    nonconformance=r.nonconformance.number if r.nonconformance else "")
        for r in gauge_recall_readings(gauge_id=gauge_id, calibration_id=calibration_id)
    ]
    return sorted(entries, key=lambda entry: entry.measured_at)


def inspection_records(*, operation_id: int | None = None) -> QuerySet[InspectionRecord]:
    records = InspectionRecord.objects.select_related("job__part_revision__part", "operation", "inspector")
    if operation_id is not None:
        records = records.filter(operation_id=operation_id)
    return records.prefetch_related(Prefetch(
        "readings", queryset=InspectionReading.objects.select_related("characteristic", "gauge", "nonconformance")
    )).order_by("-inspected_at", "-pk")


def operations_to_inspect() -> QuerySet[JobOperation]:
    """Operations with pieces on a machine now, or held: where an in-process check is taken."""
    return (JobOperation.objects
            .filter(status__in=[*OperationStatus.active(), OperationStatus.ON_HOLD])
            .select_related("job__part_revision__part", "machine")
            .order_by("job__number", "operation_number"))


def nonconformance_list() -> QuerySet[NonConformance]:
    return NonConformance.objects.select_related("job", "operation", "raised_by", "dispositioned_by") \
        .order_by("-created_at")


def record_characteristics(operation: JobOperation, *, kind: str) -> QuerySet[Characteristic]:
    """What a check at an operation may measure: an in-process check, the characteristics produced at
    this operation or before it (and those tied to no operation); a final inspection, the whole plan."""
    plan = InspectionPlan.objects.filter(part_revision_id=operation.job.part_revision_id).first()
    if plan is None:
        return Characteristic.objects.none()
    characteristics = plan.characteristics.select_related("gauge_type").order_by("balloon_number")
    if kind == InspectionKind.IN_PROCESS:
        characteristics = characteristics.filter(
            Q(operation_number__isnull=True) | Q(operation_number__lte=operation.operation_number))
    return characteristics


def check_rows(operation: JobOperation, *, kind: str) -> list[dict]:
    """The rows of an in-process or final check: each characteristic it may measure with its
    requirement and the gauges that may measure it (of its type, usable today)."""
    today = timezone.localdate()
    gauges = list(Gauge.objects.filter(status__in=GaugeStatus.usable(), next_due_on__gte=today)
                  .select_related("gauge_type").order_by("asset_id"))
    return [
        {"characteristic": c, "requirement": requirement_text(c),
         "gauges": [g for g in gauges if not c.gauge_type_id or g.gauge_type_id == c.gauge_type_id]}
        for c in record_characteristics(operation, kind=kind)
    ]


def plan_revisions(*, search: str = "") -> QuerySet[PartRevision]:
    """Part revisions with whether they have an inspection plan and how many characteristics."""
    revisions = PartRevision.objects.select_related("part").annotate(
        has_plan=Exists(InspectionPlan.objects.filter(part_revision=OuterRef("pk"))),
        characteristic_count=Count("inspection_plan__characteristics"))
    if search:
        revisions = revisions.filter(Q(part__number__icontains=search) | Q(part__description__icontains=search)
                                     | Q(drawing_number__icontains=search))
    return revisions.order_by("part__number", "revision")


def plan_for_revision(revision_id: int) -> InspectionPlan | None:
    return (InspectionPlan.objects.select_related("part_revision__part")
            .prefetch_related(Prefetch("characteristics",
                                       queryset=Characteristic.objects.select_related("gauge_type")
                                       .order_by("balloon_number")))
            .filter(part_revision_id=revision_id).first())


PLAN_COMPARED = ("sheet", "zone", "designator", "description", "requirement_kind", "nominal", "lower_limit",
                 "upper_limit", "attribute_note", "unit", "method", "gauge_type_id", "operation_number")


def plan_compare(*, old: InspectionPlan, new: InspectionPlan) -> dict:
    """What changed between two plans, by balloon: added, removed, and changed with old and new values."""
    before = {c.balloon_number: c for c in old.characteristics.all()}
    after = {c.balloon_number: c for c in new.characteristics.all()}
    changed = {}
    for balloon in sorted(before.keys() & after.keys()):
        fields = {name: (getattr(before[balloon], name), getattr(after[balloon], name)) for name in PLAN_COMPARED
                  if getattr(before[balloon], name) != getattr(after[balloon], name)}
        if fields:
            changed[balloon] = fields
    return {"added": sorted(after.keys() - before.keys()), "removed": sorted(before.keys() - after.keys()),
            "changed": changed}


def plan_compare_rows(*, old: InspectionPlan, new: InspectionPlan) -> dict:
    """`plan_compare` as a page shows it: added and removed characteristics with their requirement,
    changed ones with each field's label and old and new values as the drawing writes them."""
    diff = plan_compare(old=old, new=new)
    before = {c.balloon_number: c for c in old.characteristics.select_related("gauge_type")}
    after = {c.balloon_number: c for c in new.characteristics.select_related("gauge_type")}
    gauge_types = dict(GaugeType.objects.values_list("pk", "name"))

    def shown(name: str, value) -> str:
        if value is None or value == "":
            return "—"
        if name == "gauge_type_id":
            return gauge_types.get(value, str(value))
        if isinstance(value, Decimal):
            return plain_number(value)
        return str(value)

    return {
        "added": [after[b] for b in diff["added"]], "removed": [before[b] for b in diff["removed"]],
        "changed": [
            {"balloon": balloon, "fields": [
                {"label": Characteristic._meta.get_field(name.removesuffix("_id")).verbose_name.capitalize(),
                 "old": shown(name, a), "new": shown(name, b)} for name, (a, b) in fields.items()]}
            for balloon, fields in diff["changed"].items()
        ],
        "unchanged": len(before.keys() & after.keys()) - len(diff["changed"]),
    }
