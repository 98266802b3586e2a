"""The inspector's pages: the first-article queue, a report row by row, gauges, nonconformances.

Each form calls one inspection service; a refusal re-renders the same fragment with its message and
status (base.html has htmx swap 4xx answers too)."""

import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST, require_safe
from openpyxl import Workbook
from openpyxl.styles import Font
from weasyprint import HTML, URLFetcher

from core.errors import ApplicationError
from inspection import selectors, services
from inspection.api.views import recall_csv_response
from inspection.choices import Disposition, NCStatus, ReportStatus, RequirementKind
from inspection.models import Characteristic, FirstArticleReport, Gauge, NonConformance
from jobs.models import Job, JobOperation

VIEW = "inspection.view_firstarticlereport"


def _report(report_id: int) -> FirstArticleReport:
    try:
        return selectors.report_detail(report_id)
    except FirstArticleReport.DoesNotExist:
        raise Http404("No such report.") from None


@require_safe
@permission_required(VIEW, raise_exception=True)
def quality_queue(request):
    """First articles waiting, oldest first; open the report of one to inspect it."""
    return render(request, "shopfloor/quality/queue.html", {
        "waiting": selectors.first_article_queue(),
        "gauges_due": selectors.gauges_due(today=timezone.localdate()),
        "open_ncs": selectors.nonconformances_open()[:20],
    })


@require_POST
def quality_open(request, operation_id: int):
    try:
        report = services.fai_open_for_operation(operation_id=operation_id, user=request.user)
    except ApplicationError as err:
        messages.error(request, err.message)
        return redirect("quality-queue")
    return redirect("quality-report", report_id=report.pk)


def report_context(report: FirstArticleReport, *, error: ApplicationError | None = None) -> dict:
    rows = selectors.report_rows(report)
    return {
        "report": report, "rows": rows, "error": error, "editable": report.status == ReportStatus.OPEN,
        "measured": sum(1 for row in rows if row["result"]), "failed": sum(
            1 for row in rows if row["result"] and row["result"].verdict == "fail"),
        "lines": list(report.form_two_lines.all()),
    }


@require_safe
@permission_required(VIEW, raise_exception=True)
def quality_report(request, report_id: int):
    report = _report(report_id)
    return render(request, "shopfloor/quality/report.html", report_context(report))


def _row_context(report: FirstArticleReport, characteristic_id: int, **extra) -> dict:
    row = next((row for row in selectors.report_rows(report) if row["characteristic"].pk == characteristic_id), None)
    if row is None:
        raise ApplicationError("That characteristic is not part of this report.")
    return {"report": report, "row": row, "editable": report.status == ReportStatus.OPEN, **extra}


@require_POST
def quality_row(request, report_id: int, characteristic_id: int):
    """One Form 3 row, measured: answers the row, with pass/fail at once, or the refusal."""
    report = _report(report_id)
    characteristic = get_object_or_404(Characteristic, pk=characteristic_id)
    accepted = {"pass": True, "fail": False}.get(request.POST.get("accepted", ""))
    gauge = request.POST.get("gauge", "")
    try:
        services.fai_result_record(
            report_id=report.pk, characteristic_id=characteristic.pk, user=request.user,
            value=request.POST.get("value") if characteristic.requirement_kind == RequirementKind.VARIABLE else None,
            accepted=accepted, gauge_id=int(gauge) if gauge.isdigit() else None, notes=request.POST.get("notes", ""))
    except ApplicationError as err:
        context = _row_context(report, characteristic.pk, row_error=err, typed=request.POST.get("value", ""))
        return render(request, "shopfloor/quality/partials/row.html", context, status=err.status)
    response = render(request, "shopfloor/quality/partials/row.html", _row_context(report, characteristic.pk))
    response["HX-Trigger"] = "fai-row-saved"
    return response


