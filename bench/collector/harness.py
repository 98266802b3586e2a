"""What the collector benchmark's scenarios share: the fake agents' process, the shop that points at them, the real
`manage.py machines_collect` process, CPU times from /proc and the count of what the collector applied."""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import django
import httpx

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.web.settings")
django.setup()

from django.db import connection  # noqa: E402

from machines.choices import MachineKind, StateSource  # noqa: E402
from machines.models import Calendar, Machine, MachineConnection, MachineStateEvent, WorkCenter  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """The process's user + system CPU time (all its threads); with `children`, that of its children that have
    exited too (PostgreSQL's postmaster: the backends that came and went)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / TICKS


def tree_seconds(parent: int) -> float:
    """The CPU time of a process and its children, live and gone: PostgreSQL's postmaster and its backends,
    gunicorn's arbiter and its workers."""
    total = cpu_seconds(parent, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == parent:
                total += cpu_seconds(int(entry.name))
    return total


def load_average() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


@dataclass
class Agents:
    """The fake agents' process (bench/collector/agent.py) and what it said about its agents when it started."""

    process: subprocess.Popen
    stats: list[dict]

    @classmethod
    def start(cls, *, port: int, agents: int, devices: int, rate: float, pinned: int = 0, backlog: int = 0,
              buffer_size: int = 131_072) -> "Agents":
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.collector.agent", "--port", str(port), "--agents", str(agents),
             "--devices", str(devices), "--rate", str(rate), "--pinned", str(pinned), "--backlog", str(backlog),
             "--buffer-size", str(buffer_size)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fake agents did not start (exit {process.wait()})")
        return cls(process, json.loads(line)["agents"])

    def url(self, agent: dict) -> str:
        return f"http://127.0.0.1:{agent['port']}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def shop_make(agents: Agents, *, cursors_at_first: bool = False) -> list[Machine]:
    """A machine per device, one work center per agent, all following their agent. `cursors_at_first`: each
    machine's cursor stands at the agent's first sequence, as if the collector had stopped there (it then catches up
    with the agent's backlog instead of starting from /current)."""
    calendar, _ = Calendar.objects.get_or_create(name="Bench")
    machines = []
    for agent in agents.stats:
        center, _ = WorkCenter.objects.get_or_create(code=f"WC-A{agent['agent']:02d}",
                                                     defaults={"name": f"Agent {agent['agent']}"})
        machines += [Machine(code=name, name=f"Bench {name}", work_center=center, kind=MachineKind.MILL_3AXIS,
                             calendar=calendar, mtconnect_agent_url=agents.url(agent), mtconnect_device=name)
                     for name in agent["devices"]]
    machines = Machine.objects.bulk_create(machines)
    if cursors_at_first:
        port_of = {agents.url(agent): agent for agent in agents.stats}
        MachineConnection.objects.bulk_create([
            MachineConnection(machine=machine, connected=True, instance_id=port_of[machine.mtconnect_agent_url]
                              ["instance_id"], next_sequence=port_of[machine.mtconnect_agent_url]["first"])
            for machine in machines
        ])
    return machines


def collector_start(log: Path, *args: str) -> subprocess.Popen:
    """The real collector: `manage.py machines_collect`, one process, with the environment's settings."""
    return subprocess.Popen([sys.executable, "manage.py", "machines_collect", *args], cwd=ROOT,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def collector_stop(process: subprocess.Popen) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def cursors() -> dict[str, dict[str, int]]:
    """Each agent's machines' cursors (the next sequence to apply), by agent URL and device."""
    by_agent: dict[str, dict[str, int]] = {}
    rows = MachineConnection.objects.filter(machine__active=True, next_sequence__isnull=False).values_list(
        "machine__mtconnect_agent_url", "machine__mtconnect_device", "next_sequence")
    for url, device, sequence in rows:
        by_agent.setdefault(url, {})[device] = sequence or 0
    connection.close()
    return by_agent


def applied(client: httpx.Client) -> dict[str, int]:
    """What the collector has applied so far, counted by the agents that made it: for each machine, its device's
    observations below the machine's cursor (and of them, executions: each changes the machine's state)."""
    total = {"observations": 0, "executions": 0}
    for url, devices in cursors().items():
        counts = client.post(f"{url}/bench/applied", json=devices).json()
        for key in total:
            total[key] += counts[key]
    return total


def mtconnect_events() -> int:
    count = MachineStateEvent.objects.filter(source=StateSource.MTCONNECT).count()
    connection.close()
    return count


def connected_machines() -> int:
    count = MachineConnection.objects.filter(machine__active=True, connected=True,
                                             next_sequence__isnull=False).count()
    connection.close()
    return count


def wait_until(condition, *, timeout: float, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the collector exited ({process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.5)
