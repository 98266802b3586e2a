"""A recording in-memory sink and a way to run the collector for a while, for the protocol tests."""

import asyncio
import datetime as dt
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from machines.connectivity.collector import Collector, MachineConfig, Settings
from machines.connectivity.observations import Kind, Observation

T = TypeVar("T")

FAST = Settings(
    count=200, poll_interval=0.05, stream_interval_ms=20, heartbeat_ms=300, request_timeout=2.0, lost_after=0.5,
    backoff_initial=0.05, backoff_max=0.2, reload_every=0.1,
)


@dataclass
class RecordingSink:
    """Keeps every call, and the cursor as the connectivity services keep it (the contract of the Sink)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    cursors: dict[int, tuple[str, int]] = field(default_factory=dict)
    applied: dict[int, list[tuple[str, Observation]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def connection_cursor(self, *, machine_id: int) -> tuple[str, int] | None:
        with self.lock:
            self.calls.append(("cursor", {"machine_id": machine_id}))
            return self.cursors.get(machine_id)

    def connections_ingest(
        self, *, instance_id: str, next_sequence: int, batches: Mapping[int, Sequence[Observation]]
    ) -> dict[int, int]:
        """Kept as one "ingest" call per machine."""
        applied = {}
        with self.lock:
            for machine_id, observations in batches.items():
                self.calls.append(("ingest", {"machine_id": machine_id, "instance_id": instance_id,
                                              "observations": list(observations), "next_sequence": next_sequence}))
                stored = self.cursors.get(machine_id)
                floor = stored[1] if stored and stored[0] == instance_id else 0
                fresh = [o for o in observations if (o.sequence or 0) >= floor]
                self.applied.setdefault(machine_id, []).extend((instance_id, o) for o in fresh)
                self.cursors[machine_id] = (instance_id, next_sequence)
                applied[machine_id] = len(fresh)
        return applied

    def connection_gap(
        self, *, machine_id: int, instance_id: str, since: dt.datetime, until: dt.datetime, next_sequence: int
    ) -> None:
        with self.lock:
            self.calls.append(("gap", {"machine_id": machine_id, "instance_id": instance_id, "since": since,
                                       "until": until, "next_sequence": next_sequence}))
            self.cursors[machine_id] = (instance_id, next_sequence)

    def connection_lost(self, *, machine_id: int, at: dt.datetime, error: str) -> None:
        with self.lock:
            self.calls.append(("lost", {"machine_id": machine_id, "at": at, "error": error}))

    # -- what the tests read --------------------------------------------------------------------------------

    def of(self, kind: str, machine_id: int | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [c for k, c in self.calls if k == kind and machine_id in (None, c["machine_id"])]

    def observations(self, machine_id: int, kind: Kind | None = None) -> list[Observation]:
        """Everything handed over for the machine, in order, duplicates included."""
        return [o for c in self.of("ingest", machine_id) for o in c["observations"] if kind in (None, o.kind)]

    def values(self, machine_id: int, kind: Kind) -> list[str]:
        return [o.value for o in self.observations(machine_id, kind)]


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the collector did not get there in time")
        await asyncio.sleep(0.02)


class Running:
    """`async with Running(sink, machines) as run:` the collector runs until the block ends (SIGTERM-like stop)."""

    def __init__(self, sink: RecordingSink, machines: list[MachineConfig] | Callable[[], list[MachineConfig]],
                 settings: Settings = FAST) -> None:
        load = machines if callable(machines) else (lambda: list(machines))
        self.collector = Collector(sink, load, settings)
        self.stop = asyncio.Event()

    async def __aenter__(self) -> "Running":
        self.task = asyncio.create_task(self.collector.run(self.stop))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, timeout=10)


def machine(machine_id: int, agent_url: str, device: str) -> MachineConfig:
    return MachineConfig(machine_id=machine_id, agent_url=agent_url, device=device)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: after a browser test, Playwright's sync API keeps an event loop running in
    the test session's main thread, where asyncio.run refuses to start another."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as error:  # handed to the test's thread
            failure.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]
