"""An operator at the terminal, in Chromium, while the board on another screen follows."""

import pytest
from playwright.sync_api import Page, expect

from jobs.choices import OperationStatus
from jobs.traveler import operation_scan_code
from tests.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_runs_a_job_from_setup_to_done_while_the_board_follows(page: Page, live_server, operator,
                                                                          floor):
    lathe, job = floor.shop.lathe, floor.shop.job
    floor.shop.job.quantity = 5
    floor.shop.job.save()
    log_in(page, live_server.url, "operator")
    board = page.context.new_page()
    board.goto(f"{live_server.url}/board/")
    tile = board.locator(f"#tile-{lathe.pk}")
    expect(tile).to_contain_text("No operation")

    page.goto(f"{live_server.url}/terminal/{lathe.pk}/")
    page.get_by_role("button", name=f"{job.number} / 10").click()
    page.get_by_role("button", name="Start setup").click()
    expect(page.locator("#op-status")).to_have_text("Setup")
    expect(page.locator("#station-tabs .station-tab.active")).to_contain_text("Setup")  # the tab follows too
    expect(tile).to_have_attribute("data-state", "setup", timeout=15000)
    expect(tile).to_contain_text(job.number)

    page.get_by_role("button", name="First piece made").click()
    expect(page.locator("#op-status")).to_have_text("Running")
    expect(tile).to_have_attribute("data-state", "running", timeout=15000)

    # The number pad: 3 good, then 2 more to finish the job's 5 pieces.
    page.locator(".keys").get_by_role("button", name="3", exact=True).click()
    page.get_by_role("button", name="Report", exact=True).click()
    expect(page.locator("#qty-good")).to_have_text("3")
    expect(tile.locator(".good")).to_contain_text("3", timeout=15000)

    page.get_by_text("Pause").click()
    page.get_by_role("button", name="Machine alarm").click()
    expect(page.locator("#op-status")).to_have_text("Paused")
    expect(tile).to_have_attribute("data-state", "down", timeout=15000)
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#op-status")).to_have_text("Running")

    page.locator(".keys").get_by_role("button", name="2", exact=True).click()
    page.get_by_role("button", name="Report", exact=True).click()
    expect(page.locator("#op-status")).to_have_text("Done")
    expect(page.locator("#station-tabs .station-tab.active")).to_contain_text("Idle")
    expect(tile).to_have_attribute("data-state", "idle", timeout=15000)
    expect(tile).to_contain_text("No operation")
    floor.turn.refresh_from_db()
    assert floor.turn.status == OperationStatus.DONE


def test_a_refused_tap_shows_the_reason_on_the_terminal(page: Page, live_server, operator, floor):
    log_in(page, live_server.url, "operator")
    page.goto(f"{live_server.url}/terminal/{floor.shop.vf2.pk}/?op={floor.turn.pk}")
    page.get_by_role("button", name="Start setup").click()  # the turning operation cannot run on a mill
    expect(page.get_by_role("alert")).to_contain_text("VF2 is not one of the machines")
    floor.turn.refresh_from_db()
    assert floor.turn.status == OperationStatus.READY


def test_scanning_the_traveler_opens_the_operation(page: Page, live_server, operator, floor):
    log_in(page, live_server.url, "operator")
    page.goto(f"{live_server.url}/terminal/{floor.shop.lathe.pk}/")
    # A keyboard-wedge scanner types the QR code's text and an Enter into the focused field.
    page.get_by_label("Scan a traveler or type a job number").fill(operation_scan_code(floor.turn))
    page.keyboard.press("Enter")
    expect(page.locator(".op-title")).to_contain_text(f"{floor.shop.job.number} / 10")
    expect(page.get_by_role("button", name="Start setup")).to_be_visible()
