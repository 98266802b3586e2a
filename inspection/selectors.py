import datetime as dt

from django.db.models import F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from inspection.choices import GaugeStatus, NCStatus, ReportStatus
from inspection.models import CharacteristicResult, FirstArticleReport, Gauge, NonConformance
from jobs.choices import OperationStatus
from jobs.models import JobOperation, OperationEvent


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
    first_piece_at = (OperationEvent.objects.filter(operation=OuterRef("pk"), to_status=waiting)
                      .order_by("-at").values("at")[:1])
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


def report_rows(report: FirstArticleReport) -> list[dict]:
    """Form 3: each characteristic the report covers with its result (None until measured) and the
    gauges that may measure it (of its type, usable today)."""
    from inspection.services import report_characteristics

    results = {r.characteristic_id: r for r in report.results.select_related("gauge", "nonconformance")}
    today = timezone.localdate()
    gauges = list(Gauge.objects.filter(status__in=GaugeStatus.usable(), next_due_on__gte=today)
                  .select_related("gauge_type").order_by("asset_id"))
    return [
        {"characteristic": c, "result": results.get(c.pk), "requirement": requirement_text(c),
         "gauges": [g for g in gauges if not c.gauge_type_id or g.gauge_type_id == c.gauge_type_id]}
        for c in report_characteristics(report)
    ]


def plain_number(value) -> str:
    """10.02000 as "10.02", 10.00000 as "10": a limit as the drawing shows it."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def requirement_text(characteristic) -> str:
    c = characteristic
    if c.requirement_kind == "attribute":
        return c.attribute_note
    return f"{plain_number(c.nominal)} ({plain_number(c.lower_limit)} – {plain_number(c.upper_limit)}) {c.unit}"


def gauge_list() -> QuerySet[Gauge]:
    return Gauge.objects.select_related("gauge_type").order_by("asset_id")


def gauge_recall(*, gauge_id: int, calibration_id: int | None = None) -> QuerySet[CharacteristicResult]:
    """Every first-article result measured with the gauge since its last good calibration before the
    out-of-tolerance one (the latest found out of tolerance unless `calibration_id` is given), up to
    that calibration, with their reports and jobs."""
    gauge = Gauge.objects.get(pk=gauge_id)
    bad = gauge.calibrations.filter(as_found_in_tolerance=False)
    bad = bad.filter(pk=calibration_id) if calibration_id else bad.order_by("-calibrated_on", "-pk")
    calibration = bad.first()
    results = CharacteristicResult.objects.filter(gauge=gauge).select_related(
        "report__job__part_revision__part", "report__operation", "characteristic", "measured_by")
    if calibration is None:
        return results.none()
    since = (gauge.calibrations.filter(calibrated_on__lt=calibration.calibrated_on, as_left_in_tolerance=True)
             .order_by("-calibrated_on").values_list("calibrated_on", flat=True).first())
    until = dt.datetime.combine(calibration.calibrated_on + dt.timedelta(days=1), dt.time.min,
                                tzinfo=timezone.get_current_timezone())
    results = results.filter(measured_at__lt=until)
    if since is not None:
        results = results.filter(measured_at__gte=dt.datetime.combine(since, dt.time.min,
                                                                      tzinfo=timezone.get_current_timezone()))
    return results.order_by("measured_at")


RECALL_COLUMNS = ["gauge", "measured_at", "job", "operation", "part", "fair_id", "report_status", "balloon",
                  "measured_value", "unit", "verdict", "measured_by"]


def gauge_recall_rows(results) -> list[list[str]]:
    return [
        [r.gauge.asset_id, timezone.localtime(r.measured_at).isoformat(timespec="minutes"), r.report.job.number,
         str(r.report.operation.operation_number), r.report.job.part_revision.part.number, r.report.fair_id,
         r.report.get_status_display(), r.characteristic.balloon_number,
         "" if r.measured_value is None else str(r.measured_value), r.characteristic.unit, r.get_verdict_display(),
         r.measured_by.get_username()]
        for r in results.select_related("gauge")
    ]


def nonconformance_list() -> QuerySet[NonConformance]:
    return NonConformance.objects.select_related("job", "operation", "raised_by", "dispositioned_by") \
        .order_by("-created_at")
