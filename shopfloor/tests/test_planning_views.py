"""The planner board: what a planner sees of runs and of one run's Gantt, the refusals, lock, unlock and
move round trips, the problem download, and queries that stay bounded whatever the number of entries.
Runs are real: requested through the service and executed in the test (the worker's side, synchronously)."""

import datetime as dt
import json
import re
from html import unescape

import pytest
from django.utils import timezone

from jobs.choices import ScheduleRunStatus
from jobs.models import ScheduleEntry, ScheduleRun
from jobs.scheduling.engine import SOLVERS
from jobs.services.release import job_release
from jobs.services.schedule import schedule_run_request
from jobs.services.schedule_execution import schedule_run_execute
from machines.models import ShiftWindow
from shopfloor.views.gantt import due_end, job_hue
from tests.factories import JobFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip())


def element(html: str, tag: str, attribute: str) -> str:
    """The opening tag that carries `attribute` (e.g. 'id="run-3"' or 'data-operation="WO-1/10"')."""
    matches = re.findall(rf"<{tag}\b[^>]*{re.escape(attribute)}[^>]*>", html)
    assert len(matches) == 1, f"{len(matches)} <{tag}> with {attribute}"
    return matches[0]


def row(html: str, run: ScheduleRun) -> str:
    match = re.search(rf'<tr id="run-{run.pk}".*?</tr>', html, re.S)
    assert match, f"no row for run {run.pk}"
    return match.group(0)


def entry_row(html: str, key: str) -> str:
    match = re.search(rf'<tr id="entry-\d+"[^>]*data-job-operation="{re.escape(key)}".*?</tr>', html, re.S)
    assert match, f"no entry row for {key}"
    return match.group(0)


@pytest.fixture
def shifts(small_shop):
    """Every day 06:00 to 22:00 on the small shop's calendar (shared by its three machines)."""
    for weekday in range(7):
        ShiftWindow.objects.create(calendar=small_shop.vf2.calendar, name="Day", weekday=weekday,
                                   start_time=dt.time(6), end_time=dt.time(22))


def release_more(small_shop, planner, count: int) -> list:
    jobs = [JobFactory(part_revision=small_shop.revision) for _ in range(count)]
    for job in jobs:
        job_release(job_id=job.pk, user=planner)
    return jobs


def finished_run(planner, **parameters) -> ScheduleRun:
    run = schedule_run_request(user=planner, time_limit=1, solver="atcs", **parameters)
    return schedule_run_execute(run_id=run.pk)


@pytest.fixture
def run(floor, shifts, planner) -> ScheduleRun:
    run = finished_run(planner)
    assert run.status == ScheduleRunStatus.SUCCEEDED, run.message
    return run


def key(operation) -> str:
    return f"{operation.job.number}/{operation.operation_number}"


# The board of runs.

def test_the_planner_sees_each_run_against_edd_with_its_saving_and_end_date(client, planner, run):
    figures = {"changeover_minutes": 120, "tardy_jobs": 1, "weighted_tardiness": 3000000, "makespan_minutes": 600}
    baseline = {"changeover_minutes": 300, "tardy_jobs": 1, "weighted_tardiness": 2500000, "makespan_minutes": 690}
    ScheduleRun.objects.filter(pk=run.pk).update(figures=figures | {"solver": "atcs"},
                                                 baseline_figures=baseline | {"solver": "edd"})
    client.force_login(planner)
    html = client.get("/planning/").content.decode()
    shown = text(row(html, run))
    assert "Changeover" in text(html) and "Tardy jobs" in text(html)
    assert "2 h 00 min EDD 5 h 00 min saves 3 h 00 min (60%)" in shown
    assert "1 EDD 1 same as EDD" in shown
    assert "3,000,000 EDD 2,500,000 500,000 (20%) more" in shown
    start = dt.datetime.fromisoformat(run.parameters["starts_at"])
    ends, edd_ends = (f"{timezone.localtime(start + dt.timedelta(minutes=m)):%a %d %b %H:%M}" for m in (600, 690))
    assert f"{ends} EDD {edd_ends} ends 1 h 30 min (13%) earlier" in shown
    assert 'data-status="succeeded"' in row(html, run) and "hx-trigger" not in row(html, run)
    assert f'id="publish-{run.pk}"' in row(html, run)
    assert 'id="run-form"' in html and 'id="run-submit"' in html
    assert 'href="/planning/"' in html  # the planner's nav link


