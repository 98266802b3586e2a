"""Edge devices: the signal endpoint, its device tokens and what else those tokens open (nothing)."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from machines.choices import MachineState, StateSource
from machines.connectivity.services import connection_lost, device_token_create
from machines.models import MachineConnection, MachineStateEvent
from tests.factories import MachineFactory

NOW = timezone.now().replace(microsecond=0)


def ago(minutes: float) -> str:
    return (NOW - dt.timedelta(minutes=minutes)).isoformat()


def signals_url(machine) -> str:
    return reverse("machine-signals", args=[machine.pk])


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def clamp(db):
    """A press with a current clamp: an edge device reports for it."""
    return MachineFactory(code="PRESS1")


@pytest.fixture
def device(clamp):
    return client_with(device_token_create(name="edge-bay2", machine_codes=[clamp.code]))


def post(client, machine, rows):
    return client.post(signals_url(machine), rows, format="json")


BATCH = [
    {"timestamp": ago(30), "signal": "running", "value": True},
    {"timestamp": ago(30), "signal": "program", "value": "O1234"},
    {"timestamp": ago(20), "signal": "part_count", "value": 12},
    {"timestamp": ago(10), "signal": "running", "value": False},
]


@pytest.mark.django_db
def test_a_device_posts_its_machines_signals_and_a_retry_adds_nothing(device, clamp):
    first = post(device, clamp, BATCH)
    assert first.status_code == 200, first.json()
    assert first.json() == {"applied": 4, "duplicates": 0, "state": MachineState.IDLE}

    events = MachineStateEvent.objects.filter(machine=clamp).order_by("started_at")
    assert [(e.state, e.source, e.started_at.isoformat()) for e in events] == [
        (MachineState.RUNNING, StateSource.API, ago(30)), (MachineState.IDLE, StateSource.API, ago(10))]
    signals = MachineConnection.objects.get(machine=clamp).signals
    assert (signals["program"], signals["part_count"], signals["running"]) == ("O1234", "12", "false")

    again = post(device, clamp, BATCH)
    assert again.json() == {"applied": 0, "duplicates": 4, "state": MachineState.IDLE}
    assert MachineStateEvent.objects.filter(machine=clamp).count() == 2


@pytest.mark.django_db
def test_rows_apply_in_time_order_and_a_late_row_of_a_signal_is_a_duplicate(device, clamp):
    response = post(device, clamp, [{"timestamp": ago(5), "signal": "alarm", "value": True},
                                    {"timestamp": ago(8), "signal": "running", "value": True},
                                    {"timestamp": ago(6), "signal": "running", "value": True}])
    assert response.json()["applied"] == 3
    late = post(device, clamp, [{"timestamp": ago(7), "signal": "running", "value": False},
                                {"timestamp": ago(4), "signal": "alarm", "value": False}])
    assert late.json() == {"applied": 1, "duplicates": 1, "state": MachineState.RUNNING}


@pytest.mark.django_db
def test_a_bad_row_refuses_the_whole_batch_naming_the_row(device, clamp):
    naive = dict(BATCH[3], timestamp=(NOW - dt.timedelta(minutes=1)).replace(tzinfo=None).isoformat())
    cases = [
        ([BATCH[0], naive], "[1].timestamp", "time zone"),
        ([BATCH[0], BATCH[1], {**BATCH[2], "signal": "spindle_load"}], "[2].signal", "not a valid choice"),
        ([{**BATCH[0], "value": "yes"}], "[0].value", "true or false"),
        ([{**BATCH[2], "value": -1}], "[0].value", "whole number"),
        ([BATCH[0], {**BATCH[3], "timestamp": (NOW + dt.timedelta(minutes=5)).isoformat()}], "[1].timestamp",
         "ahead of Spindle's clock"),
    ]
    for rows, field, message in cases:
        response = post(device, clamp, rows)
        assert response.status_code == 400, field
        error = response.json()["error"]
        assert field in error["fields"] and message in error["message"], error
        assert error["message"].startswith(f"Row {field[1]}")
    assert post(device, clamp, {"timestamp": ago(1)}).status_code == 400  # not a list
    assert not MachineStateEvent.objects.filter(machine=clamp).exists()
    assert not MachineConnection.objects.filter(machine=clamp).exists()


@pytest.mark.django_db
def test_a_clock_a_little_ahead_is_taken_as_now(device, clamp):
    before = timezone.now()
    ahead = (timezone.now() + dt.timedelta(seconds=30)).isoformat()
    assert post(device, clamp, [{"timestamp": ahead, "signal": "running", "value": True}]).status_code == 200
    assert before <= MachineStateEvent.objects.get(machine=clamp).started_at <= timezone.now()


@pytest.mark.django_db
def test_a_device_token_opens_its_own_machines_signals_and_nothing_else(device, clamp, client):
    other = MachineFactory()
    assert post(device, other, BATCH).status_code == 403
    assert post(device, MachineFactory.build(pk=999999), BATCH).status_code == 404
    for url in ("/api/v1/jobs/", "/api/v1/machines/", f"/api/v1/machines/{clamp.pk}/", "/api/v1/me/",
                "/api/v1/board/", "/api/v1/state-events/", "/api/schema/"):
        assert device.get(url).status_code == 403, url
    assert device.post("/api/v1/machines/", {"code": "X"}, format="json").status_code == 403
    # Pages never take a token: the device is a stranger there, sent to log in.
    key = Token.objects.get(user__username="edge-bay2").key
    for page in ("/", "/board/", "/admin/"):
        response = client.get(page, HTTP_AUTHORIZATION=f"Token {key}")
        assert response.status_code == 302 and "login" in response["Location"], page
    assert not MachineStateEvent.objects.filter(machine=other).exists()


@pytest.mark.django_db
def test_a_persons_token_and_session_still_open_the_api_but_post_no_signals(api, client, planner, manager, clamp):
    key = api.post("/api/v1/auth/token/", {"username": "planner", "password": "floor-Pass-2024"}).json()["token"]
    person = client_with(key)
    assert person.get("/api/v1/jobs/").status_code == 200
    client.force_login(manager)
    assert client.get("/api/v1/machines/").status_code == 200
    assert post(person, clamp, BATCH).status_code == 403
    assert client.post(signals_url(clamp), BATCH, content_type="application/json").status_code in (401, 403)


@pytest.mark.django_db
def test_the_command_creates_a_device_and_a_new_token_replaces_the_old(clamp, planner):
    out = io.StringIO()
    call_command("device_token_create", "edge-bay2", clamp.code, stdout=out)
    first = out.getvalue().strip().splitlines()[-1]
    assert post(client_with(first), clamp, BATCH[:1]).status_code == 200

    second = device_token_create(name="edge-bay2", machine_codes=[clamp.code])
    assert post(client_with(first), clamp, BATCH[1:2]).status_code == 401
    assert post(client_with(second), clamp, BATCH[1:2]).status_code == 200

    with pytest.raises(CommandError, match="No machine NOPE"):
        call_command("device_token_create", "edge-bay3", "NOPE")
    with pytest.raises(CommandError, match="person's account"):
        call_command("device_token_create", "planner", clamp.code)
    planner.refresh_from_db()
    assert planner.has_usable_password() and not planner.signal_machines.exists()


@pytest.mark.django_db
def test_a_machine_moved_to_another_device_refuses_the_first(clamp):
    first = client_with(device_token_create(name="edge-a", machine_codes=[clamp.code]))
    device_token_create(name="edge-b", machine_codes=[clamp.code])
    assert post(first, clamp, BATCH).status_code == 403


@pytest.mark.django_db
def test_the_machines_api_shows_each_machines_connection_status(device, clamp, api_as, manager):
    assert post(device, clamp, BATCH).status_code == 200
    lathe = MachineFactory(code="LATHE1", mtconnect_agent_url="http://10.0.4.21:5000", mtconnect_device="OKUMA")
    lost_at = NOW - dt.timedelta(minutes=3)
    connection_lost(machine_id=lathe.pk, at=lost_at, error="agent unreachable: refused")
    never = MachineFactory(code="BENCH1")

    def status(row) -> tuple | None:
        connection = row["connection"]
        return None if connection is None else (
            connection["connected"], connection["last_observation_at"] and dt.datetime.fromisoformat(
                connection["last_observation_at"]), connection["last_error"],
            connection["last_error_at"] and dt.datetime.fromisoformat(connection["last_error_at"]))

    api = api_as(manager)
    assert status(api.get(f"/api/v1/machines/{clamp.pk}/").json()) == (
        True, NOW - dt.timedelta(minutes=10), "", None)
    machines = {row["code"]: status(row) for row in api.get("/api/v1/machines/").json()["results"]}
    assert machines["LATHE1"] == (False, None, "agent unreachable: refused", lost_at)
    assert machines[never.code] is None  # never monitored: nothing to show
    # Read-only: only the connectivity services write it.
    assert status(api.patch(f"/api/v1/machines/{lathe.pk}/", {"connection": {"connected": True}},
                            format="json").json())[0] is False
