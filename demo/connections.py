"""The demo's connected machines: a few machines follow the replay agents `make demo` runs (recorded MTConnect
data, machines/connectivity/recordings/), so that the board and the terminal show states the machines make by
themselves beside the operators' own; the rest stay operator-only.

Which machine follows which device (catalog.AGENT_DEVICES) is chosen once, on the shop as it stands: first a machine
in production, whose stops and alarms then wait for the operator's reason as on a real floor; else one with no
operation that is idle or off shift, which runs "with no operation started" and is idle again between cycles;
never one in setup or waiting for its first article, which only an alarm would change. Later runs keep those
machines and point them at the agents' new addresses."""

from collections.abc import Mapping
from typing import Any, cast

from core.services import record_update
from demo.catalog import AGENT_DEVICES
from jobs.choices import OperationStatus
from jobs.models import JobOperation
from machines.choices import MachineState
from machines.models import Machine
from machines.selectors import machine_list

RECORDINGS = tuple(dict.fromkeys(recording for recording, _, _ in AGENT_DEVICES))


def machines_connect(*, agents: Mapping[str, str], user: Any) -> list[Machine]:
    """Point the demo's connected machines at the replay agents (recording name -> the agent's base URL) and
    return them; a recording not named connects nothing. Idempotent."""
    connected = []
    for recording, device, kinds in AGENT_DEVICES:
        url = agents.get(recording)
        if url is None:
            continue
        machine = Machine.objects.filter(mtconnect_device=device).order_by("pk").first() or _choose(kinds)
        if machine is None:
            continue  # a shop without a machine of these kinds
        if (machine.mtconnect_agent_url, machine.mtconnect_device) != (url, device):
            machine = cast(Machine, record_update(instance=machine, user=user,
                                                  data={"mtconnect_agent_url": url, "mtconnect_device": device}))
        connected.append(machine)
    return connected


def _choose(kinds: tuple[str, ...]) -> Machine | None:
    """The best machine of these kinds that follows no device yet (see the module's docstring)."""
    on_machine = dict(JobOperation.objects.filter(status__in=OperationStatus.active(), machine__isnull=False)
                      .values_list("machine_id", "status"))
    candidates = []
    for machine in machine_list().filter(active=True, kind__in=kinds, mtconnect_device=""):
        status = on_machine.get(machine.pk)
        if status == OperationStatus.RUNNING:
            rank = 0
        elif status is None:
            idle = machine.current_state in (MachineState.IDLE, MachineState.OFF_SHIFT)  # type: ignore[attr-defined]
            rank = 1 if idle else 2
        else:
            continue
        candidates.append((rank, kinds.index(machine.kind), machine.code, machine))
    return min(candidates, key=lambda candidate: candidate[:3])[3] if candidates else None