def test_a_queued_run_polls_its_row_every_two_seconds_until_it_has_finished(client, planner, floor, shifts):
    queued = schedule_run_request(user=planner, time_limit=1, solver="atcs")
    client.force_login(planner)
    html = client.get("/planning/").content.decode()
    tag = element(row(html, queued), "tr", f'id="run-{queued.pk}"')
    assert f'hx-get="/planning/runs/{queued.pk}/progress/"' in tag and 'hx-trigger="every 2s"' in tag
    assert f'id="run-progress-{queued.pk}"' in html and f'id="cancel-{queued.pk}"' in html

    ScheduleRun.objects.filter(pk=queued.pk).update(status=ScheduleRunStatus.RUNNING, progress=0.4)
    fragment = client.get(f"/planning/runs/{queued.pk}/progress/", **HTMX).content.decode()
    assert fragment.lstrip().startswith(f'<tr id="run-{queued.pk}"') and 'hx-trigger="every 2s"' in fragment
    assert 'aria-valuenow="40"' in fragment and "40%" in text(fragment)

    ScheduleRun.objects.filter(pk=queued.pk).update(status=ScheduleRunStatus.QUEUED, progress=0)
    schedule_run_execute(run_id=queued.pk)
    fragment = client.get(f"/planning/runs/{queued.pk}/progress/", **HTMX).content.decode()
    assert "hx-trigger" not in fragment and 'data-status="succeeded"' in fragment
    assert "EDD" in text(fragment) and f'id="publish-{queued.pk}"' in fragment


def test_a_failed_run_shows_its_message_and_publishing_it_is_refused_inline(client, planner, floor):
    failed = finished_run(planner)  # no shift windows: no working time
    assert failed.status == ScheduleRunStatus.FAILED
    client.force_login(planner)
    html = client.get("/planning/").content.decode()
    assert "has no working time" in text(row(html, failed)) and f'id="publish-{failed.pk}"' not in html
    response = client.post(f"/planning/runs/{failed.pk}/publish/", **HTMX)
    assert response.status_code == 409
    assert 'id="planning-error"' in response.content.decode()
    assert "only a finished run can be published" in text(response.content.decode())
    assert not ScheduleRun.objects.get(pk=failed.pk).published


def test_starting_a_run_shows_it_queued_and_a_second_one_is_refused_in_the_form(client, planner, floor, shifts):
    client.force_login(planner)
    form = {"time_limit": "5", "solver": "atcs", "horizon_days": "30", "weight_tardiness": "",
            "weight_changeover": "", "weight_makespan": "", "base_run": ""}
    response = client.post("/planning/runs/", form, **HTMX)
    assert response.status_code == 200
    queued = ScheduleRun.objects.get()
    assert queued.parameters | {"starts_at": None} == {"time_limit": 5, "solver": "atcs", "horizon_days": 30,
                                                       "weights": None, "base_run": None, "starts_at": None}
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="planning-body"') and 'data-status="queued"' in row(body, queued)

    response = client.post("/planning/runs/", form | {"weight_tardiness": "1", "weight_changeover": "5",
                                                      "weight_makespan": "0"}, **HTMX)
    assert response.status_code == 409
    body = response.content.decode()
    assert f"Run {queued.pk} is queued: wait for it or cancel it." in text(element(body, "div", 'id="run-form-error"')
                                                                           + body.split('id="run-form-error"')[1])
    assert 'value="5"' in element(body, "input", 'id="run-weight-changeover"')  # what was typed stays
    assert ScheduleRun.objects.count() == 1


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"time_limit": "soon"}, "time_limit", "Give the time limit in whole seconds"),
    ({"solver": "magic"}, "solver", "Choose a solver among"),
    ({"weight_tardiness": "1"}, "weights", "Give three whole weights"),
    ({"base_run": "latest"}, "base_run", "Choose a run to start from."),
    ({"base_run": "987654"}, "base_run", "Run 987654 is not a finished run to start from."),
    ({"base_run": "99999999999999999999"}, "base_run", "Choose a run to start from."),
])
def test_bad_figures_in_the_run_form_are_refused_next_to_their_field(client, planner, floor, changes, field, message):
    client.force_login(planner)
    form = {"time_limit": "5", "solver": "atcs", "horizon_days": "30"} | changes
    response = client.post("/planning/runs/", form, **HTMX)
    assert response.status_code == 400
    error = element(response.content.decode(), "div", 'id="run-form-error"')
    assert f'data-field="{field}"' in error and message in text(response.content.decode())
    assert not ScheduleRun.objects.exists()


