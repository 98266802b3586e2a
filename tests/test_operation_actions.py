"""The table of operation actions drives everything: one entry and its service make an action that the API answers
(and documents with its input), that the terminal offers where it applies, and that is refused, saying why,
where it does not."""

import pytest
from rest_framework import serializers

from jobs.actions import ACTIONS, OperationAction
from jobs.choices import OperationStatus
from jobs.inputs import Input
from jobs.models import OperationEvent
from jobs.services.operations import ActionContext, OperationService, operation_first_piece, operation_start_setup

HX = {"HX-Request": "true"}
REFUSED = "Operation {} is ready: “Deburr the edges” does not apply now."


class DeburrInput(Input):
    note = serializers.CharField(max_length=20, required=False, default="")


@OperationService
def operation_deburr(context: ActionContext, *, note: str = "") -> dict:
    return {"note": note}


@pytest.fixture
def deburr(monkeypatch):
    """A throwaway action: one entry in the table (removed after the test) and its service."""
    action = OperationAction("deburr", "Deburr the edges", (OperationStatus.RUNNING,), operation_deburr, DeburrInput)
    monkeypatch.setitem(ACTIONS, action.name, action)
    return action


@pytest.fixture
def running(floor, operator):
    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=floor.shop.lathe.pk)
    operation_first_piece(operation_id=floor.turn.pk, user=operator)
    return floor


def panel(client, floor) -> str:
    return client.get(f"/terminal/{floor.shop.lathe.pk}/?op={floor.turn.pk}", headers=HX).content.decode()


@pytest.mark.django_db
def test_the_api_answers_a_new_action_with_its_input_and_documents_it(deburr, api_as, operator, running):
    api = api_as(operator)
    url = f"/api/v1/operations/{running.turn.pk}/deburr/"
    response = api.post(url, {"note": "all edges"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == OperationStatus.RUNNING
    event = OperationEvent.objects.filter(operation=running.turn).latest("at")
    assert (event.action, event.details, event.terminal) == ("deburr", {"note": "all edges"}, "api")
    response = api.post(url, {"note": "x" * 21}, format="json")
    assert response.status_code == 400 and "note" in response.json()["error"]["fields"]

    schema = api.get("/api/schema/", {"format": "json"}).json()
    request = schema["paths"]["/api/v1/operations/{id}/deburr/"]["post"]["requestBody"]
    assert request["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/DeburrInputRequest"


@pytest.mark.django_db
def test_the_api_refuses_it_outside_its_statuses_saying_why(deburr, api_as, operator, floor):
    response = api_as(operator).post(f"/api/v1/operations/{floor.turn.pk}/deburr/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"] == {"code": "wrong_state", "message": REFUSED.format(floor.turn), "fields": {}}


@pytest.mark.django_db
def test_the_terminal_shows_its_button_where_it_applies_and_says_why_not_elsewhere(deburr, client, operator, floor):
    client.force_login(operator)
    assert "Deburr the edges" not in panel(client, floor)  # ready: not offered
    refused = client.post(f"/terminal/{floor.shop.lathe.pk}/operations/{floor.turn.pk}/deburr/", {"nonce": ""},
                          headers=HX)
    assert refused.status_code == 409 and REFUSED.format(floor.turn) in refused.content.decode()

    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=floor.shop.lathe.pk)
    operation_first_piece(operation_id=floor.turn.pk, user=operator)
    assert "Deburr the edges" in panel(client, floor)
    done = client.post(f"/terminal/{floor.shop.lathe.pk}/operations/{floor.turn.pk}/deburr/", {"nonce": ""},
                       headers=HX)
    assert done.status_code == 200
    assert OperationEvent.objects.filter(operation=floor.turn, action="deburr").count() == 1


@pytest.mark.django_db
def test_without_its_entry_the_action_does_not_exist(api_as, client, operator, running):
    assert api_as(operator).post(f"/api/v1/operations/{running.turn.pk}/deburr/").status_code == 404
    client.force_login(operator)
    assert "Deburr the edges" not in panel(client, running)
    url = f"/terminal/{running.shop.lathe.pk}/operations/{running.turn.pk}/deburr/"
    assert client.post(url, {"nonce": ""}, headers=HX).status_code == 404
