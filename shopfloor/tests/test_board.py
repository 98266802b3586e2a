"""The live machine board: what its tiles and header say after real lifecycle actions, its cheap poll,
its bounded queries, and the API that serves the same data."""

import datetime as dt
import re
from html import unescape

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.services import record_update
from jobs.services.operations import operation_first_piece, operation_pause, operation_report, operation_start_setup
from jobs.services.release import job_release
from machines.choices import MachineState
from machines.services.states import machine_state_change
from reporting.board import board_version
from shopfloor.views.board import REFRESH_SECONDS
from tests.factories import JobFactory, MachineFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def tile(html: str, machine) -> str:
    """The HTML of one machine's tile."""
    match = re.search(rf'<article class="tile[^"]*" id="tile-{machine.pk}".*?</article>', html, re.S)
    assert match, f"no tile for {machine.code}"
    return match.group(0)


def text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip())


def count(html: str, key: str) -> int:
    match = re.search(rf'id="count-{key}"><span class="count-n">(\d+)</span>', html)
    assert match, key
    return int(match.group(1))


def version_of(html: str) -> str:
    return re.search(r'data-version="([0-9a-f]+)"', html).group(1)


def board(client) -> str:
    """The board page as the floor is now, not a render shared from a moment ago."""
    cache.clear()
    response = client.get("/board/")
    assert response.status_code == 200
    return response.content.decode()


def past_the_refresh(monkeypatch) -> None:
    """Move the clock past the time a rendered board is shared whatever changed."""
    later = timezone.now() + dt.timedelta(seconds=REFRESH_SECONDS)
    monkeypatch.setattr(timezone, "now", lambda: later)


def run_to_done(operation, machine, user, quantity: int) -> None:
    operation_start_setup(operation_id=operation.pk, user=user, machine_id=machine.pk)
    operation_first_piece(operation_id=operation.pk, user=user)
    operation_report(operation_id=operation.pk, user=user, good=quantity)


@pytest.mark.parametrize("role", ["operator", "inspector", "planner", "manager", "admin"])
def test_every_role_sees_the_board_with_every_active_machine(client, make_user, small_shop, role):
    MachineFactory(code="OLD1", work_center=small_shop.mills, active=False)
    client.force_login(make_user(role))
    html = board(client)
    assert re.findall(r'data-machine="([^"]+)"', html) == ["LB3000", "VF2", "VF4"]
    assert "OLD1" not in html
    assert "<h1>Machine board</h1>" in html and 'href="/board/"' in html


def test_setup_on_the_lathe_shows_on_its_tile_with_the_job_and_the_operator(client, floor, operator):
    lathe = floor.shop.lathe
    operator.first_name, operator.last_name = "Marco", "Reyes"
    operator.save()
    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=lathe.pk)
    client.force_login(operator)
    html = board(client)
    lathe_tile = tile(html, lathe)
    assert 'data-state="setup"' in lathe_tile
    words = text(lathe_tile)
    assert "Setup" in words and floor.shop.job.number in words
    assert "Op 10 · Turn" in words
    assert f"{floor.shop.revision.part.number} rev {floor.shop.revision.revision}" in words
    assert "0 good · 0 scrap of 10" in words
    assert "Marco Reyes" in words
    assert "First article" not in words and "Late" not in words
    assert text(tile(html, floor.shop.vf4)).endswith("No operation Next —")


def test_quantities_on_the_tile_are_the_sums_of_the_reports(client, floor, operator):
    lathe = floor.shop.lathe
    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=lathe.pk)
    operation_first_piece(operation_id=floor.turn.pk, user=operator)
    operation_report(operation_id=floor.turn.pk, user=operator, good=3)
    operation_report(operation_id=floor.turn.pk, user=operator, good=2, scrap=1, scrap_reason=floor.chips)
    client.force_login(operator)
    lathe_tile = tile(board(client), lathe)
    assert 'data-state="running"' in lathe_tile
    assert "5 good · 1 scrap of 10" in text(lathe_tile)
    assert 'style="width: 60%"' in lathe_tile


def test_a_first_piece_that_needs_inspection_shows_the_badge_and_counts_in_the_header(client, floor, operator):
    run_to_done(floor.turn, floor.shop.lathe, operator, 10)
    vf4 = floor.shop.vf4
    client.force_login(operator)
    html = board(client)
    # The milling operation became ready after turning: it is the mills' next job.
    assert text(tile(html, vf4)).endswith(f"Next {floor.shop.job.number} {floor.shop.revision.part.number}")
    assert count(html, "first-articles") == 0

    operation_start_setup(operation_id=floor.mill.pk, user=operator, machine_id=vf4.pk)
    operation_first_piece(operation_id=floor.mill.pk, user=operator)
    html = board(client)
    words = text(tile(html, vf4))
    assert "First article waiting" in words
    assert "Setup" in words  # the machine stays in setup until the first article is approved
    assert count(html, "first-articles") == 1
    assert "First article" not in text(tile(html, floor.shop.lathe))