def test_the_solver_picker_offers_each_solver_of_the_engine_by_its_label(client, planner, floor):
    client.force_login(planner)
    body = client.get("/planning/").content.decode()
    picker = re.search(r'<select id="run-solver".*?</select>', body, re.S).group(0)
    options = re.findall(r'<option value="(\w+)"( selected)?>([^<]+)</option>', picker)
    assert [(name, label) for name, _, label in options] == [(s.name, s.label) for s in SOLVERS.values()]
    assert [name for name, selected, _ in options if selected] == ["auto"]
    assert ("fjsp", "Flexible job shop model (makespan only)") in [(name, label) for name, _, label in options]


def test_without_htmx_the_form_redirects_back_with_the_outcome(client, planner, floor):
    client.force_login(planner)
    response = client.post("/planning/runs/", {"time_limit": "5", "solver": "atcs"}, follow=True)
    assert response.redirect_chain == [("/planning/", 302)]
    assert f"Run {ScheduleRun.objects.get().pk} queued." in text(response.content.decode())


def test_cancelling_a_queued_run_stops_its_polling(client, planner, floor):
    queued = schedule_run_request(user=planner, time_limit=1, solver="atcs")
    client.force_login(planner)
    response = client.post(f"/planning/runs/{queued.pk}/cancel/", **HTMX)
    assert response.status_code == 200
    assert 'data-status="cancelled"' in row(response.content.decode(), queued)
    assert "hx-trigger" not in row(response.content.decode(), queued)
    assert ScheduleRun.objects.get(pk=queued.pk).status == ScheduleRunStatus.CANCELLED


