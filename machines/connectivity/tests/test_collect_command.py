"""The real `manage.py machines_collect` process against a replay agent, on the test database."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection

from machines.choices import StateSource
from machines.connectivity import replay
from machines.connectivity.selectors import connection_cursor
from machines.models import MachineStateEvent
from tests.factories import MachineFactory


@pytest.mark.django_db(transaction=True)
def test_the_collector_process_records_a_replayed_machine_and_stops_cleanly_on_sigterm():
    agent = replay.ReplayAgent(replay.load("okuma")).start()
    machine = MachineFactory(mtconnect_agent_url=agent.url, mtconnect_device="OKUMA")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "DATABASE_URL": os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "machines_collect", "--reload-every", "1", "--poll-interval", "0.2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        agent.play(5)  # READY, then ACTIVE
        deadline = time.monotonic() + 60
        while connection_cursor(machine_id=machine.pk) != (agent.instance_id, agent._next):
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "the collector did not catch up with the agent"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        agent.stop()
    assert MachineStateEvent.objects.filter(machine=machine, source=StateSource.MTCONNECT).exists()