def test_the_header_counts_machines_by_state_with_down_and_planned_down_apart(client, floor, operator):
    shop = floor.shop
    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=shop.lathe.pk)
    machine_state_change(machine_id=shop.vf2.pk, state=MachineState.DOWN, reason=floor.alarm, user=operator)
    machine_state_change(machine_id=shop.vf4.pk, state=MachineState.PLANNED_DOWN, reason=floor.break_, user=operator)
    extra = MachineFactory(code="VF5", work_center=shop.mills)  # no state recorded yet
    MachineFactory(code="VF6", work_center=shop.mills, active=False)
    client.force_login(operator)
    html = board(client)
    assert {key: count(html, key) for key in ("running", "setup", "down", "planned_down", "idle", "other")} == {
        "running": 0, "setup": 1, "down": 1, "planned_down": 1, "idle": 0, "other": 1,
    }
    assert "Machine alarm" in text(tile(html, shop.vf2))
    assert 'data-state="unknown"' in tile(html, extra)


def test_a_paused_operation_shows_the_machine_down_with_its_reason(client, floor, operator):
    lathe = floor.shop.lathe
    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=lathe.pk)
    operation_first_piece(operation_id=floor.turn.pk, user=operator)
    operation_pause(operation_id=floor.turn.pk, user=operator, reason=floor.alarm)
    client.force_login(operator)
    html = board(client)
    words = text(tile(html, lathe))
    assert "Down <1 min Machine alarm · paused" in words
    assert floor.shop.job.number in words
    assert "No operator logged on" in words  # pausing closes the labour entry
    assert count(html, "down") == 1 and count(html, "running") == 0


def test_a_job_past_its_due_date_is_marked_late_on_its_tile_and_counted(client, floor, operator, planner):
    today = timezone.localdate()
    record_update(instance=floor.shop.job, user=planner, data={"due_date": today - dt.timedelta(days=1)})
    on_time = JobFactory(part_revision=floor.shop.revision)
    job_release(job_id=on_time.pk, user=planner)
    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=floor.shop.lathe.pk)
    client.force_login(operator)
    html = board(client)
    yesterday = today - dt.timedelta(days=1)
    assert f"{floor.shop.job.number} Late {yesterday.day} {yesterday:%b}" in text(tile(html, floor.shop.lathe))
    assert count(html, "late") == 1

    record_update(instance=floor.shop.job, user=planner, data={"due_date": today})
    html = board(client)
    assert "Late" not in text(tile(html, floor.shop.lathe))  # due today is not late yet
    assert count(html, "late") == 0


def test_the_next_job_follows_a_change_of_priority_once_the_render_is_renewed(client, floor, operator, planner,
                                                                             monkeypatch):
    urgent_later = JobFactory(part_revision=floor.shop.revision,
                              due_date=floor.shop.job.due_date + dt.timedelta(days=30))
    job_release(job_id=urgent_later.pk, user=planner)
    client.force_login(operator)
    lathe_tile = text(tile(client.get("/board/").content.decode(), floor.shop.lathe))
    assert f"Next {floor.shop.job.number}" in lathe_tile

    record_update(instance=urgent_later, user=planner, data={"priority": 1})
    past_the_refresh(monkeypatch)
    lathe_tile = text(tile(client.get("/board/").content.decode(), floor.shop.lathe))
    assert f"Next {urgent_later.number}" in lathe_tile


def test_late_turns_over_at_midnight_in_the_version():
    today = timezone.localdate()
    assert board_version(today=today) == board_version(today=today)
    assert board_version(today=today) != board_version(today=today + dt.timedelta(days=1))


