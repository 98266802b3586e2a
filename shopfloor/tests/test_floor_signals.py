"""What a monitored machine's own signals bring to the terminal and the board: an unexplained stop that asks its
reason by itself, the parts the machine counted, a program other than the operation's."""

import datetime as dt
import re
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.models import JobOperation, NCProgram, OperationEvent
from jobs.selectors import STOPS_ASKED_FOR
from machines.choices import MachineState
from machines.connectivity.services import stop_explain
from machines.models import MachineStateEvent
from reporting.board import board_version
from shopfloor.tests.test_board import board, text, tile
from shopfloor.tests.test_terminal import HX, Screen, act
from tests.machine_feed import Clock, Feed, monitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(timezone.now().replace(microsecond=0) - dt.timedelta(hours=1))
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def lathe(floor, clock):
    """The lathe, monitored: its agent says it is powered up, in automatic, between cycles; its counter stands at
    100 and it has the turning operation's program loaded (O1412)."""
    program = NCProgram.objects.create(part_revision=floor.shop.revision, operation_number=10,
                                       machine=floor.shop.lathe, program_number="O1412")
    JobOperation.objects.filter(pk=floor.turn.pk).update(nc_program=program)
    lathe = monitor(floor.shop.lathe)
    lathe.feed = Feed(lathe)
    lathe.feed(availability="AVAILABLE", mode="AUTOMATIC", execution="READY", part_count="100", program="O1412")
    return lathe


@pytest.fixture
def terminal(client, operator, lathe, floor, clock):
    """The lathe's terminal, its operator signed in, the turning operation running (set up and started there)."""
    client.force_login(operator)
    for action in ("start_setup", "first_piece"):
        clock.advance(seconds=1)  # the panel's version tells changes of the operation by their time
        assert act(client, lathe, floor.turn, action).status_code == 200
    return Screen(client, lathe)


def prompt(html: str) -> str:
    """The stop prompt's text, or "" when the panel shows none."""
    match = re.search(r'<section class="card stop-prompt".*?</section>', html, re.S)
    return text(match.group(0)) if match else ""


def local(at: dt.datetime) -> str:
    return f"{timezone.localtime(at):%H:%M}"


def explain(screen: Screen, event_id: int, reason) -> object:
    response = screen.client.post(f"/terminal/{screen.machine.pk}/stops/{event_id}/explain/", {"reason": reason.pk},
                                  headers=HX)
    screen.take(response)
    return response


def open_stop(machine) -> MachineStateEvent:
    return MachineStateEvent.objects.get(machine=machine, ended_at__isnull=True, state=MachineState.STOPPED)


@pytest.mark.dialects
def test_a_stop_asks_its_reason_by_itself_once_past_the_threshold_and_one_tap_explains_all_of_it(
        terminal, lathe, clock, floor):
    assert prompt(terminal.open()) == ""
    lathe.feed(execution="ACTIVE", at=clock.advance(minutes=1))
    held_at = clock.advance(minutes=1)
    lathe.feed(execution="FEED_HOLD")
    assert prompt(terminal.poll().content.decode()) == ""  # the new state shows; a minute's stop asks nothing yet
    clock.advance(minutes=1, seconds=30)
    assert terminal.poll().status_code == 204

    clock.advance(minutes=1)  # 2½ minutes: past the lathe's 2, with no new event
    response = terminal.poll()
    assert response.status_code == 200
    asked = prompt(response.content.decode())
    assert "LB3000 is stopped: why?" in asked and "Feed hold" in asked and f"since {local(held_at)}" in asked
    assert "2 min so far" in asked and "waiting" not in asked  # the only one
    assert "Machine alarm" in asked and "Break" not in asked  # a stop the machine made is no planned down time
    assert terminal.poll().status_code == 204

    stop = open_stop(lathe)
    response = explain(terminal, stop.pk, floor.alarm)
    assert response.status_code == 200 and prompt(response.content.decode()) == ""
    assert terminal.poll().status_code == 204
    lathe.feed(execution="ACTIVE", at=clock.advance(minutes=3))  # back in cycle: the stop ends with its reason
    stop.refresh_from_db()
    assert (stop.started_at, stop.ended_at, stop.reason) == (held_at, clock.now, floor.alarm)
    assert prompt(terminal.poll().content.decode()) == ""


