"""The schedule-runs API: the same services as the planner board, the one error format."""

import pytest

from jobs.models import ScheduleRun
from jobs.services.schedule_execution import schedule_run_execute
from jobs.tests.test_planning import shop  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def solved(client) -> dict:
    run_id = client.post("/api/v1/schedule-runs/", {"time_limit": 2}, format="json").json()["id"]
    schedule_run_execute(run_id=run_id)  # what the worker does
    return client.get(f"/api/v1/schedule-runs/{run_id}/").json()


def test_request_answers_202_then_the_run_shows_its_figures(shop, planner, api_as):  # noqa: F811
    client = api_as(planner)
    answer = client.post("/api/v1/schedule-runs/", {"time_limit": 2, "solver": "atcs"}, format="json")
    assert answer.status_code == 202
    body = answer.json()
    assert body["status"] == "queued" and body["parameters"]["solver"] == "atcs"
    schedule_run_execute(run_id=body["id"])
    run = client.get(f"/api/v1/schedule-runs/{body['id']}/").json()
    assert run["status"] == "succeeded" and run["progress"] == 1
    assert run["figures"]["solver"] == "atcs" and run["baseline_figures"]["solver"] == "edd"
    entries = client.get(f"/api/v1/schedule-runs/{body['id']}/entries/").json()["results"]
    assert sorted((e["job"], e["operation_number"]) for e in entries) == [(shop.job.number, 10),
                                                                          (shop.job.number, 20)]


def test_bad_requests_get_a_clear_answer(shop, planner, operator, api_as):  # noqa: F811
    client = api_as(planner)
    bad = client.post("/api/v1/schedule-runs/", {"time_limit": 0}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["fields"]["time_limit"]
    bad = client.post("/api/v1/schedule-runs/", {"solver": "magic"}, format="json")
    assert bad.status_code == 400 and "solver" in bad.json()["error"]["fields"]
    bad = client.post("/api/v1/schedule-runs/", {"time_limit": "soon"}, format="json")
    assert bad.status_code == 400 and "time_limit" in bad.json()["error"]["fields"]
    assert api_as(operator).post("/api/v1/schedule-runs/", {}, format="json").status_code == 403
    client = api_as(planner)  # one client: log the planner back in
    queued = client.post("/api/v1/schedule-runs/", {}, format="json").json()
    again = client.post("/api/v1/schedule-runs/", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "run_in_progress"
    assert client.post(f"/api/v1/schedule-runs/{queued['id']}/publish/").status_code == 409
    assert client.post("/api/v1/schedule-runs/99999/publish/").status_code == 404
    assert ScheduleRun.objects.count() == 1


def test_publish_and_cancel(shop, planner, operator, api_as):  # noqa: F811
    client = api_as(planner)
    run = solved(client)
    assert api_as(operator).post(f"/api/v1/schedule-runs/{run['id']}/publish/").status_code == 403
    client = api_as(planner)
    published = client.post(f"/api/v1/schedule-runs/{run['id']}/publish/").json()
    assert published["published"] and published["published_by"] == "planner"
    assert client.get("/api/v1/schedule-runs/?published=true").json()["count"] == 1
    # Other systems read the published start with each machine's dispatch list.
    (row,) = client.get(f"/api/v1/machines/{shop.lathe.pk}/dispatch-list/").json()["results"]
    entry = client.get(f"/api/v1/schedule-runs/{run['id']}/entries/").json()["results"]
    assert row["scheduled_start"] == next(e["starts_at"] for e in entry if e["machine"] == "LB3000")
    assert client.post(f"/api/v1/schedule-runs/{run['id']}/cancel/").status_code == 409  # finished already
    queued = client.post("/api/v1/schedule-runs/", {}, format="json").json()
    cancelled = client.post(f"/api/v1/schedule-runs/{queued['id']}/cancel/").json()
    assert cancelled["status"] == "cancelled"