def test_a_poll_that_finds_nothing_changed_answers_204_for_a_query_or_so(client, floor, operator, monkeypatch,
                                                                         django_assert_max_num_queries):
    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=floor.shop.lathe.pk)
    client.force_login(operator)
    version = version_of(board(client))
    with django_assert_max_num_queries(1):
        assert board_version(today=timezone.localdate()) == version
    # The session and the user (login middleware), then the version: nothing else.
    with django_assert_max_num_queries(3):
        response = client.get(f"/board/?v={version}", **HTMX)
    assert response.status_code == 204 and response.content == b""
    assert "HX-Request" in response["Vary"] and "no-store" in response["Cache-Control"]

    operation_first_piece(operation_id=floor.turn.pk, user=operator)
    past_the_refresh(monkeypatch)
    response = client.get(f"/board/?v={version}", **HTMX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="board-live"')  # the live part only, not the page
    assert "<html" not in fragment
    assert 'data-state="running"' in tile(fragment, floor.shop.lathe)
    new_version = version_of(fragment)
    assert new_version != version and f'hx-get="/board/?v={new_version}"' in fragment
    assert client.get(f"/board/?v={new_version}", **HTMX).status_code == 204


@pytest.mark.parametrize("change", ["report", "labour", "state", "job", "machine"])
def test_every_kind_of_change_moves_the_version(floor, operator, planner, shop_admin, change):
    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=floor.shop.lathe.pk)
    operation_first_piece(operation_id=floor.turn.pk, user=operator)
    today = timezone.localdate()
    before = board_version(today=today)
    match change:
        case "report":
            operation_report(operation_id=floor.turn.pk, user=operator, good=1)
        case "labour":  # a second operator joins the run
            from jobs.models import LabourEntry
            LabourEntry.objects.create(operator=planner, operation=floor.turn, machine=floor.shop.lathe,
                                       activity="run", started_at=timezone.now())
        case "state":
            machine_state_change(machine_id=floor.shop.vf2.pk, state=MachineState.IDLE, user=operator)
        case "job":
            record_update(instance=floor.shop.job, user=planner, data={"due_date": today})
        case "machine":
            record_update(instance=floor.shop.vf2, user=shop_admin, data={"active": False})
    assert board_version(today=today) != before


def test_a_monitored_machine_shows_live_then_since_when_and_why_its_signals_are_lost(api_as, client, floor,
                                                                                     operator):
    from machines.connectivity.observations import Kind, Observation
    from machines.connectivity.services import connection_ingest, connection_lost
    from machines.models import Machine, MachineStateEvent

    shop, now = floor.shop, timezone.now()
    Machine.objects.filter(pk__in=[shop.vf2.pk, shop.lathe.pk]).update(
        mtconnect_agent_url="http://10.0.4.21:5000", mtconnect_device="VMC")
    # Down for an alarm by the operator's word: what the signals say next changes no state, only the connection.
    machine_state_change(machine_id=shop.vf2.pk, state=MachineState.DOWN, reason=floor.alarm, user=operator)
    events = MachineStateEvent.objects.count()
    today = timezone.localdate()
    client.force_login(operator)

    def observe(sequence: int, kind: Kind, value: str) -> None:
        connection_ingest(machine_id=shop.vf2.pk, instance_id="1", next_sequence=sequence + 1,
                          observations=[Observation(kind=kind, value=value, timestamp=now, sequence=sequence)])

    before = board_version(today=today)
    observe(1, Kind.EXECUTION, "READY")
    connected = board_version(today=today)
    assert connected != before
    html = board(client)
    assert text(tile(html, shop.vf2)).startswith("VF2 Mill") and "⚡ live" in text(tile(html, shop.vf2))
    assert "Machine alarm" in text(tile(html, shop.vf2))
    assert "No signal yet" in text(tile(html, shop.lathe))  # set up, not heard from yet
    assert "live" not in tile(html, shop.vf4) and "signal" not in text(tile(html, shop.vf4)).lower()

    observe(2, Kind.PART_COUNT, "5")  # another observation is no change to the board
    assert board_version(today=today) == connected

    connection_lost(machine_id=shop.vf2.pk, at=now - dt.timedelta(minutes=3), error="agent unreachable: refused")
    assert board_version(today=today) != connected and MachineStateEvent.objects.count() == events
    lost = tile(board(client), shop.vf2)
    assert "⚡" not in lost and "Signal lost 3 min ago" in text(lost)
    assert 'title="agent unreachable: refused"' in lost and "Machine alarm" in text(lost)
    tiles = api_as(operator).get("/api/v1/board/").json()["machines"]
    signals = {tile["machine"]["code"]: tile["signal"] for tile in tiles}
    assert (signals["VF2"]["connected"], signals["VF2"]["error"]) == (False, "agent unreachable: refused")
    assert dt.datetime.fromisoformat(signals["VF2"]["lost_at"]) == now - dt.timedelta(minutes=3)
    assert signals["LB3000"] == {"connected": False, "error": "", "lost_at": None} and signals["VF4"] is None


def _queries(client, **headers) -> int:
    """Queries of a board that is rendered (not served from the cache of rendered boards)."""
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/board/?v=stale", **headers)
    assert response.status_code == 200
    return len(queries)


