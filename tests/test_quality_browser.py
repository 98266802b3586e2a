"""An inspector completes a first article at a terminal, in Chromium; then the operator may run."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import PASSWORD
from inspection.models import FirstArticleReport, Gauge, InspectionRecord, NonConformance
from inspection.tests.conftest import bring_to_first_article, make_plan
from jobs.choices import OperationStatus
from tests.factories import PartRevisionFactory
from tests.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_inspector_completes_a_first_article_and_the_operator_may_run(page: Page, live_server, operator,
                                                                         inspector, floor):
    plan, caliper_type, mic_type, bore, length, finish = make_plan(floor.shop.revision)
    due = timezone.localdate() + dt.timedelta(days=100)
    Gauge.objects.create(asset_id="CAL-7", gauge_type=caliper_type, calibration_interval_days=365, next_due_on=due)
    Gauge.objects.create(asset_id="MIC-3", gauge_type=mic_type, calibration_interval_days=365, next_due_on=due)
    Gauge.objects.create(asset_id="CAL-OLD", gauge_type=caliper_type, calibration_interval_days=365,
                         next_due_on=timezone.localdate() - dt.timedelta(days=1))
    operation = bring_to_first_article(floor, operator)
    job = floor.shop.job

    log_in(page, live_server.url, "inspector")
    page.get_by_role("link", name="Quality").click()
    page.get_by_role("button", name=f"Inspect {job.number} / 20").click()
    expect(page.locator("h1")).to_contain_text(f"FAIR-{job.number}-20")
    # The overdue caliper is not offered.
    expect(page.get_by_label("Balloon 1 gauge").locator("option")).to_have_text(["Caliper…", "CAL-7"])

    page.get_by_label("Balloon 1 value").fill("10.5")
    page.get_by_label("Balloon 1 gauge").select_option(label="CAL-7")
    page.get_by_role("button", name="Save balloon 1").click()
    expect(page.locator("#verdict-1")).to_have_text("Fail")  # shown at once, with its NC number
    page.get_by_label("Balloon 1 value").fill("10.02")
    page.get_by_role("button", name="Save balloon 1").click()
    expect(page.locator("#verdict-1")).to_have_text("Pass")

    page.get_by_label("Balloon 2 value").fill("abc")
    page.get_by_role("button", name="Save balloon 2").click()
    expect(page.get_by_role("alert")).to_contain_text("is not a number")
    page.get_by_label("Balloon 2 value").fill("1.968 in")  # 49.99 mm
    page.get_by_label("Balloon 2 gauge").select_option(label="MIC-3")
    page.get_by_role("button", name="Save balloon 2").click()
    expect(page.locator("#verdict-2")).to_have_text("Pass")
    page.get_by_label("Balloon 3 accepted").select_option("pass")
    page.get_by_role("button", name="Save balloon 3").click()
    expect(page.locator("#verdict-3")).to_have_text("Pass")

    # The failed row raised a nonconformance: it needs a disposition before approval.
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator("#report-status")).to_have_text("Submitted")
    page.get_by_label("Your password (electronic signature)").fill(PASSWORD)
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("alert")).to_contain_text("no disposition yet")

    page.get_by_role("link", name="Nonconformances").first.click()
    page.get_by_role("button", name="Disposition").click()
    expect(page.locator("tbody")).to_contain_text("by inspector")

    report = FirstArticleReport.objects.get(operation=operation)
    page.goto(f"{live_server.url}/quality/reports/{report.pk}/")
    page.get_by_label("Your password (electronic signature)").fill(PASSWORD)
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#report-status")).to_have_text("Approved")

    operation.refresh_from_db()
    assert operation.production_gate_open and operation.status == OperationStatus.FIRST_ARTICLE
    log_in_again = page.context.new_page()
    log_in_again.context.clear_cookies()
    log_in(log_in_again, live_server.url, "operator")
    log_in_again.goto(f"{live_server.url}/terminal/{floor.shop.vf4.pk}/?op={operation.pk}")
    log_in_again.get_by_role("button", name="Start run").click()
    expect(log_in_again.locator("#op-status")).to_have_text("Running")


def test_an_inspector_records_in_process_checks_and_imports_a_plan(page: Page, live_server, operator, inspector,
                                                                  floor):
    plan, caliper_type, mic_type, bore, length, finish = make_plan(floor.shop.revision)
    due = timezone.localdate() + dt.timedelta(days=100)
    Gauge.objects.create(asset_id="CAL-7", gauge_type=caliper_type, calibration_interval_days=365, next_due_on=due)
    operation = bring_to_first_article(floor, operator)
    job = floor.shop.job
    PartRevisionFactory(part=floor.shop.revision.part, revision="B", drawing_revision="B")

    log_in(page, live_server.url, "inspector")
    page.get_by_role("link", name="Quality").click()
    page.get_by_role("link", name="In-process and final checks").click()
    page.get_by_role("link", name=f"Check {job.number} / 20").click()
    expect(page.locator("h1")).to_contain_text(f"Check {job.number} / 20")
    expect(page.get_by_text("Value (mm)").first).to_be_visible()

    # Pass or fail shows while typing, before anything is saved.
    verdict = page.locator(f"#check-verdict-{bore.pk}")
    page.get_by_label("Balloon 1 value").fill("10.05")
    expect(verdict).to_have_text("Fail")
    page.get_by_label("Balloon 1 value").fill("0.3937 in")
    expect(verdict).to_have_text("Pass")
    page.get_by_label("Balloon 3 accepted").select_option("pass")
    expect(page.locator(f"#check-verdict-{finish.pk}")).to_have_text("Pass")
    page.get_by_label("Piece").fill("5")
    page.get_by_role("button", name="Record check").click()
    expect(page.locator("#recorded")).to_contain_text("recorded (in-process, piece 5): every reading passes")
    assert InspectionRecord.objects.get().accepted is True

    # A refused value keeps the form as typed; a failing one holds the operation with its NC.
    page.get_by_label("Piece").fill("6")
    page.get_by_label("Balloon 1 value").fill("ten")
    page.get_by_role("button", name="Record check").click()
    expect(page.get_by_role("alert")).to_contain_text("Balloon 1, piece 6: “ten” is not a number.")
    expect(page.get_by_label("Balloon 1 value")).to_have_value("ten")
    page.get_by_label("Balloon 1 value").fill("10.05")
    page.get_by_role("button", name="Record check").click()
    expect(page.locator("#recorded")).to_contain_text("the operation is held until dispositioned")
    nc = NonConformance.objects.get()
    expect(page.locator("#recorded")).to_contain_text(f"balloon 1 failed, {nc.number} raised")
    expect(page.locator("#op-status")).to_have_text("On hold")
    operation.refresh_from_db()
    assert operation.status == OperationStatus.ON_HOLD and InspectionRecord.objects.count() == 2

    # The new revision's plan from a balloon list: a bad file lists its lines, a good one imports.
    page.get_by_role("link", name="Inspection plans").click()
    page.get_by_role("link", name=f"Start the plan of {floor.shop.revision.part.number} rev B").click()
    header = "balloon,description,nominal,lower,upper,attribute_note,unit,gauge_type\n"
    page.get_by_label("Balloon list").set_input_files(files=[{
        "name": "bad.csv", "mimeType": "text/csv",
        "buffer": (header + "1,Bore,10,10.1,9.9,,mm,CAL\n1,Again,5,4,6,,mm,\n").encode()}])
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-errors")).to_contain_text("Line 2: balloon 1 has its limits upside down")
    expect(page.locator("#import-errors")).to_contain_text("Line 3: balloon 1 appears twice.")
    page.get_by_label("Balloon list").set_input_files(files=[{
        "name": "rev-b.csv", "mimeType": "text/csv",
        "buffer": (header + "1,Bore,10,9.97,10.03,,mm,CAL\n5,Marking,,,,Per MIL-STD-130,,\n").encode()}])
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("2 characteristics imported from rev-b.csv.")
    expect(page.locator("#plan-rows tr")).to_have_count(2)
    page.get_by_role("link", name="Compare rev A → rev B").click()
    expect(page.locator("#compare-summary")).to_have_text("1 added, 2 removed, 1 changed, 0 unchanged.")
