"""A manager filters the utilization report in headless Chromium: the table and chart follow the filters
without a page reload, and the address keeps the filters."""

import pytest
from playwright.sync_api import Page, expect

from conftest import PASSWORD
from reporting.tests.test_reports import history  # noqa: F401  (the hand-computed day)
from reporting.tests.test_reports_machine_fed import connected  # noqa: F401  (the hand-computed connected day)

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
    # Drawn once htmx has settled the swapped body, a moment after its text is there: wait, do not race it.
    page.wait_for_function("Chart.getChart(document.querySelector('canvas[data-chart]')) !== undefined", timeout=5000)


def test_a_manager_compares_reported_and_measured_run_time(page: Page, live_server, connected, manager):  # noqa: F811
    """The connected day of reporting/tests/test_reports_machine_fed.py, from the utilization tab to its own."""
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/reports/utilization/?date_from=2026-06-01&date_to=2026-06-01")
    page.get_by_label("Username").fill("manager")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#table-utilization")).to_contain_text("machine-fed")

    page.get_by_role("link", name="Operator vs machine").click()
    table = page.locator("#table-run-comparison")
    expect(table.locator("tbody tr")).to_have_count(1)
    cells = table.locator("tbody tr").first.locator("td")
    expect(cells.nth(0)).to_have_text("VF2")
    expect(cells.nth(2)).to_have_text("7.0")  # reported by the operators
    expect(cells.nth(3)).to_have_text("5.0")  # measured by the machine
    expect(cells.nth(5)).to_have_text("28.6")  # gap % of reported
    assert "date_from=2026-06-01" in page.url  # the filters went along
    # Drawn once htmx has settled the swapped body, a moment after its text is there: wait, do not race it.
    page.wait_for_function("Chart.getChart(document.querySelector('canvas[data-chart]')) !== undefined", timeout=5000)
