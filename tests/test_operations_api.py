"""The shop-floor actions through the API: the same services, 409 for a wrong state, replay by key."""

import pytest

from jobs.choices import OperationStatus
from machines.models import MachineStateEvent


def post(api, operation, verb, data=None, **headers):
    return api.post(f"/api/v1/operations/{operation.pk}/{verb}/", data or {}, format="json", headers=headers)


@pytest.mark.django_db
def test_an_operation_runs_from_setup_to_done_through_the_api(api_as, operator, floor):
    api = api_as(operator)
    response = post(api, floor.turn, "start-setup", {"machine": floor.shop.lathe.pk})
    assert response.status_code == 200 and response.json()["status"] == OperationStatus.SETUP
    assert post(api, floor.turn, "first-piece").json()["status"] == OperationStatus.RUNNING
    response = post(api, floor.turn, "report", {"good": 4, "scrap": 1, "scrap_reason": floor.chips.pk})
    assert (response.json()["good_quantity"], response.json()["scrap_quantity"]) == (4, 1)
    assert post(api, floor.turn, "pause", {"reason": floor.alarm.pk}).json()["status"] == OperationStatus.PAUSED
    assert post(api, floor.turn, "resume").json()["status"] == OperationStatus.RUNNING
    done = post(api, floor.turn, "complete", {"short_reason": "Bar ran out"})
    assert done.json()["status"] == OperationStatus.DONE
    assert MachineStateEvent.objects.filter(machine=floor.shop.lathe, source="api").count() == 5


@pytest.mark.django_db
@pytest.mark.parametrize(("verb", "data", "code"), [
    ("start-run", {}, "wrong_state"),
    ("report", {"good": 1}, "wrong_state"),
    ("resume", {}, "wrong_state"),
])
def test_a_wrong_transition_is_a_409_and_changes_nothing(api_as, operator, floor, verb, data, code):
    response = post(api_as(operator), floor.turn, verb, data)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == code
    floor.turn.refresh_from_db()
    assert floor.turn.status == OperationStatus.READY


@pytest.mark.django_db
def test_a_machine_outside_the_eligible_set_is_a_409_on_the_machine_field(api_as, operator, floor):
    response = post(api_as(operator), floor.turn, "start-setup", {"machine": floor.shop.vf2.pk})
    assert response.status_code == 409
    assert "machine" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_bad_input_is_a_400_with_field_errors(api_as, operator, floor):
    api = api_as(operator)
    assert post(api, floor.turn, "start-setup", {}).json()["error"]["fields"].keys() == {"machine"}
    post(api, floor.turn, "start-setup", {"machine": floor.shop.lathe.pk})
    post(api, floor.turn, "first-piece")
    response = post(api, floor.turn, "report", {"good": -2})
    assert response.status_code == 400 and "good" in response.json()["error"]["fields"]
    response = post(api, floor.turn, "report", {"scrap": 2})
    assert response.status_code == 400 and "scrap_reason" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_an_unknown_operation_is_a_404(api_as, operator):
    assert post(api_as(operator), type("Op", (), {"pk": 999999})(), "first-piece").status_code == 404


@pytest.mark.django_db
def test_the_same_idempotency_key_replays_the_first_answer(api_as, operator, floor):
    api = api_as(operator)
    post(api, floor.turn, "start-setup", {"machine": floor.shop.lathe.pk})
    post(api, floor.turn, "first-piece")
    first = post(api, floor.turn, "report", {"good": 3}, **{"Idempotency-Key": "k-1"})
    again = post(api, floor.turn, "report", {"good": 3}, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200
    assert again.json()["good_quantity"] == 3


@pytest.mark.django_db
def test_an_operator_cannot_hold_an_inspector_can(api_as, make_user, floor):
    assert post(api_as(make_user("operator")), floor.turn, "hold", {"reason": "x"}).status_code == 403
    response = post(api_as(make_user("inspector")), floor.turn, "hold", {"reason": "Suspect material"})
    assert response.json()["status"] == OperationStatus.ON_HOLD


@pytest.mark.django_db
def test_the_dispatch_list_orders_ready_work_by_priority_then_due_date(api_as, operator, planner, floor):
    from jobs.services.release import job_release
    from tests.factories import JobFactory

    urgent = JobFactory(part_revision=floor.shop.revision, priority=1)
    job_release(job_id=urgent.pk, user=planner)
    rows = api_as(operator).get(f"/api/v1/machines/{floor.shop.lathe.pk}/dispatch-list/").json()["results"]
    assert [(row["job"], row["status"]) for row in rows] == [
        (urgent.pk, OperationStatus.READY), (floor.shop.job.pk, OperationStatus.READY)]
    mills = api_as(operator).get(f"/api/v1/machines/{floor.shop.vf4.pk}/dispatch-list/").json()["results"]
    assert {row["status"] for row in mills} == {OperationStatus.PENDING}
    assert api_as(operator).get("/api/v1/machines/999999/dispatch-list/").status_code == 404
