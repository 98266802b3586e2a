"""A machine's monitoring on its admin page: settings edited there, the connection status shown, never written."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from machines.connectivity.observations import Kind, Observation
from machines.connectivity.services import connection_ingest, connection_lost, device_token_create
from machines.models import Machine, MachineConnection
from tests.factories import MachineFactory
from tests.test_admin import form_data


@pytest.mark.django_db
def test_the_machine_page_shows_its_connection_and_a_save_leaves_it_alone(client, shop_admin):
    machine = MachineFactory()
    now = timezone.now()
    connection_ingest(machine_id=machine.pk, instance_id="17", next_sequence=43, observations=[
        Observation(kind=Kind.EXECUTION, value="ACTIVE", timestamp=now - dt.timedelta(minutes=5), sequence=42)])
    connection_lost(machine_id=machine.pk, at=now, error="Connection refused")
    client.force_login(shop_admin)
    url = reverse("admin:machines_machine_change", args=[machine.pk])

    shown = client.get(url)
    assert shown.status_code == 200
    assert "Connection refused" in shown.content.decode()

    connection_ingest(machine_id=machine.pk, instance_id="17", next_sequence=44, observations=[
        Observation(kind=Kind.EXECUTION, value="READY", timestamp=now, sequence=43)])  # while the page was open
    data = form_data(shown) | {"unexplained_stop_seconds": "300"}
    assert client.post(url, data).status_code == 302
    machine.refresh_from_db()
    assert machine.unexplained_stop_seconds == 300
    status = MachineConnection.objects.get(machine=machine)
    assert (status.next_sequence, status.signals["execution"]) == (44, "READY")


@pytest.mark.django_db
def test_only_devices_are_offered_as_a_machines_signal_device(client, shop_admin, operator):
    machine = MachineFactory()
    device_token_create(name="edge-bay2", machine_codes=[machine.code])
    client.force_login(shop_admin)
    form = client.get(reverse("admin:machines_machine_change", args=[machine.pk])).context["adminform"].form
    offered = {user.username for user in form.fields["signal_device"].queryset}
    assert offered == {"edge-bay2"}
    assert Machine.objects.get(pk=machine.pk).signal_device.username == "edge-bay2"