def test_several_stops_are_asked_one_at_a_time_oldest_first_and_only_from_the_last_hours(terminal, lathe, clock,
                                                                                         floor):
    holds = []
    lathe.feed(execution="ACTIVE", at=clock.advance(minutes=1))
    for minutes, execution in ((3, "FEED_HOLD"), (4, "STOPPED"), (5, "FEED_HOLD")):
        holds.append(clock.advance(minutes=1))
        lathe.feed(execution=execution)
        lathe.feed(execution="ACTIVE", at=clock.advance(minutes=minutes))
    first = MachineStateEvent.objects.get(machine=lathe, started_at=holds[0])
    clock.advance(hours=1)

    asked = prompt(terminal.open())
    assert f"since {local(holds[0])}, for 3 min until" in asked and "1 of 3 stops waiting for a reason" in asked
    explain(terminal, first.pk, floor.alarm)
    asked = prompt(terminal.open())
    assert "Program stopped" in asked and f"since {local(holds[1])}" in asked and "1 of 2 stops" in asked

    clock.now = holds[1] + dt.timedelta(minutes=4 + 3) + STOPS_ASKED_FOR  # the second ended too long ago
    asked = prompt(terminal.open())
    assert f"since {local(holds[2])}" in asked and "waiting" not in asked


def test_a_stop_explained_on_another_terminal_leaves_this_one_at_its_next_poll(terminal, lathe, clock, floor,
                                                                              operator):
    lathe.feed(execution="ACTIVE", at=clock.advance(minutes=1))
    lathe.feed(execution="FEED_HOLD", at=clock.advance(minutes=1))
    clock.advance(minutes=5)
    assert prompt(terminal.open())
    stop_explain(machine_id=lathe.pk, event_id=open_stop(lathe).pk, reason_id=floor.alarm.pk, user=operator)
    response = terminal.poll()
    assert response.status_code == 200 and prompt(response.content.decode()) == ""


def test_a_reason_that_does_not_fit_is_refused_on_the_panel_and_the_stop_still_asks(terminal, lathe, clock, floor,
                                                                                   client, planner):
    lathe.feed(execution="ACTIVE", at=clock.advance(minutes=1))
    lathe.feed(execution="FEED_HOLD", at=clock.advance(minutes=1))
    clock.advance(minutes=5)
    stop = open_stop(lathe)
    response = explain(terminal, stop.pk, floor.break_)
    html = response.content.decode()
    assert response.status_code == 400 and "is a planned reason" in html and 'role="alert"' in html
    assert "LB3000 is stopped: why?" in prompt(html)

    client.force_login(planner)  # may not report a machine's state
    response = client.post(f"/terminal/{lathe.pk}/stops/{stop.pk}/explain/", {"reason": floor.alarm.pk}, headers=HX)
    assert response.status_code == 403
    stop.refresh_from_db()
    assert stop.reason is None


def test_a_stop_that_waits_shows_whatever_operation_the_panel_has_open(terminal, lathe, clock, floor):
    lathe.feed(execution="ACTIVE", at=clock.advance(minutes=1))
    lathe.feed(execution="FEED_HOLD", at=clock.advance(minutes=1))
    clock.advance(minutes=5)
    panel = terminal.client.get(f"/terminal/{lathe.pk}/?op={floor.mill.pk}", headers=HX).content.decode()
    assert "LB3000 is stopped: why?" in prompt(panel)
    assert f"/stops/{open_stop(lathe).pk}/explain/?op={floor.mill.pk}" in panel  # the answer keeps it open