def test_publishing_from_the_board_moves_the_published_mark(client, planner, run):
    second = finished_run(planner)
    ScheduleRun.objects.filter(pk=run.pk).update(published=True)
    client.force_login(planner)
    response = client.post(f"/planning/runs/{second.pk}/publish/", **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "published-mark" in row(body, second) and "published-mark" not in row(body, run)
    assert f'id="publish-{run.pk}"' in body and f'id="publish-{second.pk}"' not in body
    assert list(ScheduleRun.objects.filter(published=True)) == [second]
    page = client.get(f"/planning/runs/{second.pk}/").content.decode()  # the floor follows it: no moves there
    assert 'id="run-published"' in page and "move-form" not in page and "lock-button" in page


# Who may do what.

def test_an_operator_is_refused_the_planner_board(client, operator, run):
    client.force_login(operator)
    assert client.get("/planning/").status_code == 403
    assert client.get(f"/planning/runs/{run.pk}/").status_code == 403
    assert client.post("/planning/runs/", {"time_limit": "5"}, **HTMX).status_code == 403
    assert client.post(f"/planning/runs/{run.pk}/publish/", **HTMX).status_code == 403
    assert 'href="/planning/"' not in client.get("/").content.decode()
    assert not ScheduleRun.objects.get(pk=run.pk).published


def test_a_manager_reads_the_board_and_a_run_without_their_buttons(client, manager, run):
    client.force_login(manager)
    board = client.get("/planning/").content.decode()
    assert 'id="run-form"' not in board and f'id="publish-{run.pk}"' not in board and "EDD" in text(board)
    page = client.get(f"/planning/runs/{run.pk}/").content.decode()
    assert 'id="gantt"' in page and "lock-button" not in page and "move-form" not in page
    response = client.post(f"/planning/runs/{run.pk}/publish/", {"origin": "run"}, **HTMX)
    assert response.status_code == 403 and 'id="run-error"' in response.content.decode()
    assert not ScheduleRun.objects.get(pk=run.pk).published


# One run: figures, Gantt, entries.

def test_the_gantt_draws_each_operation_on_its_machine_with_changeover_late_and_locked_marks(
        client, planner, floor, run):
    turn = ScheduleEntry.objects.get(run=run, operation=floor.turn)
    # The milling a day later, after a changeover, locked; the job due at the end of the day the turning ends
    # (shop time): the turning is on time, the milling late.
    mill = ScheduleEntry.objects.get(run=run, operation=floor.mill)
    mill.starts_at, mill.ends_at = mill.starts_at + dt.timedelta(days=1), mill.ends_at + dt.timedelta(days=1)
    mill.changeover_minutes, mill.locked = 30, True
    mill.save()
    job = floor.shop.job
    job.due_date = timezone.localtime(turn.ends_at).date()
    job.save(update_fields=["due_date"])
    assert turn.ends_at <= due_end(job.due_date) < mill.ends_at

    client.force_login(planner)
    html = client.get(f"/planning/runs/{run.pk}/").content.decode()
    assert re.findall(r'class="gantt-row" data-machine="([^"]+)"', html) == sorted(
        {turn.machine.code, mill.machine.code})
    turn_block = element(html, "a", f'data-operation="{key(floor.turn)}"')
    mill_block = element(html, "a", f'data-operation="{key(floor.mill)}"')
    assert 'data-late="false"' in turn_block and 'data-locked="false"' in turn_block
    assert 'data-late="true"' in mill_block and 'data-locked="true"' in mill_block and "late locked" in mill_block
    assert f"--hue: {job_hue(job.number)}" in turn_block and f"--hue: {job_hue(job.number)}" in mill_block
    part = job.part_revision
    start = timezone.localtime(mill.starts_at)
    assert f"part {part.part.number} rev {part.revision}" in unescape(mill_block)
    assert f"{start:%a %d %b %H:%M}" in unescape(mill_block) and "changeover 30 min" in unescape(mill_block)
    assert "LATE" in unescape(mill_block) and "locked" in unescape(mill_block)

    def position(tag: str) -> tuple[float, float]:
        left, width = re.search(r"left: ([\d.]+)%; width: ([\d.]+)%", tag).groups()
        return float(left), float(width)

    changeover = element(html, "span", f'data-changeover-for="{key(floor.mill)}"')
    assert f'data-changeover-for="{key(floor.turn)}"' not in html
    (c_left, c_width), (m_left, m_width), (t_left, t_width) = map(position, (changeover, mill_block, turn_block))
    assert c_width > 0 and c_left + c_width == pytest.approx(m_left, abs=0.002)  # right before the operation
    assert t_left >= 0 and t_left + t_width <= m_left and m_left + m_width == pytest.approx(100, abs=0.002)
    assert 'class="gantt-tick labelled"' in html

    assert 'data-late="true"' in entry_row(html, key(floor.mill)) and "late" in text(entry_row(html, key(floor.mill)))
    assert "▣ Locked" in text(entry_row(html, key(floor.mill)))
    assert "1 late operation" in text(html)
    assert f'id="publish-{run.pk}"' in html and 'id="rerun-form"' in html and 'id="problem-download"' in html


def test_lock_and_unlock_round_trip(client, planner, floor, run):
    entry = ScheduleEntry.objects.get(run=run, operation=floor.turn)
    client.force_login(planner)
    response = client.post(f"/planning/entries/{entry.pk}/lock/", {"locked": "1"}, **HTMX)
    assert response.status_code == 200 and response.content.decode().lstrip().startswith('<div id="run-detail"')
    assert ScheduleEntry.objects.get(pk=entry.pk).locked
    html = response.content.decode()
    assert 'data-locked="true"' in element(html, "a", f'data-operation="{key(floor.turn)}"')
    assert "Unlock" in text(entry_row(html, key(floor.turn)))

    response = client.post(f"/planning/entries/{entry.pk}/lock/", {"locked": "0"}, **HTMX)
    assert not ScheduleEntry.objects.get(pk=entry.pk).locked
    assert 'data-locked="false"' in element(response.content.decode(), "a", f'data-operation="{key(floor.turn)}"')

    response = client.post(f"/planning/entries/{entry.pk}/lock/", {"locked": "1"})  # without htmx
    assert response.status_code == 302 and response["Location"] == f"/planning/runs/{run.pk}/"
    assert ScheduleEntry.objects.get(pk=entry.pk).locked


def test_moving_an_operation_to_another_eligible_machine_locks_it_there_and_asks_for_a_re_run(
        client, planner, floor, run):
    entry = ScheduleEntry.objects.get(run=run, operation=floor.mill)
    other = floor.shop.vf2 if entry.machine_id == floor.shop.vf4.pk else floor.shop.vf4
    client.force_login(planner)
    html = client.get(f"/planning/runs/{run.pk}/").content.decode()
    options = re.findall(r'<option value="(\d+)"', element(html, "form", f'id="move-{entry.pk}"')
                         + html.split(f'id="move-{entry.pk}"')[1].split("</form>")[0])
    assert sorted(map(int, options)) == sorted([floor.shop.vf2.pk, floor.shop.vf4.pk])

    day = timezone.localdate() + dt.timedelta(days=3)
    response = client.post(f"/planning/entries/{entry.pk}/move/",
                           {"machine": other.pk, "starts_at": f"{day:%Y-%m-%d}T07:30"}, **HTMX)
    assert response.status_code == 200
    entry.refresh_from_db()
    assert entry.machine_id == other.pk and entry.locked
    assert timezone.localtime(entry.starts_at).replace(tzinfo=None) == dt.datetime.combine(day, dt.time(7, 30))
    html = response.content.decode()
    assert 'id="run-edited"' in html and f'data-machine="{other.code}"' in html
    assert f'value="{day:%Y-%m-%d}T07:30"' in entry_row(html, key(floor.mill))

    response = client.post(f"/planning/runs/{run.pk}/publish/", {"origin": "run"}, **HTMX)
    assert response.status_code == 409 and "were moved: re-run around them" in text(response.content.decode())
    assert not ScheduleRun.objects.get(pk=run.pk).published


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"starts_at": "next tuesday"}, 400, "Give the start as a date and a time"),
    ({"starts_at": ""}, 400, "Give the start as a date and a time"),
    ({"starts_at": "9999-12-31T23:59"}, 400, "Give a start within ten years"),
    ({"machine": "99999999999999999999"}, 400, "Choose a machine."),
    ({"machine": "vf2"}, 400, "Choose a machine."),
    ({"machine": ""}, 400, "Choose a machine."),
    ({"starts_at": "2020-01-06T08:00"}, 400, "Choose a start in the future."),
    ({"machine": "lathe"}, 400, "cannot run on that machine"),
])
def test_a_refused_move_is_shown_on_its_row_and_changes_nothing(client, planner, floor, run, form, status, message):
    entry = ScheduleEntry.objects.get(run=run, operation=floor.mill)
    future = f"{timezone.localdate() + dt.timedelta(days=2):%Y-%m-%d}T08:00"
    data = {"machine": str(floor.shop.vf2.pk), "starts_at": future} | form
    if data["machine"] == "lathe":
        data["machine"] = str(floor.shop.lathe.pk)
    client.force_login(planner)
    response = client.post(f"/planning/entries/{entry.pk}/move/", data, **HTMX)
    assert response.status_code == status
    html = response.content.decode()
    assert message in text(element(html, "div", f'id="entry-error-{entry.pk}"') + html.split(
        f'id="entry-error-{entry.pk}"')[1].split("</div>")[0])
    before = (entry.machine_id, entry.starts_at, False)
    entry.refresh_from_db()
    assert (entry.machine_id, entry.starts_at, entry.locked) == before
    assert not ScheduleRun.objects.get(pk=run.pk).edited


