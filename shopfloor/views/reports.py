"""Manager reports: one URL per page serves the page and, to its HTMX filters, the report body alone.
Every table exports as CSV and XLSX from the same `Table` the page shows; the weekly summary is a PDF."""

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from reporting.builders import delivery_report, downtime_report, oee_report, scrap_report
from reporting.filters import ReportFilter, ReportFilterForm
from reporting.models import VIEW_REPORTS
from reporting.registry import TABLES
from reporting.tables import Table, table_csv, table_xlsx
from reporting.timemodel import DEFINITIONS

PAGES = {
    "utilization": ("Utilization", ["utilization"],
                    ["POT", "PDOT", "PBT", "APT", "AUST", "ADET", "ADOT", "AUBT", "Unknown", "Availability",
                     "Utilization (planned)", "Utilization (24 h)", "Setup rate", "Source"]),
    "oee": ("OEE", ["oee"], list(DEFINITIONS)),
    "delivery": ("Delivery", ["delivery"], []),
    "paretos": ("Scrap and downtime", ["scrap-reason", "scrap-part", "scrap-machine", "downtime-reason",
                                       "downtime-machine"], []),
    "run-time": ("Operator vs machine", ["run-comparison"], []),
    "costs": ("Estimated vs actual and cost", ["job-costs"], []),
    "unit-cost": ("Unit cost by batch size", ["unit-cost"], []),
}
PAGE_NOTES = {
    "delivery": "On time: the job's last operation was done on or before its due date. Open jobs are listed "
                "when the published schedule finishes them after their due date.",
    "paretos": "Scrap from production reports in the period (with a shift: those reported inside that shift). "
               "Downtime: down (unplanned), planned-down, stopped and alarm intervals clipped to the period, open "
               "ones up to now, not limited to the calendar; with a shift, clipped to that shift's windows. A stop "
               "or alarm the machine's signals recorded counts under 'Unassigned' until someone gives its reason, "
               "then under that reason.",
    "run-time": "Per machine whose own signals (MTConnect or an edge device) feed its status log. Reported: the "
                "operators' labour entries of activity run on the machine (from starting the run to pausing or "
                "completing it; two operators at once count once). Measured: the time the machine's signals "
                "said it was running. Gap = reported − measured, in hours and as a share (%) of reported. "
                "Unknown: time the machine could not be read, in which a reported run cannot be checked.",
    "costs": "Estimated hours: the operation's standards frozen at release (setup; cycle / parts per cycle × "
             "job quantity). Actual: labour entries. Cost: actual hours × (machine rate at release + labour "
             "rate). The unit cost of a part by batch size has its own page: Unit cost by batch size.",
    "unit-cost": "Per routing step of the part revision: mean actual setup of its past done operations (the "
                 "standard when there is none) + batch size × standard cycle, at the first-ranked machine's "
                 "rate + labour, plus outside-processing cost per lot; divided by the batch size. It does not "
                 "depend on the dates or machines.",
}
# The filters each page uses; the others are not shown there.
PAGE_FIELDS = {
    "utilization": ["date_from", "date_to", "machine", "work_center", "shift", "group", "bucket"],
    "oee": ["date_from", "date_to", "machine", "work_center", "shift", "group", "bucket"],
    "delivery": ["date_from", "date_to", "machine", "work_center"],
    "paretos": ["date_from", "date_to", "machine", "work_center", "shift"],
    "run-time": ["date_from", "date_to", "machine", "work_center", "shift"],
    "costs": ["date_from", "date_to", "machine", "work_center"],
    "unit-cost": ["part_revision"],
}


def _form(request) -> ReportFilterForm:
    return ReportFilterForm(request.GET or None) if request.GET else ReportFilterForm({})


def _tables(names, form) -> list[Table]:
    report_filter = form.report_filter()
    return [table for table in (TABLES[name](report_filter, form) for name in names) if table is not None]


@require_safe
@permission_required(VIEW_REPORTS, raise_exception=True)
def reports_index(request):
    return redirect("report", page="utilization")


@require_safe
@permission_required(VIEW_REPORTS, raise_exception=True)
def report(request, page: str):
    if page not in PAGES:
        raise Http404("No such report.")
    title, names, definition_keys = PAGES[page]
    form = _form(request)
    tables = _tables(names, form) if form.is_valid() else []
    context = {
        "page": page, "title": title, "form": form, "tables": tables, "pages": PAGES,
        "definitions": [(key, DEFINITIONS[key]) for key in definition_keys], "page_note": PAGE_NOTES.get(page, ""),
        "query": request.GET.urlencode(),
        "fields": [form[name] for name in PAGE_FIELDS[page]],
    }
    if request.htmx and not request.htmx.boosted:
        response = render(request, "shopfloor/reports/body.html", context)
    else:
        response = render(request, "shopfloor/reports/page.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@permission_required(VIEW_REPORTS, raise_exception=True)
def report_export(request, table: str, fmt: str):
    if table not in TABLES or fmt not in ("csv", "xlsx"):
        raise Http404("No such export.")
    form = _form(request)
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    [data] = _tables([table], form) or [None]
    if data is None:
        raise Http404("Choose a part revision.")
    filename = f"{table}-{form.cleaned_data['date_from']}-{form.cleaned_data['date_to']}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(table_csv(data), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            table_xlsx(data),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_safe
@permission_required(VIEW_REPORTS, raise_exception=True)
def weekly_summary(request):
    """One page: the last seven days (or the filtered period) per work center, with delivery and the
    top scrap and downtime reasons."""
    from weasyprint import HTML, URLFetcher

    form = _form(request)
    if not form.is_valid():
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain")
    report_filter = form.report_filter()
    work_centers = ReportFilter(date_from=report_filter.date_from, date_to=report_filter.date_to,
                                machine_id=report_filter.machine_id, work_center_id=report_filter.work_center_id,
                                shift=report_filter.shift, group="work_center")
    shop = ReportFilter(**{**work_centers.__dict__, "group": "shop"})
    delivery = delivery_report(report_filter)
    context = {
        "filter": report_filter,
        "oee": oee_report(work_centers), "shop": oee_report(shop),
        "delivery_notes": delivery.notes,
        "scrap": scrap_report(report_filter, by="reason").rows[:5],
        "downtime": downtime_report(report_filter, by="reason").rows[:5],
        "printed_at": timezone.localtime(),
    }
    html = render_to_string("shopfloor/reports/weekly.html", context)
    pdf = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        False, f"weekly-summary-{report_filter.date_from}-{report_filter.date_to}.pdf")
    return response
