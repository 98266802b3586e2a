"""The collector: one asyncio process that follows any number of MTConnect agents and hands what their
machines report to a sink (Spindle's connectivity services), one batch per machine per document.

Per agent, one session: /probe to learn each configured machine's device and its data items by type,
/current to start (or to re-sync), then /sample from the next sequence, streamed where the agent offers it and
polled otherwise. One request serves every device of the agent; each machine gets only its own device's
observations. The sink keeps the cursor (instanceId, next sequence) per machine, so a restarted collector
resumes where it stopped and a replayed document adds nothing.
"""

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import httpx

from machines.connectivity.agent import Agent, AgentUnreachable, StreamingUnsupported
from machines.connectivity.mtconnect import AgentError, Device, Streams, read_streams
from machines.connectivity.observations import Observation
from machines.connectivity.xmldoc import MAX_DOCUMENT_BYTES, DocumentError

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Sink(Protocol):
    """Where the collector hands what it read. Every function is synchronous (the ORM is), is its own
    transaction and is idempotent; the collector calls them through `asyncio.to_thread`."""

    def connection_cursor(self, *, machine_id: int) -> tuple[str, int] | None:
        """The stored (instanceId, next sequence) to resume from; None when the machine was never read."""

    def connections_ingest(
        self, *, instance_id: str, next_sequence: int, batches: Mapping[int, Sequence[Observation]]
    ) -> dict[int, int]:
        """One document's batches, by machine id: each the observations of the machine's device, in sequence order
        (from /current after a (re-)sync: the values as they stand, each with the time it last changed). For each
        machine, skips any with this instance_id and a sequence below its stored next sequence, stores
        next_sequence, and returns how many it applied. A machine with no observations is in `batches` at the
        first call after each (re)connection (the machine is connected again), and now and then to move its
        cursor."""

    def connection_gap(
        self, *, machine_id: int, instance_id: str, since: dt.datetime, until: dt.datetime, next_sequence: int
    ) -> None:
        """The agent's buffer overran us: what the machine did from `since` (the last time the collector had
        news of it; equal to `until` when a restarted collector cannot know) to `until` is unknown.
        Stores next_sequence as the cursor: where it stood (overrun), or 0 when the agent's sequence went back
        without a new instanceId; the /current batch that follows at once must not be skipped."""

    def connection_lost(self, *, machine_id: int, at: dt.datetime, error: str) -> None:
        """The machine cannot be read (agent unreachable past the timeout since `at`, malformed document,
        device not on the agent): its connection status shows `error`."""


@dataclass(frozen=True, slots=True)
class MachineConfig:
    machine_id: int
    agent_url: str  # the agent's base, e.g. http://agent:5000
    device: str  # the device's name or uuid on that agent


@dataclass(frozen=True, slots=True)
class Settings:
    count: int = 1000  # observations per /sample
    poll_interval: float = 1.0  # seconds between polls when the agent had nothing more
    stream: bool = True  # try `interval` streaming first
    stream_interval_ms: int = 500
    heartbeat_ms: int = 10_000
    request_timeout: float = 10.0
    lost_after: float = 30.0  # seconds unreachable before the machines are reported disconnected
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    reload_every: float = 30.0  # seconds between reads of the machines' configuration
    cursor_every: float = 10.0  # seconds a machine with nothing new may leave its stored cursor behind (see _ingest)
    max_bytes: int = MAX_DOCUMENT_BYTES


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class _Stopped(Exception):
    pass


class _Resync(Exception):
    """Re-probe and re-sync: the agent restarted, or its sequence went backwards."""


@dataclass
class _Machine:
    config: MachineConfig
    device: Device | None = None
    next_sequence: int | None = None  # None until synced with the agent's current instance
    last_seen: dt.datetime | None = None
    heard: bool = False  # a batch went to the sink since the session (re)connected
    stored: int | None = None  # the next sequence last handed to the sink, and when
    stored_at: float = 0.0


