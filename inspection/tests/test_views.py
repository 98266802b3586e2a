"""The inspector's pages and the AS9102 forms as PDF and XLSX."""

import io
import subprocess

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from conftest import PASSWORD
from inspection.choices import Disposition, NCStatus, ReportStatus
from inspection.models import FirstArticleReport, NonConformance
from inspection.services.first_articles import fai_open_for_operation, fai_result_record, fai_submit

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_queue_lists_the_waiting_operation_and_opens_its_report(client, waiting, inspector):
    client.force_login(inspector)
    page = client.get(reverse("quality-queue"))
    assert page.status_code == 200
    assert f"Inspect {waiting.operation.job.number} / 20" in page.text
    assert 'href="/quality/">Quality</a>' in page.text  # the nav link for inspectors
    opened = client.post(reverse("quality-open", args=[waiting.operation.pk]))
    report = FirstArticleReport.objects.get()
    assert opened.status_code == 302 and opened["Location"] == reverse("quality-report", args=[report.pk])


def test_an_operator_has_no_quality_link_and_cannot_open_a_report(client, waiting, operator):
    client.force_login(operator)
    assert "/quality/" not in client.get("/terminal/").text
    client.post(reverse("quality-open", args=[waiting.operation.pk]))
    assert not FirstArticleReport.objects.exists()


def test_a_row_shows_pass_or_fail_at_once_and_a_refusal_with_its_status(client, waiting, inspector):
    client.force_login(inspector)
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    url = reverse("quality-row", args=[report.pk, waiting.bore.pk])
    page = client.get(reverse("quality-report", args=[report.pk]))
    assert "9.98 – 10.02" in page.text and "G-001" in page.text and "G-002" not in page.text.split('id="row-')[1]

    passed = client.post(url, {"value": "10.02", "gauge": waiting.caliper.pk}, **HTMX)
    assert passed.status_code == 200
    assert 'id="verdict-1">Pass' in passed.text
    failed = client.post(url, {"value": "10.021", "gauge": waiting.caliper.pk}, **HTMX)
    assert 'id="verdict-1">Fail' in failed.text
    assert NonConformance.objects.get().number in failed.text
    refused = client.post(url, {"value": "abc", "gauge": waiting.caliper.pk}, **HTMX)
    assert refused.status_code == 400
    assert "is not a number" in refused.text and 'value="abc"' in refused.text


def test_submit_and_sign_off_with_the_password(client, waiting, inspector):
    client.force_login(inspector)
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    for characteristic, value, gauge in ((waiting.bore, "10", waiting.caliper), (waiting.length, "50",
                                                                                  waiting.micrometer)):
        client.post(reverse("quality-row", args=[report.pk, characteristic.pk]), {"value": value, "gauge": gauge.pk},
                    **HTMX)
    client.post(reverse("quality-row", args=[report.pk, waiting.finish.pk]), {"accepted": "pass"}, **HTMX)
    action = lambda name: reverse("quality-report-action", args=[report.pk, name])  # noqa: E731
    assert client.post(action("submit")).status_code == 302
    wrong = client.post(action("approve"), {"password": "guess"})
    assert wrong.status_code == 403 and "password is not correct" in wrong.text
    assert client.post(action("approve"), {"password": PASSWORD}).status_code == 302
    report.refresh_from_db()
    waiting.operation.refresh_from_db()
    assert report.status == ReportStatus.APPROVED and waiting.operation.production_gate_open


def test_the_three_forms_contain_their_fields_in_pdf_and_xlsx(client, waiting, inspector):
    client.force_login(inspector)
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    fai_result_record(report_id=report.pk, characteristic_id=waiting.bore.pk, user=inspector, value="10.03",
                      gauge_id=waiting.caliper.pk)
    fai_result_record(report_id=report.pk, characteristic_id=waiting.length.pk, user=inspector, value="50",
                      gauge_id=waiting.micrometer.pk)
    fai_result_record(report_id=report.pk, characteristic_id=waiting.finish.pk, user=inspector, accepted=True)
    fai_submit(report_id=report.pk, user=inspector)
    nc = NonConformance.objects.get()
    part = waiting.floor.shop.revision.part

    pdf = client.get(reverse("quality-report-document", args=[report.pk, "pdf"]))
    assert pdf["Content-Type"] == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True,
                          check=True).stdout.decode()
    form1 = ["1. Part Number", "2. Part Name", "3. Serial Number", "4. FAIR Identifier", "5. Part Revision Level",
             "6. Drawing Number", "7. Drawing Revision Level", "8. Additional Changes",
             "9. Manufacturing Process Reference", "10. Organization Name", "11. Supplier Code",
             "12. Purchase Order Number", "13. Detail / Assembly FAI", "14. Full FAI / Partial FAI",
             "15. Part Number (index)", "16. Part Name (index)", "17. Part Type", "18. FAIR Identifier (index)",
             "19. Does FAIR contain", "21. Prepared by", "22. Reviewed / approved by"]
    form2 = ["5. Material or Process Name", "6. Specification Number", "7. Code", "8. Special Process Supplier",
             "9. Customer Approval", "10. Certificate of Conformance", "11. Functional Test Procedure",
             "12. Acceptance Report", "13. Comments"]
    form3 = ["5. Char. No.", "6. Reference Location", "7. Characteristic Designator", "8. Requirement",
             "9. Results", "10. Designed / Qualified", "11. Nonconformance Number", "12. Additional Data"]
    flat = " ".join(text.split())
    for label in [*form1, *form2, *form3]:
        assert label in flat, label
    for value in (report.fair_id, part.number, waiting.floor.shop.revision.drawing_number, "H12345", "CERT-778",
                  "10.03000 mm FAIL", nc.number, "G-001", "Form 1", "Form 2", "Form 3"):
        assert value in flat, value

    xlsx = client.get(reverse("quality-report-document", args=[report.pk, "xlsx"]))
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Form 1", "Form 2", "Form 3"]
    cells = {name: [str(c.value) for row in book[name].iter_rows() for c in row if c.value is not None]
             for name in book.sheetnames}
    assert all(any(cell.startswith(label) for cell in cells["Form 1"]) for label in form1[:19])
    assert all(label in cells["Form 2"] for label in [c for c in form2 if c in cells["Form 2"]])
    assert "H12345" in cells["Form 2"] and "CERT-778" in cells["Form 2"]
    assert nc.number in cells["Form 3"] and "10.03000 mm FAIL" in cells["Form 3"]


