"""A monitored machine for tests: its agent's observations, applied as the collector applies them, and a clock the
test moves (a stop is unexplained only once it has lasted its machine's threshold)."""

import datetime as dt

from django.utils import timezone

from machines.connectivity.observations import Kind, Observation
from machines.connectivity.services import connection_ingest
from machines.models import Machine

KINDS = {"availability": Kind.AVAILABILITY, "mode": Kind.CONTROLLER_MODE, "execution": Kind.EXECUTION,
         "program": Kind.PROGRAM, "part_count": Kind.PART_COUNT}


class Clock:
    """What timezone.now() answers while a test patches it in: a time the test moves on."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def monitor(machine: Machine) -> Machine:
    """Give the machine an MTConnect agent (its settings only: the test feeds its observations)."""
    machine.mtconnect_agent_url, machine.mtconnect_device = "http://agent.test:5000", machine.code
    machine.save(update_fields=["mtconnect_agent_url", "mtconnect_device", "updated_at"])
    return machine


class Feed:
    """The machine's agent: each call is one batch of observations at `at` (default: the clock's now), numbered in
    one sequence as an agent numbers them, e.g. feed(execution="FEED_HOLD") or feed(part_count="17", at=...)."""

    def __init__(self, machine: Machine, instance_id: str = "1700000000"):
        self.machine, self.instance_id, self.sequence = machine, instance_id, 1

    def observations(self, *, at: dt.datetime | None = None, **values: str) -> list[Observation]:
        """The next batch, numbered, not applied yet."""
        at = at or timezone.now()
        batch = []
        for name, value in values.items():
            batch.append(Observation(kind=KINDS[name], value=value, timestamp=at, sequence=self.sequence))
            self.sequence += 1
        return batch

    def ingest(self, batch: list[Observation]) -> int:
        next_sequence = max(observation.sequence or 0 for observation in batch) + 1
        return connection_ingest(machine_id=self.machine.pk, instance_id=self.instance_id, observations=batch,
                                 next_sequence=next_sequence)

    def __call__(self, *, at: dt.datetime | None = None, **values: str) -> int:
        return self.ingest(self.observations(at=at, **values))
