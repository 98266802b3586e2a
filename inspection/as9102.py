"""AS9102 Rev C Forms 1, 2 and 3 of a first-article report: the field rows, and the same rows as a PDF
(WeasyPrint, like the traveler) and as an XLSX workbook (openpyxl). The report page calls
`fair_pdf` / `fair_xlsx`; nothing here writes to the database."""

import io

from django.template.loader import render_to_string
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font
from weasyprint import HTML, URLFetcher

from inspection import selectors
from inspection.choices import ReportStatus, RequirementKind
from inspection.models import FirstArticleReport

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
    characteristics = list(selectors.report_characteristics(report))
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