def test_the_machine_counts_the_run_and_the_pad_suggests_what_nobody_reported(terminal, lathe, clock, floor):
    start = OperationEvent.objects.get(operation=floor.turn, action="first_piece")
    assert start.details == {"machine_count": 100}  # the counter as the run started
    page = terminal.open()
    assert "Machine counted 0 since start" in text(page) and "data-suggested" not in page

    lathe.feed(execution="ACTIVE", at=clock.advance(minutes=1))
    lathe.feed(part_count="103", at=clock.advance(minutes=3))
    response = terminal.poll()  # a count is no state change: the panel follows it still
    assert response.status_code == 200
    panel = response.content.decode()
    assert "Machine counted 3 since start · 3 not reported yet" in text(panel)
    assert re.search(r'name="good" inputmode="numeric" value="3" data-pad data-suggested', panel)

    terminal.take(act(terminal.client, lathe, floor.turn, "report", good="1", scrap="1",
                      scrap_reason=floor.chips.pk, nonce=uuid.uuid4().hex))
    panel = terminal.open()
    assert "Machine counted 3 since start · 1 not reported yet" in text(panel)
    assert re.search(r'name="good" inputmode="numeric" value="1" data-pad data-suggested', panel)

    lathe.feed(part_count="2", at=clock.advance(minutes=1))  # reset on the control
    assert "Machine counted 2 since its counter was reset" in text(terminal.poll().content.decode())


def test_a_machine_that_counts_good_parts_reports_them_itself_so_the_pad_suggests_nothing(terminal, lathe, clock):
    lathe.part_counter_counts_good = True
    lathe.save(update_fields=["part_counter_counts_good", "updated_at"])
    lathe.feed(part_count="104", at=clock.advance(minutes=3))
    panel = terminal.open()
    assert "Machine counted 4 since start: reported as good by itself" in text(panel)
    assert re.search(r'name="good" inputmode="numeric" value="0" data-pad>', panel)


@pytest.mark.dialects
def test_a_program_other_than_the_operations_warns_on_the_terminal_and_the_board(terminal, lathe, clock, client,
                                                                               monkeypatch):
    assert "expected" not in text(terminal.open())
    shown = board(client)
    version = board_version(today=timezone.localdate())
    lathe.feed(program="//CNC_MEM/USER/PATH1/O1506", at=clock.advance(minutes=1))

    response = terminal.poll()
    assert response.status_code == 200
    assert "Program: running O1506, expected O1412" in text(response.content.decode())
    assert board_version(today=timezone.localdate()) != version  # the program alone changed: the board redraws
    assert "expected" not in text(tile(shown, lathe))
    assert "running O1506, expected O1412" in text(tile(board(client), lathe))

    lathe.feed(program="O1412.NC", at=clock.advance(minutes=1))  # the right one, as a DNC share names it
    assert "expected" not in text(terminal.poll().content.decode())
    assert "expected" not in text(tile(board(client), lathe))


def test_a_stop_shows_the_machines_note_on_its_tile(terminal, lathe, clock, client):
    lathe.feed(execution="ACTIVE", at=clock.advance(minutes=1))
    lathe.feed(execution="FEED_HOLD", at=clock.advance(minutes=1))
    shown = tile(board(client), lathe)
    assert 'data-state="stopped"' in shown and "Feed hold" in text(shown)
    lathe.feed(execution="ACTIVE", at=clock.advance(minutes=1))
    assert "Feed hold" not in text(tile(board(client), lathe))


def test_a_monitored_terminal_stays_within_the_query_ceilings(terminal, lathe, clock, floor,
                                                              django_assert_max_num_queries):
    lathe.feed(execution="ACTIVE", at=clock.advance(minutes=1))
    for minutes in (10, 20):  # two stops waiting, one of them going on
        lathe.feed(execution="FEED_HOLD", at=clock.advance(minutes=minutes))
        lathe.feed(execution="ACTIVE", part_count=str(100 + minutes), at=clock.advance(minutes=5))
    lathe.feed(execution="FEED_HOLD", program="O1506", at=clock.advance(minutes=1))
    clock.advance(minutes=5)
    terminal.open()  # the first visit adds the machine to the session's station
    cache.clear()
    with django_assert_max_num_queries(15):  # as an unmonitored machine's (the benchmark's target, issue 3)
        page = terminal.open()
    assert "1 of 3 stops waiting" in prompt(page) and "running O1506" in page and "Machine counted 20" in text(page)
    with django_assert_max_num_queries(3):  # session, user, the versions: the stops and the signals are in them
        assert terminal.poll().status_code == 204
    with CaptureQueriesContext(connection) as explained:
        assert explain(terminal, MachineStateEvent.objects.filter(machine=lathe, state="stopped")
                       .earliest("started_at").pk, floor.alarm).status_code == 200
    assert len(explained) <= 20  # the explanation (5) and the panel drawn anew
