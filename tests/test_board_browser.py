"""The live machine board in headless Chromium: it follows the shop floor by itself, without a reload."""

import re

import pytest
from playwright.sync_api import Page, expect

from conftest import PASSWORD
from jobs.services.operations import operation_first_piece, operation_start_setup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLL_WAIT = 12_000  # ms: the board polls every 5 s


def open_board(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/board/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}/board/")


def test_the_board_follows_a_setup_and_a_first_piece_without_a_reload(page: Page, live_server, floor, operator):
    page.set_viewport_size({"width": 1920, "height": 1080})
    open_board(page, live_server.url, "operator")
    lathe = page.locator(f"#tile-{floor.shop.lathe.pk}")
    expect(lathe).to_contain_text("No operation")
    expect(page.locator("#count-setup")).to_contain_text("0")
    page.evaluate("window.boardNotReloaded = true")
    polls = []
    page.on("response", lambda response: polls.append(response.status) if "/board/?v=" in response.url else None)

    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=floor.shop.lathe.pk)
    expect(lathe).to_have_attribute("data-state", "setup", timeout=POLL_WAIT)
    expect(lathe).to_contain_text(floor.shop.job.number)
    expect(lathe).to_contain_text("Op 10 · Turn")
    expect(page.locator("#count-setup")).to_contain_text("1")

    operation_first_piece(operation_id=floor.turn.pk, user=operator)
    expect(lathe).to_have_attribute("data-state", "running", timeout=POLL_WAIT)
    expect(lathe.locator(".state-label")).to_have_text(re.compile("running", re.I))
    expect(page.locator("#count-running")).to_contain_text("1")

    page.wait_for_timeout(5_500)  # one more poll: nothing changed, so nothing is sent
    assert page.evaluate("window.boardNotReloaded") is True
    assert polls.count(200) == 2 and 204 in polls, polls
    expect(page.locator("#board-stale")).to_be_hidden()