@require_POST
def quality_report_action(request, report_id: int, action: str):
    """Submit, approve or reject (the last two signed with the password)."""
    report = _report(report_id)
    try:
        if action == "submit":
            services.fai_submit(report_id=report.pk, user=request.user)
        elif action == "approve":
            services.fai_approve(report_id=report.pk, user=request.user, password=request.POST.get("password", ""),
                                 note=request.POST.get("note", ""))
        elif action == "reject":
            services.fai_reject(report_id=report.pk, user=request.user, password=request.POST.get("password", ""),
                                note=request.POST.get("note", ""))
        elif action == "form-two":
            services.fai_form_two_line_add(
                report_id=report.pk, user=request.user, kind=request.POST.get("kind", ""),
                designation=request.POST.get("designation", ""), specification=request.POST.get("specification", ""),
                code=request.POST.get("code", ""), certificate_number=request.POST.get("certificate_number", ""),
                functional_test_procedure=request.POST.get("functional_test_procedure", ""))
        else:
            raise ApplicationError(f"“{action}” is not something a report does.")
    except ApplicationError as err:
        report = _report(report_id)
        return render(request, "shopfloor/quality/report.html", report_context(report, error=err), status=err.status)
    labels = {"submit": "submitted", "approve": "approved: production may start",
              "reject": "rejected: the operation is back in setup", "form-two": "updated"}
    messages.success(request, f"{report.fair_id} {labels[action]}.")
    return redirect("quality-report", report_id=report.pk)