def test_gauges_page_and_recall_csv(client, waiting, inspector):
    client.force_login(inspector)
    page = client.get(reverse("quality-gauges"))
    assert "G-001" in page.text and "Caliper" in page.text
    export = client.get(reverse("quality-gauge-recall", args=[waiting.caliper.pk]))
    assert export.status_code == 200 and export.content.decode().startswith("gauge,measured_at")


def test_nonconformance_disposition_from_its_page(client, waiting, inspector):
    client.force_login(inspector)
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    fai_result_record(report_id=report.pk, characteristic_id=waiting.bore.pk, user=inspector, value="11",
                      gauge_id=waiting.caliper.pk)
    nc = NonConformance.objects.get()
    assert nc.number in client.get(reverse("quality-nonconformances")).text
    url = lambda name: reverse("quality-nc-action", args=[nc.pk, name])  # noqa: E731
    early = client.post(url("close"), **HTMX)
    assert early.status_code == 409 and "needs a disposition" in early.text
    done = client.post(url("disposition"), {"disposition": Disposition.SCRAP, "note": "Bad bore"}, **HTMX)
    assert done.status_code == 200 and "Scrap by inspector" in done.text
    nc.refresh_from_db()
    assert nc.status == NCStatus.DISPOSITIONED


def test_a_calibration_from_the_gauges_page(client, waiting, inspector):
    import datetime as dt

    from django.utils import timezone

    client.force_login(inspector)
    url = reverse("quality-gauge-calibrate", args=[waiting.caliper.pk])
    bad = client.post(url, {"calibrated_on": "yesterday", "certificate_number": "C9", "performed_by": "Lab"}, **HTMX)
    assert bad.status_code == 400 and "is not a date" in bad.text
    today = timezone.localdate()
    done = client.post(url, {"calibrated_on": today.isoformat(), "as_found": "out", "as_left": "in",
                             "certificate_number": "C9", "performed_by": "Lab"}, **HTMX)
    assert done.status_code == 200
    assert (today + dt.timedelta(days=365)).isoformat() in done.text
    assert waiting.caliper.calibrations.get().as_found_in_tolerance is False


def test_raising_a_nonconformance_from_its_page_holds_the_operation(client, floor, inspector, operator):
    from jobs.choices import OperationStatus
    from jobs.services.operations import operation_start_setup

    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=floor.shop.lathe.pk)
    client.force_login(inspector)
    url = reverse("quality-nc-raise")
    missing = client.post(url, {"job": "WO-NOPE", "description": "x"}, follow=True)
    assert "There is no job" in missing.text
    raised = client.post(url, {"job": floor.shop.job.number.lower(), "operation": "10", "quantity": "2",
                               "description": "Chatter on OD"}, follow=True)
    nc = NonConformance.objects.get()
    assert f"{nc.number} raised and its operation is on hold." in raised.text
    floor.turn.refresh_from_db()
    assert floor.turn.status == OperationStatus.ON_HOLD and nc.quantity == 2


def test_the_measured_counter_follows_each_saved_row_out_of_band(client, waiting, inspector):
    client.force_login(inspector)
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    page = client.get(reverse("quality-report", args=[report.pk]))
    assert page.text.count('id="fai-count"') == 1 and "(measured 0 of 3)" in page.text
    saved = client.post(reverse("quality-row", args=[report.pk, waiting.bore.pk]),
                        {"value": "10.5", "gauge": waiting.caliper.pk}, **HTMX)
    assert 'id="fai-count" hx-swap-oob="true"' in saved.text
    assert "(measured 1 of 3, 1 failed)" in saved.text
    saved = client.post(reverse("quality-row", args=[report.pk, waiting.finish.pk]), {"accepted": "pass"}, **HTMX)
    assert "(measured 2 of 3, 1 failed)" in saved.text
    refused = client.post(reverse("quality-row", args=[report.pk, waiting.length.pk]),
                          {"value": "fifty", "gauge": waiting.micrometer.pk}, **HTMX)
    assert refused.status_code == 400 and "(measured 2 of 3, 1 failed)" in refused.text
