import datetime as dt

from django.db.models import QuerySet

from inspection.choices import GaugeStatus, NCStatus, ReportStatus
from inspection.models import FirstArticleReport, Gauge, NonConformance


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
