"""Two terminals on one machine, in Chromium: what is reported on one shows on the other by itself, within 5 s and
without a reload, and never over what its own operator is typing."""

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from jobs.services.operations import operation_first_piece, operation_start_setup
from tests.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOWS_WITHIN = 5_000  # ms: what the terminal promises (it polls every 3 s)
SCREEN = ViewportSize(width=1024, height=768)  # the floor's touch terminals


@pytest.fixture
def other(browser):
    """A second terminal: its own browser, so its own login. Closed after the test, so that no poll of it is left
    running against the test database."""
    context = browser.new_context(viewport=SCREEN)
    yield context.new_page()
    context.close()


def report(page: Page, digits: str) -> None:
    for digit in digits:
        page.locator(".keys").get_by_role("button", name=digit, exact=True).click()
    page.get_by_role("button", name="Report", exact=True).click()


def test_a_report_shows_on_the_other_terminal_and_spares_what_its_operator_types(page: Page, other: Page, live_server,
                                                                                   operator, make_user, floor):
    lathe, turn = floor.shop.lathe, floor.turn
    operation_start_setup(operation_id=turn.pk, user=operator, machine_id=lathe.pk)
    operation_first_piece(operation_id=turn.pk, user=operator)
    make_user("operator", username="bench")
    page.set_viewport_size(SCREEN)
    log_in(page, live_server.url, "operator")
    page.goto(f"{live_server.url}/terminal/{lathe.pk}/")
    log_in(other, live_server.url, "bench")
    other.goto(f"{live_server.url}/terminal/{lathe.pk}/")
    expect(other.locator("#qty-good")).to_have_text("0")
    other.evaluate("window.notReloaded = true")
    other.mouse.wheel(0, 300)  # the other operator looks further down the panel
    other.wait_for_function("window.scrollY > 0")
    scrolled = other.evaluate("window.scrollY")

    report(page, "3")
    expect(page.locator("#qty-good")).to_have_text("3")
    expect(other.locator("#qty-good")).to_have_text("3", timeout=SHOWS_WITHIN)
    assert other.evaluate("window.notReloaded") is True
    assert other.evaluate("window.scrollY") == scrolled  # the redraw left the screen where it was
    expect(other.get_by_label("Scan a traveler or type a job number")).to_be_focused()  # a scan still lands there

    # The other operator starts typing 4 on the number pad; meanwhile 2 more are reported here. Their 4 stays
    # (the panel is not redrawn under them), and when they report it they see all nine.
    other.locator(".keys").get_by_role("button", name="4", exact=True).click()
    report(page, "2")
    expect(page.locator("#qty-good")).to_have_text("5")
    other.wait_for_timeout(SHOWS_WITHIN + 1_000)
    expect(other.get_by_label("Good")).to_have_value("4")
    expect(other.locator("#qty-good")).to_have_text("3")
    other.get_by_role("button", name="Report", exact=True).click()
    expect(other.locator("#qty-good")).to_have_text("9")
    expect(page.locator("#qty-good")).to_have_text("9", timeout=SHOWS_WITHIN)

    # A refused report says why, and a change made elsewhere meanwhile does not wipe that away at once.
    page.locator(".pad-field", has_text="Scrap").locator("input").click()
    report(page, "1")
    expect(page.get_by_role("alert")).to_contain_text("Scrap needs a reason")
    report(other, "1")
    expect(other.locator("#qty-good")).to_have_text("10")
    page.wait_for_timeout(SHOWS_WITHIN)
    expect(page.get_by_role("alert")).to_contain_text("Scrap needs a reason")
