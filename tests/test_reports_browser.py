"""A manager filters the utilization report in headless Chromium: the table and chart follow the filters
without a page reload, and the address keeps the filters."""

import pytest
from playwright.sync_api import Page, expect

from conftest import PASSWORD
from reporting.tests.test_reports import history  # noqa: F401  (the hand-computed day)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_filters_the_utilization_page(page: Page, live_server, history, manager):  # noqa: F811
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/reports/utilization/?date_from=2026-06-01&date_to=2026-06-01")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    table = page.locator("#table-utilization")
    expect(table).to_contain_text("LB3000")
    expect(table).to_contain_text("VF2")
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Machine", exact=True).select_option(label=str(history.shop.lathe))
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table).not_to_contain_text("VF2")
    row = table.locator("tbody tr").first
    expect(row.locator("td").nth(4)).to_have_text("17.0")  # PBT h
    expect(row.locator("td").nth(9)).to_have_text("64.7")  # availability %

    page.get_by_label("Shift", exact=True).select_option("second")
    expect(row.locator("td").nth(2)).to_have_text("8.0")  # POT h of the second shift
    expect(page.locator("#report-body")).to_contain_text("shift second")
    assert page.evaluate("window.notReloaded") is True
    assert "shift=second" in page.url and f"machine={history.shop.lathe.pk}" in page.url
    assert page.evaluate("Chart.getChart(document.querySelector('canvas[data-chart]')) !== undefined")
