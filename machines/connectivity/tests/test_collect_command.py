"""The real `manage.py machines_collect` process against a replay agent, on the test database."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from machines.choices import MachineState, StateSource
from machines.connectivity import replay
from machines.connectivity.selectors import connection_cursor
from machines.models import MachineConnection, MachineStateEvent
from machines.services.states import state_totals_rebuild
from tests.factories import MachineFactory


def manage(*args: str) -> list[str]:
    return [sys.executable, "manage.py", *args]


@pytest.mark.django_db(transaction=True)
def test_the_collector_process_records_a_replayed_machine_and_stops_cleanly_on_sigterm(tmp_path):
    agent = replay.ReplayAgent(replay.load("okuma")).start()
    machine = MachineFactory(mtconnect_agent_url=agent.url, mtconnect_device="OKUMA")
    heartbeat = tmp_path / "collector.heartbeat"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]}
    health = manage("machines_collect", "--health", "--heartbeat-file", str(heartbeat))
    process = subprocess.Popen(
        manage("machines_collect", "--reload-every", "1", "--poll-interval", "0.2", "--heartbeat-file",
               str(heartbeat)),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )

    def caught_up() -> None:
        deadline = time.monotonic() + 60
        while connection_cursor(machine_id=machine.pk) != (agent.instance_id, agent._next):
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "the collector did not catch up with the agent"
            time.sleep(0.2)

    def state() -> str:
        return MachineStateEvent.objects.get(machine=machine, ended_at__isnull=True).state

    try:
        # The machine has no operation: not in cycle it is idle, then the program runs, each from its own signals.
        agent.play(1)  # the Okuma's first line: available, automatic, READY
        caught_up()
        assert state() == MachineState.IDLE
        agent.play(4)  # ...then ACTIVE
        caught_up()
        assert state() == MachineState.RUNNING
        # A container's health check: alive while it runs...
        assert subprocess.run(health, env=env, capture_output=True).returncode == 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        agent.stop()
    assert "Collector stopped." in process.stdout.read()
    # ...and not once it stopped.
    assert subprocess.run(health, env=env, capture_output=True).returncode == 1

    assert list(MachineStateEvent.objects.filter(machine=machine).order_by("started_at")
                .values_list("state", "source")) == [(MachineState.IDLE, StateSource.MTCONNECT),
                                                     (MachineState.RUNNING, StateSource.MTCONNECT)]
    status = MachineConnection.objects.get(machine=machine)
    assert status.connected and status.last_observation_at is not None and status.last_error == ""


@pytest.mark.django_db(transaction=True)
def test_a_collector_killed_mid_stream_leaves_no_half_written_interval_and_resumes_from_its_cursor():
    agent = replay.ReplayAgent(replay.load("okuma")).start()
    machine = MachineFactory(mtconnect_agent_url=agent.url, mtconnect_device="OKUMA")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]}
    command = manage("machines_collect", "--reload-every", "1", "--poll-interval", "0.05")
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    second = None
    try:
        deadline = time.monotonic() + 60
        while connection_cursor(machine_id=machine.pk) is None:  # it has started applying
            assert time.monotonic() < deadline, "the collector applied nothing"
            time.sleep(0.05)
        for _ in range(20):  # the recording twice over, a few lines at a time, while the collector applies them
            agent.play(5)
            time.sleep(0.01)
        first.kill()  # SIGKILL: no chance to finish the batch in hand
        first.wait(timeout=10)
        killed_at = connection_cursor(machine_id=machine.pk)

        second = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        agent.play(10)
        deadline = time.monotonic() + 60
        while connection_cursor(machine_id=machine.pk) != (agent.instance_id, agent._next):
            assert time.monotonic() < deadline, "the restarted collector did not catch up with the agent"
            time.sleep(0.2)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
        agent.stop()

    assert killed_at is not None and killed_at[0] == agent.instance_id  # resumed where the stored cursor stood
    events = list(MachineStateEvent.objects.filter(machine=machine).order_by("started_at", "pk"))
    assert [event.ended_at is None for event in events].count(True) == 1 and events[-1].ended_at is None
    for before, after in zip(events, events[1:], strict=False):
        assert before.ended_at == after.started_at  # no gap, no overlap: nothing half-written
        assert (before.state, before.reason_id, before.note) != (after.state, after.reason_id, after.note)
    assert state_totals_rebuild(machine_ids=[machine.pk]) == 0  # the running totals were written whole