def test_re_running_from_a_run_starts_from_it_and_shows_its_progress_on_the_board(client, planner, run):
    client.force_login(planner)
    response = client.post("/planning/runs/", {"origin": "run", "base_run": run.pk, "time_limit": "1",
                                               "solver": "atcs", "horizon_days": "42"}, **HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == "/planning/"
    new = ScheduleRun.objects.exclude(pk=run.pk).get()
    assert new.parameters["base_run"] == run.pk and new.status == ScheduleRunStatus.QUEUED

    response = client.post("/planning/runs/", {"origin": "run", "base_run": run.pk, "time_limit": "1",
                                               "solver": "atcs"}, **HTMX)
    assert response.status_code == 409
    assert f"Run {new.pk} is queued" in text(element(response.content.decode(), "div", 'id="run-error"')
                                             + response.content.decode().split('id="run-error"')[1])

    page = client.get(f"/planning/runs/{new.pk}/").content.decode()
    head = element(page, "section", 'id="run-head"')
    assert f'hx-get="/planning/runs/{new.pk}/progress/?view=head"' in head and 'hx-trigger="every 2s"' in head
    schedule_run_execute(run_id=new.pk)
    response = client.get(f"/planning/runs/{new.pk}/progress/?view=head", **HTMX)
    assert response["HX-Refresh"] == "true"  # finished: the page reloads with its Gantt


def test_the_problem_downloads_as_the_engine_json_with_the_operations(client, planner, floor, run):
    client.force_login(planner)
    response = client.get(f"/planning/runs/{run.pk}/problem.json")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="spindle-problem-{run.pk}.json"'
    problem = json.loads(response.content)
    assert {op["id"] for op in problem["operations"]} == {key(floor.turn), key(floor.mill)}
    assert {m["id"] for m in problem["machines"]} >= {"LB3000", "VF4"}


@pytest.mark.parametrize(("method", "url"), [
    ("get", "/planning/runs/987654/"),
    ("get", "/planning/runs/99999999999999999999/"),
    ("get", "/planning/runs/987654/progress/"),
    ("get", "/planning/runs/987654/problem.json"),
    ("post", "/planning/runs/987654/publish/"),
    ("post", "/planning/runs/RUN/explode/"),
    ("post", "/planning/entries/987654/lock/"),
    ("post", "/planning/entries/987654/move/"),
])
def test_bad_ids_answer_not_found(client, planner, run, method, url):
    client.force_login(planner)
    url = url.replace("RUN", str(run.pk))
    assert getattr(client, method)(url, **HTMX).status_code == 404


def test_an_unfinished_run_has_no_problem_to_download_and_no_gantt(client, planner, floor):
    queued = schedule_run_request(user=planner, time_limit=1, solver="atcs")
    client.force_login(planner)
    assert client.get(f"/planning/runs/{queued.pk}/problem.json").status_code == 404
    page = client.get(f"/planning/runs/{queued.pk}/").content.decode()
    assert 'id="gantt"' not in page and f'id="run-progress-{queued.pk}"' in page and f'id="cancel-{queued.pk}"' in page


# Bounded queries.

def _query_counts(client, django_assert_max_num_queries, floor, planner, requests) -> None:
    """Each request's queries on a run of 2 entries, then on a run of 20 entries among 4 runs: the same."""
    def counts(run: ScheduleRun) -> list[int]:
        done = []
        for ceiling, request in requests(run):
            with django_assert_max_num_queries(ceiling) as queries:
                assert request().status_code == 200
            done.append(len(queries))
        return done

    client.force_login(planner)
    small = finished_run(planner)
    assert small.entries.count() == 2
    small_counts = counts(small)
    release_more(floor.shop, planner, 9)
    runs = [finished_run(planner) for _ in range(3)]
    assert runs[-1].entries.count() == 20
    assert counts(runs[-1]) == small_counts


def test_page_queries_stay_the_same_with_ten_times_the_entries_and_more_runs(
        client, django_assert_max_num_queries, planner, floor, shifts):
    _query_counts(client, django_assert_max_num_queries, floor, planner, lambda run: [
        (8, lambda: client.get(f"/planning/runs/{run.pk}/")),
        (6, lambda: client.get("/planning/")),
        (6, lambda: client.get(f"/planning/runs/{run.pk}/progress/", **HTMX)),
    ])


def test_lock_queries_stay_the_same_with_ten_times_the_entries(client, django_assert_max_num_queries, planner, floor,
                                                                 shifts):
    def requests(run):
        entry = run.entries.first()
        return [(14, lambda: client.post(f"/planning/entries/{entry.pk}/lock/", {"locked": "1"}, **HTMX))]

    _query_counts(client, django_assert_max_num_queries, floor, planner, requests)
