"""A monitored machine stops in the middle of a run, in Chromium: its terminal asks why by itself, without a reload
and never over what the operator is typing; one tap on a reason explains the whole stop, and the manager's downtime
report shows it under that reason."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, ViewportSize, expect

from jobs.services.operations import operation_first_piece, operation_start_setup
from machines.choices import MachineState
from machines.models import MachineStateEvent
from tests.machine_feed import Feed, monitor
from tests.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOWS_WITHIN = 5_000  # ms: the terminal polls every 3 s
SCREEN = ViewportSize(width=1024, height=768)  # the floor's touch terminals


@pytest.fixture
def desk(browser):
    """The manager's browser, with its own login; closed after the test, its page's polls with it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def test_the_machine_stops_its_terminal_asks_why_and_the_downtime_report_shows_the_reason(
        page: Page, desk: Page, live_server, operator, manager, floor, monkeypatch):
    lathe, turn = floor.shop.lathe, floor.turn
    feed = Feed(monitor(lathe))
    started = timezone.now() - dt.timedelta(minutes=20)
    with monkeypatch.context() as clock:  # the run started 20 minutes ago
        clock.setattr(timezone, "now", lambda: started)
        feed(availability="AVAILABLE", mode="AUTOMATIC", execution="READY")
        operation_start_setup(operation_id=turn.pk, user=operator, machine_id=lathe.pk)
        clock.setattr(timezone, "now", lambda: started + dt.timedelta(seconds=30))
        feed(execution="ACTIVE")  # the first piece's cycle, running on into the run
        operation_first_piece(operation_id=turn.pk, user=operator)

    page.set_viewport_size(SCREEN)
    log_in(page, live_server.url, "operator")
    page.goto(f"{live_server.url}/terminal/{lathe.pk}/")
    expect(page.locator("#op-status")).to_have_text("Running")
    expect(page.locator("#stop-prompt")).to_have_count(0)
    page.evaluate("window.notReloaded = true")

    # The operator starts typing a count on the pad; the machine stops (a feed hold of 5 minutes already, as the
    # collector catches up): the question waits while the operator types, then comes by itself.
    page.locator(".keys").get_by_role("button", name="4", exact=True).click()
    held_at = (timezone.now() - dt.timedelta(minutes=5)).replace(microsecond=0)
    feed(execution="FEED_HOLD", at=held_at)
    page.wait_for_timeout(SHOWS_WITHIN)
    prompt = page.locator("#stop-prompt")
    expect(prompt).to_have_count(0)
    expect(page.get_by_label("Good")).to_have_value("4")
    page.locator(".keys").get_by_role("button", name="Clear", exact=True).click()  # thought better of it
    expect(prompt).to_contain_text("LB3000 is stopped: why?", timeout=SHOWS_WITHIN)
    expect(prompt).to_contain_text("Feed hold")
    expect(prompt).to_contain_text(f"since {timezone.localtime(held_at):%H:%M}, 5 min so far")
    assert page.evaluate("window.notReloaded") is True

    prompt.get_by_role("button", name="Machine alarm").click()
    expect(prompt).to_have_count(0)
    expect(page.locator("#op-status")).to_have_text("Running")
    assert page.evaluate("window.notReloaded") is True
    feed(execution="ACTIVE", at=held_at + dt.timedelta(minutes=5))  # back in cycle: the stop keeps its reason
    stop = MachineStateEvent.objects.get(machine=lathe, started_at=held_at)
    assert (stop.state, stop.reason, stop.ended_at) == (MachineState.STOPPED, floor.alarm,
                                                        held_at + dt.timedelta(minutes=5))
    page.wait_for_timeout(SHOWS_WITHIN)
    expect(prompt).to_have_count(0)

    today = timezone.localdate().isoformat()
    log_in(desk, live_server.url, "manager")
    desk.goto(f"{live_server.url}/reports/paretos/?date_from={today}&date_to={today}")
    row = desk.locator("#table-downtime-reason tbody tr", has_text=floor.alarm.code)
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text("0.083")  # Down h: the 5 minutes of the feed hold
    expect(row.locator("td").nth(2)).to_have_text("1")  # one stop
    expect(desk.locator("#table-downtime-reason")).not_to_contain_text("Unassigned")