@dataclass
class AgentSession:
    """Everything the collector does for one agent."""

    url: str
    configs: tuple[MachineConfig, ...]
    sink: Sink
    settings: Settings
    client: httpx.AsyncClient
    machines: list[_Machine] = field(init=False)
    instance_id: str = field(init=False, default="")
    streaming: bool = field(init=False)
    _stop: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _reported: dict[int, str] = field(init=False, default_factory=dict)  # the error each machine shows now
    _warned: set[str] = field(init=False, default_factory=set)
    _progressed: bool = field(init=False, default=False)  # a batch went to the sink since the last failure

    def __post_init__(self) -> None:
        self.machines = [_Machine(config) for config in self.configs]
        self.streaming = self.settings.stream
        self.agent = Agent(self.url, self.client, max_bytes=self.settings.max_bytes)

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        backoff = self.settings.backoff_initial
        down_since: float | None = None
        down_at = _now()
        while not self._stop.is_set():
            try:
                await self._connect()
                down_since = None
                await self._follow()
                continue
            except _Stopped:
                return
            except _Resync:
                continue
            except AgentUnreachable as exc:
                logger.warning("MTConnect agent %s unreachable: %s", self.url, exc)
                if down_since is None:
                    down_since, down_at = time.monotonic(), _now()
                remaining = down_since + self.settings.lost_after - time.monotonic()
                if remaining <= 0:
                    await self._lost(self.machines, down_at, f"agent unreachable: {exc}", reason="unreachable")
                    wait = backoff
                else:
                    wait = min(backoff, remaining)  # wake in time to report the loss when it is due
            except (DocumentError, AgentErrorFault) as exc:
                logger.error("MTConnect agent %s: %s", self.url, exc)
                await self._lost(self.machines, _now(), str(exc))
                wait = backoff
            if self._progressed:  # the last failure followed good documents: start the backoff afresh
                self._progressed, wait, backoff = False, self.settings.backoff_initial, self.settings.backoff_initial
            with suppress(_Stopped):
                await self._sleep(wait)
            backoff = min(backoff * 2, self.settings.backoff_max)

    # -- connecting ------------------------------------------------------------------------------------------

    async def _connect(self) -> None:
        probe = _ok(await self._unless_stopped(self.agent.probe()), "probe")
        self._warn(probe.warnings)
        self.instance_id = probe.header.instance_id
        for machine in self.machines:
            machine.device = probe.device(machine.config.device)
            machine.next_sequence, machine.heard = None, False
            if machine.device is None:
                names = ", ".join(d.name or d.uuid for d in probe.devices) or "none"
                await self._lost(
                    [machine], _now(), f"device {machine.config.device!r} is not on agent {self.url} (it has: {names})"
                )
        if not self._known():
            return
        current = _ok(await self._unless_stopped(self.agent.current(self._devices())), "current")
        self._warn(current.warnings)
        if current.header.instance_id != self.instance_id:
            raise _Resync()  # restarted between /probe and /current
        for machine in self._known():
            await self._sync(machine, current)

    async def _sync(self, machine: _Machine, current: Streams) -> None:
        """Resume from the stored cursor when the agent still holds it, else start from /current."""
        first, next_ = current.header.first_sequence or 0, current.header.next_sequence or 0
        cursor = await asyncio.to_thread(self.sink.connection_cursor, machine_id=machine.config.machine_id)
        if cursor and cursor[0] == self.instance_id and first <= cursor[1] <= next_:
            machine.next_sequence = cursor[1]
            return
        await self._resync(machine, current, cursor[1] if cursor and cursor[0] == self.instance_id else None)

    async def _resync(self, machine: _Machine, current: Streams, cursor: int | None) -> None:
        """Start the machine from /current. With a cursor of this instance the agent lost what lay between
        (overrun), or went back without a new instanceId: that time is unknown."""
        until = current.header.creation_time or _now()
        if cursor is not None:
            if cursor > (current.header.next_sequence or 0):
                logger.warning("MTConnect agent %s went back from sequence %s to %s without a restart",
                               self.url, cursor, current.header.next_sequence)
                cursor = 0
            await self._gap(machine, until, cursor)
        machine.next_sequence = cursor
        await self._ingest([machine], current)

    # -- following -------------------------------------------------------------------------------------------

    async def _follow(self) -> None:
        if not self._known():
            # Nothing to read here; look again later (the device may appear, the configuration may change).
            await self._sleep(self.settings.reload_every)
            raise _Resync()
        while True:
            if self.streaming:
                try:
                    await self._follow_stream()
                    continue
                except StreamingUnsupported as exc:
                    logger.info("MTConnect agent %s does not stream; polling it", self.url)
                    self.streaming = False
                    await self._handle(self._read(exc.document), self._start())
                    continue
            start = self._start()
            document = await self._unless_stopped(
                self.agent.sample(self._devices(), start=start, count=self.settings.count)
            )
            await self._handle(document, start)
            header = document.header if isinstance(document, Streams) else None
            more = header and header.next_sequence and header.last_sequence and (
                header.next_sequence <= header.last_sequence
            )
            if not more:
                await self._sleep(self.settings.poll_interval)

    async def _follow_stream(self) -> None:
        start = self._start()
        read_timeout = self.settings.heartbeat_ms / 1000 * 2 + self.settings.request_timeout
        parts = self.agent.stream(
            self._devices(), start=start, count=self.settings.count, interval_ms=self.settings.stream_interval_ms,
            heartbeat_ms=self.settings.heartbeat_ms, read_timeout=read_timeout,
        )
        delivered = False
        try:
            while True:
                document = await self._unless_stopped(anext(parts))
                delivered = True
                await self._handle(document, start)
                if isinstance(document, Streams) and document.header.next_sequence:
                    start = document.header.next_sequence
        except DocumentError:
            if not delivered:  # a stream it cannot keep: polling serves every agent
                logger.info("MTConnect agent %s: its stream failed before a first document; polling it", self.url)
                self.streaming = False
            raise
        finally:
            await parts.aclose()

    async def _handle(self, document: Streams | AgentError, start: int) -> None:
        """One document: every machine's batch, or a re-sync when the agent restarted or overran us."""
        if isinstance(document, AgentError):
            if not document.out_of_range:
                raise AgentErrorFault(f"agent refused /sample: {document.message}")
            await self._overrun(f"OUT_OF_RANGE: {document.message}")
            return
        self._warn(document.warnings)
        header = document.header
        if header.instance_id != self.instance_id:
            logger.info("MTConnect agent %s restarted (instance %s -> %s)", self.url, self.instance_id,
                        header.instance_id)
            raise _Resync()
        if header.first_sequence and header.first_sequence > start:
            await self._overrun(f"asked from {start}, the agent holds from {header.first_sequence}")
            return
        if header.next_sequence is not None and header.next_sequence < start:
            # The agent went back without a new instanceId: /current says where it stands.
            raise _Resync()
        await self._ingest(self._known(), document)

    async def _overrun(self, why: str) -> None:
        logger.warning("MTConnect agent %s buffer overrun (%s): re-syncing from /current", self.url, why)
        current = _ok(await self._unless_stopped(self.agent.current(self._devices())), "current")
        if current.header.instance_id != self.instance_id:
            raise _Resync()
        first, next_ = current.header.first_sequence or 0, current.header.next_sequence or 0
        for machine in self._known():
            cursor = machine.next_sequence or 0
            if cursor < first or cursor > next_:
                await self._resync(machine, current, cursor)

    # -- handing over to the sink -----------------------------------------------------------------------------

    async def _ingest(self, machines: list[_Machine], document: Streams) -> None:
        """The machines' batches of the document, in one call to the sink."""
        next_sequence = document.header.next_sequence or 0
        batches: dict[int, list[Observation]] = {}
        positions: list[tuple[_Machine, int]] = []
        for machine in machines:
            assert machine.device is not None
            floor = machine.next_sequence or 0
            observations = [o for o in document.of(machine.device) if (o.sequence or 0) >= floor]
            position = max(next_sequence, floor)
            # The first batch after a (re)connection goes even when empty: the machine is connected again. A
            # machine with nothing in the document needs only its stored cursor moved, which only a restarted
            # collector reads (it then reads again what lay between, which holds nothing of the machine): that
            # waits until the agent has nothing new or cursor_every passes, so that the quiet machines of a busy
            # agent are not written at every document.
            behind = machine.stored is None or machine.stored < position
            quiet = next_sequence <= floor or time.monotonic() - machine.stored_at >= self.settings.cursor_every
            if observations or not machine.heard or machine.next_sequence is None or (behind and quiet):
                batches[machine.config.machine_id] = observations
            positions.append((machine, position))
        if batches:
            await asyncio.to_thread(self.sink.connections_ingest, instance_id=self.instance_id,
                                    next_sequence=next_sequence, batches=batches)
        self._progressed = True
        now, seen = time.monotonic(), document.header.creation_time or _now()
        for machine, position in positions:
            if machine.config.machine_id in batches:
                machine.stored, machine.stored_at = position, now
            machine.next_sequence, machine.heard, machine.last_seen = position, True, seen
            self._reported.pop(machine.config.machine_id, None)

    async def _gap(self, machine: _Machine, until: dt.datetime, cursor: int) -> None:
        await asyncio.to_thread(
            self.sink.connection_gap, machine_id=machine.config.machine_id, instance_id=self.instance_id,
            since=machine.last_seen or until, until=until, next_sequence=cursor,
        )

    async def _lost(self, machines: Iterable[_Machine], at: dt.datetime, error: str, reason: str = "") -> None:
        """Report a machine's error once (an outage once, whatever each retry says), not at every retry."""
        for machine in machines:
            if self._reported.get(machine.config.machine_id) != (reason or error):
                self._reported[machine.config.machine_id] = reason or error
                await asyncio.to_thread(self.sink.connection_lost, machine_id=machine.config.machine_id, at=at,
                                        error=error)

    # -- helpers ----------------------------------------------------------------------------------------------

    def _warn(self, warnings: tuple[str, ...]) -> None:
        """A namespace fault read past (an undeclared vendor prefix) is logged once per session, not per document."""
        for warning in set(warnings) - self._warned:
            self._warned.add(warning)
            logger.warning("MTConnect agent %s sends documents with a namespace fault, read anyway: %s",
                           self.url, warning)

    def _known(self) -> list[_Machine]:
        return [m for m in self.machines if m.device is not None]

    def _devices(self) -> tuple[Device, ...]:
        return tuple({id(m.device): m.device for m in self._known() if m.device}.values())

    def _start(self) -> int:
        return min(m.next_sequence or 0 for m in self._known())

    def _read(self, document: bytes) -> Streams | AgentError:
        return read_streams(document, self._devices(), max_bytes=self.settings.max_bytes)

    async def _sleep(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)
        if self._stop.is_set():
            raise _Stopped()

    async def _unless_stopped(self, awaitable: Awaitable[T]) -> T:
        """A request, abandoned when the session is stopped: no batch is in hand while waiting on the agent."""
        request = asyncio.ensure_future(awaitable)
        stopped = asyncio.ensure_future(self._stop.wait())
        await asyncio.wait({request, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if request.done():
            stopped.cancel()
            return request.result()
        request.cancel()
        with suppress(asyncio.CancelledError, Exception):
            await request
        raise _Stopped()


class AgentErrorFault(Exception):
    """The agent answered with an MTConnectError other than OUT_OF_RANGE (NO_DEVICE, INVALID_REQUEST...)."""


def _ok(document: T | AgentError, request: str) -> T:
    if isinstance(document, AgentError):
        raise AgentErrorFault(f"agent refused /{request}: {document.message}")
    return document


class Collector:
    """All sessions of the process: one per agent, re-planned whenever the machines' configuration changes."""

    def __init__(
        self, sink: Sink, load_machines: Callable[[], Iterable[MachineConfig]], settings: Settings | None = None
    ) -> None:
        self.sink = sink
        self.load_machines = load_machines
        self.settings = settings or Settings()
        self.sessions: dict[str, tuple[AgentSession, asyncio.Task[None]]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        timeout = httpx.Timeout(self.settings.request_timeout)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
            try:
                while not stop.is_set():
                    await self._replan(client)
                    with suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=self.settings.reload_every)
            finally:
                await self._stop_sessions(list(self.sessions))

    async def _replan(self, client: httpx.AsyncClient) -> None:
        try:
            configs = list(await asyncio.to_thread(self.load_machines))
        except Exception:
            logger.exception("Could not read the machines' MTConnect configuration; keeping the last one")
            return
        wanted: dict[str, tuple[MachineConfig, ...]] = {}
        for config in sorted(configs, key=lambda c: c.machine_id):
            wanted.setdefault(config.agent_url.rstrip("/"), ())
            wanted[config.agent_url.rstrip("/")] += (config,)
        changed = [
            url for url, (session, task) in self.sessions.items()
            if wanted.get(url) != session.configs or task.done()
        ]
        for url in changed:
            session, task = self.sessions[url]
            if task.done() and not task.cancelled() and task.exception():
                logger.error("MTConnect session for %s failed", url, exc_info=task.exception())
        await self._stop_sessions(changed)
        for url, machines in wanted.items():
            if url not in self.sessions:
                session = AgentSession(url, machines, self.sink, self.settings, client)
                self.sessions[url] = (session, asyncio.create_task(session.run(), name=f"mtconnect {url}"))
                logger.info("Following MTConnect agent %s for %d machine(s)", url, len(machines))

    async def _stop_sessions(self, urls: list[str]) -> None:
        """Each session finishes the document in hand, then ends."""
        stopping = [self.sessions.pop(url) for url in urls]
        for session, _ in stopping:
            session.stop()
        await asyncio.gather(*(task for _, task in stopping), return_exceptions=True)
