"""Real pages in headless Chromium."""

import pytest
from playwright.sync_api import Page, expect

from conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/")
    expect(page).to_have_url(f"{base_url}/login/?next=/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_planner_logs_in_and_sees_the_planner_home_page(page: Page, live_server, planner, small_shop):
    log_in(page, live_server.url, "planner")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Jobs awaiting release")).to_be_visible()
    expect(page.locator("#panel-jobs-to-release")).to_contain_text(small_shop.job.number)
    expect(page.get_by_text("planner", exact=False).first).to_be_visible()


def test_a_wrong_password_keeps_the_visitor_on_the_login_page(page: Page, live_server, operator):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("did not match")


def test_an_operator_logs_out(page: Page, live_server, operator):
    log_in(page, live_server.url, "operator")
    expect(page.get_by_role("heading", name="Machines")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/login/?next=/")
