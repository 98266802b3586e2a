"""The out-of-tolerance recall of a gauge as a CSV file (`inspection.selectors.gauge_recall_entries` as rows): what
the gauges page and the API's `?export=csv` answer with."""

import csv
from dataclasses import asdict

from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from inspection.models import Gauge
from inspection.selectors import RecallEntry, gauge_recall_entries

# The first twelve columns are those of the first-article-only export, in the same places.
RECALL_COLUMNS = ["gauge", "measured_at", "job", "operation", "part", "record", "record_status", "balloon",
                  "measured_value", "unit", "verdict", "measured_by", "inspection", "piece", "nonconformance"]


def gauge_recall_rows(entries: list[RecallEntry]) -> list[list[str]]:
    rows = []
    for entry in entries:
        values = asdict(entry) | {"measured_at": timezone.localtime(entry.measured_at).isoformat(timespec="minutes")}
        rows.append([values[name] for name in RECALL_COLUMNS])
    return rows


def gauge_recall_csv(gauge: Gauge) -> HttpResponse:
    """The gauge's recall as a CSV download named after it."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"recall-{gauge.asset_id}.csv")
    writer = csv.writer(response)
    writer.writerow(RECALL_COLUMNS)
    writer.writerows(gauge_recall_rows(gauge_recall_entries(gauge_id=gauge.pk)))
    return response