@require_safe
@permission_required(VIEW, raise_exception=True)
def quality_report_document(request, report_id: int, kind: str):
    """AS9102 Forms 1–3 as PDF or XLSX."""
    report = _report(report_id)
    if kind == "pdf":
        response = HttpResponse(fair_pdf(report), content_type="application/pdf")
    else:
        response = HttpResponse(fair_xlsx(report),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = content_disposition_header(kind == "xlsx", f"{report.fair_id}.{kind}")
    return response


@require_safe
@permission_required("inspection.view_gauge", raise_exception=True)
def quality_gauges(request):
    return render(request, "shopfloor/quality/gauges.html", {"gauges": selectors.gauge_list()})


@require_POST
def quality_gauge_calibrate(request, gauge_id: int):
    """Record a calibration from the gauges page; answers the gauge's row."""
    gauge = get_object_or_404(Gauge, pk=gauge_id)
    error = None
    try:
        calibrated_on = _date(request.POST.get("calibrated_on", ""), field="calibrated_on")
        services.gauge_calibrate(
            gauge_id=gauge.pk, user=request.user, calibrated_on=calibrated_on,
            as_found_in_tolerance=request.POST.get("as_found") == "in",
            as_left_in_tolerance=request.POST.get("as_left") == "in",
            certificate_number=request.POST.get("certificate_number", ""),
            performed_by=request.POST.get("performed_by", ""))
    except ApplicationError as err:
        error = err
    gauge = selectors.gauge_list().get(pk=gauge.pk)
    return render(request, "shopfloor/quality/partials/gauge_row.html", {"gauge": gauge, "error": error},
                  status=error.status if error else 200)


def _date(text: str, *, field: str):
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ApplicationError(f"“{text.strip()}” is not a date (YYYY-MM-DD).", field=field) from None


@require_safe
@permission_required("inspection.view_gauge", raise_exception=True)
def quality_gauge_recall(request, gauge_id: int):
    gauge = get_object_or_404(Gauge, pk=gauge_id)
    return recall_csv_response(gauge, selectors.gauge_recall(gauge_id=gauge.pk))


@require_safe
@permission_required("inspection.view_nonconformance", raise_exception=True)
def quality_nonconformances(request):
    show_all = request.GET.get("all") == "1"
    ncs = selectors.nonconformance_list() if show_all else selectors.nonconformances_open()
    return render(request, "shopfloor/quality/nonconformances.html", {
        "ncs": ncs[:200], "show_all": show_all, "dispositions": [d for d in Disposition if d != Disposition.PENDING],
    })


@require_POST
def quality_nc_raise(request):
    """Raise a nonconformance from an in-process or final check: job number, operation number."""
    number = request.POST.get("job", "").strip()
    try:
        job = Job.objects.filter(number__iexact=number).first()
        if job is None:
            raise ApplicationError(f"There is no job “{number}”.", field="job")
        operation_number = request.POST.get("operation", "").strip()
        operation = None
        if operation_number:
            operation = JobOperation.objects.filter(job=job, operation_number=int(operation_number)
                                                    if operation_number.isdigit() else -1).first()
            if operation is None:
                raise ApplicationError(f"{job.number} has no operation {operation_number}.", field="operation")
        quantity = request.POST.get("quantity", "1").strip()
        nc = services.nc_raise(user=request.user, job_id=job.pk, operation_id=operation.pk if operation else None,
                               quantity=int(quantity) if quantity.isdigit() else 0,
                               description=request.POST.get("description", ""),
                               source=request.POST.get("source", "in_process"))
    except ApplicationError as err:
        messages.error(request, err.message)
        return redirect("quality-nonconformances")
    messages.success(request, f"{nc.number} raised" + (" and its operation is on hold." if nc.holds_operation
                                                       else "."))
    return redirect("quality-nonconformances")


@require_POST
def quality_nc_action(request, nc_id: int, action: str):
    nc = get_object_or_404(NonConformance, pk=nc_id)
    error = None
    try:
        if action == "disposition":
            nc = services.nc_disposition(nc_id=nc.pk, user=request.user,
                                         disposition=request.POST.get("disposition", ""),
                                         note=request.POST.get("note", ""))
        elif action == "close":
            nc = services.nc_close(nc_id=nc.pk, user=request.user, root_cause=request.POST.get("root_cause", ""),
                                   corrective_action=request.POST.get("corrective_action", ""))
        else:
            raise ApplicationError(f"“{action}” is not something a nonconformance does.")
    except ApplicationError as err:
        error = err
    nc = selectors.nonconformance_list().get(pk=nc.pk)
    context = {"nc": nc, "error": error, "dispositions": [d for d in Disposition if d != Disposition.PENDING],
               "open": NCStatus.OPEN}
    return render(request, "shopfloor/quality/partials/nc_row.html", context, status=error.status if error else 200)


# --- AS9102 Rev C Forms 1-3 ---------------------------------------------------------------------
# One set of rows feeds both the PDF (WeasyPrint, like the traveler) and the XLSX (openpyxl).

FORM2_COLUMNS = ["5. Material or Process Name", "6. Specification Number", "7. Code",
                 "8. Special Process Supplier Code", "9. Customer Approval Verification",
                 "10. Certificate of Conformance Number",
                 "11. Functional Test Procedure Number", "12. Acceptance Report Number", "13. Comments"]
FORM3_COLUMNS = ["5. Char. No.", "6. Reference Location", "7. Characteristic Designator", "8. Requirement",
                 "9. Results", "10. Designed / Qualified Tooling", "11. Nonconformance Number",
                 "12. Additional Data / Comments"]


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d") if value else ""


def _who(user) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def fair_context(report: FirstArticleReport) -> dict:
    job, operation, revision = report.job, report.operation, report.job.part_revision
    results = {r.characteristic_id: r for r in report.results.select_related("gauge", "nonconformance")}
    characteristics = list(services.report_characteristics(report))
    has_nc = any(r.nonconformance_id for r in results.values())
    complete = report.status == ReportStatus.APPROVED
    partial = "Partial FAI: " + (report.partial_reason or report.reason) if report.fai_type == "partial" else \
        "Full FAI"
    program = f"NC {operation.nc_program.program_number} v{operation.nc_program.version}" \
        if operation.nc_program_id else ""
    form1 = [
        (1, "Part Number", revision.part.number), (2, "Part Name", revision.part.description),
        (3, "Serial Number", report.serial_number), (4, "FAIR Identifier", report.fair_id),
        (5, "Part Revision Level", revision.revision), (6, "Drawing Number", revision.drawing_number),
        (7, "Drawing Revision Level", revision.drawing_revision), (8, "Additional Changes", report.reason),
        (9, "Manufacturing Process Reference",
         f"{job.number} op {operation.operation_number} {operation.name} {program}".strip()),
        (10, "Organization Name", report.organization_name or "Spindle machine shop"),
        (11, "Supplier Code", report.supplier_code), (12, "Purchase Order Number", report.po_number),
        (13, "Detail / Assembly FAI", report.detail_or_assembly.title()),
        (14, "Full FAI / Partial FAI", partial),
        (15, "Part Number (index)", revision.part.number), (16, "Part Name (index)", revision.part.description),
        (17, "Part Type", "Detail"), (18, "FAIR Identifier (index)", report.fair_id),
        (19, "Does FAIR contain a documented nonconformance(s)?", "Yes" if has_nc else "No"),
    ]
    signoffs = [
        ("20. FAI complete" if complete else "20. FAI not complete", "", ""),
        ("21. Prepared by (signature)", _who(report.prepared_by), _when(report.submitted_at)),
        ("22. Reviewed / approved by (electronic signature)", _who(report.decided_by)
         + (f" ({report.get_status_display().lower()})" if report.decided_by else ""), _when(report.decided_at)),
        ("23. Customer approval", "", ""),
    ]
    form2 = [[line.designation, line.specification, line.code, line.supplier, "", line.certificate_number,
              line.functional_test_procedure, line.acceptance_report_number, line.get_kind_display()]
             for line in report.form_two_lines.all()]
    form3 = []
    for c in characteristics:
        result = results.get(c.pk)
        if c.requirement_kind == RequirementKind.VARIABLE:
            requirement = selectors.requirement_text(c)
            measured = f"{result.measured_value:f} {c.unit}" if result and result.measured_value is not None else ""
        else:
            requirement = selectors.requirement_text(c)
            measured = ("Accepted" if result.attribute_accepted else "Rejected") if result else ""
        if result:
            measured = f"{measured} {result.get_verdict_display().upper()}"
        form3.append([c.balloon_number, f"Sheet {c.sheet} zone {c.zone}".strip() if c.sheet or c.zone else "",
                      c.get_designator_display() if c.designator != "none" else "", requirement, measured,
                      result.gauge.asset_id if result and result.gauge else c.method,
                      result.nonconformance.number if result and result.nonconformance else "",
                      result.notes if result else "Not measured"])
    return {
        "report": report, "form1": form1, "signoffs": signoffs, "form2": form2, "form3": form3,
        "form2_columns": FORM2_COLUMNS, "form3_columns": FORM3_COLUMNS,
        "header": {"part_number": revision.part.number, "part_name": revision.part.description,
                   "serial": report.serial_number},
    }


def fair_pdf(report: FirstArticleReport) -> bytes:
    html = render_to_string("inspection/fair.html", fair_context(report))
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"})).write_pdf()


def fair_xlsx(report: FirstArticleReport) -> bytes:
    context = fair_context(report)
    book = Workbook()
    form1 = book.active
    form1.title = "Form 1"
    form1.append([f"AS9102 Rev C Form 1: Part Number Accountability · {report.fair_id}"])
    for number, label, value in context["form1"]:
        form1.append([f"{number}. {label}", value])
    form1.append([])
    form1.append(["Sign-off", "Name", "Date"])
    for row in context["signoffs"]:
        form1.append(list(row))
    header = context["header"]
    for title, columns, rows in (("Form 2", FORM2_COLUMNS, context["form2"]),
                                 ("Form 3", FORM3_COLUMNS, context["form3"])):
        sheet = book.create_sheet(title)
        sheet.append([f"AS9102 Rev C {title} · {report.fair_id}"])
        sheet.append(["1. Part Number", header["part_number"], "2. Part Name", header["part_name"],
                      "3. Serial Number", header["serial"], "4. FAIR Identifier", report.fair_id])
        sheet.append(columns)
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
    for sheet in book.worksheets:
        sheet["A1"].font = Font(bold=True, size=13)
        sheet.column_dimensions["A"].width = 34
        for letter in "BCDEFGHI":
            sheet.column_dimensions[letter].width = 22
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
