"""An inspector completes a first article at a terminal, in Chromium; then the operator may run."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from conftest import PASSWORD
from inspection.models import FirstArticleReport, Gauge
from inspection.tests.conftest import bring_to_first_article, make_plan
from jobs.choices import OperationStatus
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