def test_a_board_is_rendered_once_for_every_viewer_and_at_most_every_few_seconds(
        client, floor, operator, planner, monkeypatch, django_assert_max_num_queries):
    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=floor.shop.lathe.pk)
    cache.clear()
    client.force_login(operator)
    first = client.get("/board/", **HTMX).content.decode()
    client.force_login(planner)  # another viewer of the same version
    with django_assert_max_num_queries(3):  # session, user, version: no render
        second = client.get("/board/", **HTMX).content.decode()
    assert second == re.sub(r'data-now="\d+"', re.search(r'data-now="\d+"', second).group(0), first)
    assert 'data-state="setup"' in tile(second, floor.shop.lathe)

    operation_first_piece(operation_id=floor.turn.pk, user=operator)
    # Right after a render every viewer shares it: a screen that shows it hears that nothing is new yet.
    assert client.get(f"/board/?v={version_of(second)}", **HTMX).status_code == 204
    assert version_of(client.get("/board/", **HTMX).content.decode()) == version_of(second)
    past_the_refresh(monkeypatch)  # then the change is drawn
    third = client.get(f"/board/?v={version_of(second)}", **HTMX).content.decode()
    assert version_of(third) != version_of(second) and 'data-state="running"' in tile(third, floor.shop.lathe)


def test_the_board_page_and_fragment_issue_the_same_queries_for_3_or_20_machines(client, small_shop, planner,
                                                                                  operator):
    """Every tile busy with an operation, an operator, reports and a next job: the count stays the same."""

    def busy(machine):
        job = JobFactory(part_revision=small_shop.revision, quantity=50)
        job_release(job_id=job.pk, user=planner)
        turn = job.operations.get(operation_number=10)
        operation_start_setup(operation_id=turn.pk, user=operator, machine_id=machine.pk)
        operation_first_piece(operation_id=turn.pk, user=operator)
        operation_report(operation_id=turn.pk, user=operator, good=2)

    def ready_jobs(n):  # operations ready to start: the next jobs of every lathe there is now
        for _ in range(n):
            job_release(job_id=JobFactory(part_revision=small_shop.revision).pk, user=planner)

    busy(small_shop.lathe)
    ready_jobs(2)
    client.force_login(operator)
    small = (_queries(client), _queries(client, **HTMX))

    for _ in range(17):
        busy(MachineFactory(work_center=small_shop.lathes))  # the turning step runs on any lathe
    ready_jobs(5)
    html = board(client)
    words = text(html)
    assert len(re.findall(r'data-machine="', html)) == 20
    assert html.count('data-state="running"') == 18 and words.count("2 good · 0 scrap of 50") == 18
    assert words.count("Next WO-") == 18
    large = (_queries(client), _queries(client, **HTMX))

    assert small == large
    # session, user, roles, the nav's permissions (2), version, machines, operations, labour, quantities, the
    # dispatch version, next jobs (kept by that version), late jobs
    assert max(large) <= 13


def test_the_api_serves_the_boards_data(api_as, client, floor, operator):
    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=floor.shop.lathe.pk)
    machine_state_change(machine_id=floor.shop.vf2.pk, state=MachineState.DOWN, reason=floor.alarm, user=operator)
    client.force_login(operator)
    html = board(client)
    response = api_as(operator).get("/api/v1/board/")
    assert response.status_code == 200
    data = response.json()
    assert data["version"] == version_of(html)
    assert [machine["machine"]["code"] for machine in data["machines"]] == re.findall(r'data-machine="([^"]+)"', html)
    assert [machine["state"] for machine in data["machines"]] == re.findall(r'data-state="([^"]+)"', html)
    assert data["counts"] == {key: count(html, key) for key in data["counts"]}
    assert data["late_jobs"] == count(html, "late") and data["first_articles_waiting"] == 0
    lathe = next(machine for machine in data["machines"] if machine["machine"]["code"] == "LB3000")
    assert lathe["operation"]["job_number"] == floor.shop.job.number
    assert lathe["operation"]["operation_number"] == 10 and lathe["operation"]["status"] == "setup"
    assert lathe["operation"]["good_quantity"] == 0 and lathe["operation"]["job_quantity"] == 10
    assert lathe["operators"] == ["operator"] and lathe["machine"]["work_center"]["code"] == "LATHE"
    assert lathe["late"] is False and lathe["seconds_in_state"] >= 0
    vf2 = next(machine for machine in data["machines"] if machine["machine"]["code"] == "VF2")
    assert vf2["state_reason"] == "Machine alarm" and vf2["operation"] is None


def test_the_api_answers_304_to_the_version_it_already_has(api_as, floor, operator):
    api = api_as(operator)
    first = api.get("/api/v1/board/")
    assert first["ETag"] == f'"{first.json()["version"]}"'
    assert api.get("/api/v1/board/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=floor.shop.lathe.pk)
    assert api.get("/api/v1/board/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_the_api_board_needs_a_login(api):
    assert api.get("/api/v1/board/").status_code == 401


def test_the_board_still_shows_when_its_cache_is_down(client, floor, operator, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)
    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=floor.shop.lathe.pk)
    client.force_login(operator)
    response = client.get("/board/", **HTMX)
    assert response.status_code == 200 and 'data-state="setup"' in tile(response.content.decode(), floor.shop.lathe)
