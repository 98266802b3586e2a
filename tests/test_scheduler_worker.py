"""Schedule runs through the real broker and a real worker of the scheduling queue."""

import datetime as dt
import signal
import time

import pytest
from django.utils import timezone

from jobs.choices import ScheduleRunStatus
from jobs.models import ScheduleEntry, ScheduleRun
from jobs.services.release import job_release
from jobs.services.schedule import schedule_run_publish
from jobs.services.schedule_execution import schedule_run_execute, schedule_runs_fail_stale
from jobs.tests.test_planning import open_every_day
from machines.models import ChangeoverRule
from tests.factories import JobFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def busy_shop(small_shop, planner):
    """Thirty jobs in six materials: enough that the solver keeps searching until its time limit."""
    open_every_day(small_shop.vf2.calendar)
    ChangeoverRule.objects.create(work_center=small_shop.mills, attribute="material", minutes=35)
    ChangeoverRule.objects.create(work_center=small_shop.lathes, attribute="material", minutes=50)
    jobs = [small_shop.job] + [JobFactory(part_revision=small_shop.revision, quantity=3 + n % 7,
                                          due_date=timezone.localdate() + dt.timedelta(days=1 + n % 5))
                               for n in range(29)]
    for n, job in enumerate(jobs):
        job_release(job_id=job.pk, user=planner)
        job.operations.update(material=f"ALLOY-{n % 6}")
    return small_shop


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out")


def run_status(run_id: int) -> ScheduleRun:
    return ScheduleRun.objects.get(pk=run_id)


def test_a_planner_run_is_solved_by_the_worker_with_progress(busy_shop, planner, api_as, scheduling_worker):
    client = api_as(planner)
    answer = client.post("/api/v1/schedule-runs/", {"time_limit": 8}, format="json")
    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    run_id = answer.json()["id"]

    running = wait_for(lambda: (r := client.get(f"/api/v1/schedule-runs/{run_id}/").json())["progress"] > 0 and r)
    assert running["status"] == "running" and running["heartbeat_at"]
    done = wait_for(lambda: (r := client.get(f"/api/v1/schedule-runs/{run_id}/").json())["status"] != "running"
                    and r, timeout=90)
    assert done["status"] == "succeeded", done["message"]
    assert done["progress"] == 1
    # The solver saves changeovers against EDD on the same problem, or at least never does worse.
    assert done["figures"]["changeover_minutes"] <= done["baseline_figures"]["changeover_minutes"]
    entries = client.get(f"/api/v1/schedule-runs/{run_id}/entries/").json()
    assert entries["count"] == 60


def test_a_cancelled_run_stops_and_keeps_nothing(busy_shop, planner, api_as, scheduling_worker):
    client = api_as(planner)
    run_id = client.post("/api/v1/schedule-runs/", {"time_limit": 300}, format="json").json()["id"]
    wait_for(lambda: run_status(run_id).status == ScheduleRunStatus.RUNNING)

    assert client.post(f"/api/v1/schedule-runs/{run_id}/cancel/").status_code == 200
    run = wait_for(lambda: (r := run_status(run_id)).status != ScheduleRunStatus.RUNNING and r, timeout=30)
    assert run.status == ScheduleRunStatus.CANCELLED
    assert not ScheduleEntry.objects.filter(run_id=run_id).exists()


def test_a_killed_worker_leaves_the_published_schedule_and_its_run_is_failed(busy_shop, planner, api_as,
                                                                            scheduling_worker):
    from jobs.services.schedule import schedule_run_request

    published = schedule_run_execute(run_id=schedule_run_request(user=planner, time_limit=2).pk)
    schedule_run_publish(user=planner, run_id=published.pk)
    client = api_as(planner)
    run_id = client.post("/api/v1/schedule-runs/", {"time_limit": 300}, format="json").json()["id"]
    wait_for(lambda: run_status(run_id).status == ScheduleRunStatus.RUNNING)
    assert schedule_runs_fail_stale() == 0  # alive: its heartbeat is fresh

    scheduling_worker.send_signal(signal.SIGKILL)
    scheduling_worker.wait(timeout=30)
    # The beat check, 30 s later (it runs every 15 s): no heartbeat since the kill.
    assert schedule_runs_fail_stale(now=timezone.now() + dt.timedelta(seconds=31)) == 1
    run = run_status(run_id)
    assert run.status == ScheduleRunStatus.FAILED and "stopped answering" in run.message
    assert not ScheduleEntry.objects.filter(run_id=run_id).exists()
    published.refresh_from_db()
    assert published.published and published.entries.count() == 60
    # The planner is not blocked by the ghost.
    assert client.post("/api/v1/schedule-runs/", {"time_limit": 2}, format="json").status_code == 202
