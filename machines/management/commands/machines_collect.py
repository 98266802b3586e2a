import asyncio
import datetime as dt
import logging
import signal
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from machines.connectivity import selectors, services
from machines.connectivity.collector import Collector, Settings
from machines.connectivity.observations import Observation
from machines.connectivity.selectors import machines_to_collect

logger = logging.getLogger(__name__)

# While it runs, the collector touches this file every HEARTBEAT_SECONDS; `--health` (a container's health check)
# calls it dead when the file is older than HEARTBEAT_STALE_SECONDS or missing (removed on a clean stop).
HEARTBEAT_FILE = Path(tempfile.gettempdir()) / "spindle-collector.heartbeat"
HEARTBEAT_SECONDS = 10
HEARTBEAT_STALE_SECONDS = 60


class DatabaseSink:
    """The collector's sink: the connectivity services and the cursor selector. They run in the collector's worker
    threads for weeks: each call first drops a connection the database has closed (CONN_MAX_AGE applies, as per
    request)."""

    def connection_cursor(self, *, machine_id: int) -> tuple[str, int] | None:
        close_old_connections()
        return selectors.connection_cursor(machine_id=machine_id)

    def connections_ingest(self, *, instance_id: str, next_sequence: int,
                           batches: Mapping[int, Sequence[Observation]]) -> dict[int, int]:
        close_old_connections()
        return services.connections_ingest(instance_id=instance_id, next_sequence=next_sequence, batches=batches)

    def connection_gap(self, *, machine_id: int, instance_id: str, since: dt.datetime, until: dt.datetime,
                       next_sequence: int) -> None:
        close_old_connections()
        services.connection_gap(machine_id=machine_id, instance_id=instance_id, since=since, until=until,
                                next_sequence=next_sequence)

    def connection_lost(self, *, machine_id: int, at: dt.datetime, error: str) -> None:
        close_old_connections()
        services.connection_lost(machine_id=machine_id, at=at, error=error)


class Command(BaseCommand):
    help = ("Follow the machines' MTConnect agents (Machine.mtconnect_agent_url and mtconnect_device) and record "
            "what the machines report. Runs until SIGTERM or SIGINT, then finishes the batch in hand and exits.")

    def add_arguments(self, parser):
        defaults = Settings()
        parser.add_argument("--reload-every", type=float, default=defaults.reload_every,
                            help="Seconds between reads of the machines' configuration.")
        parser.add_argument("--poll-interval", type=float, default=defaults.poll_interval,
                            help="Seconds between polls of an agent that does not stream.")
        parser.add_argument("--lost-after", type=float, default=defaults.lost_after,
                            help="Seconds an agent may be unreachable before its machines show disconnected.")
        parser.add_argument("--backoff-max", type=float, default=defaults.backoff_max,
                            help="Longest wait, in seconds, between reconnection attempts.")
        parser.add_argument("--no-stream", action="store_true", help="Poll every agent; never ask to stream.")
        parser.add_argument("--heartbeat-file", type=Path, default=HEARTBEAT_FILE,
                            help=f"Touched every {HEARTBEAT_SECONDS} s while the collector runs.")
        parser.add_argument("--health", action="store_true",
                            help=f"Do not collect: exit 0 when a running collector touched its heartbeat file in "
                                 f"the last {HEARTBEAT_STALE_SECONDS} s, else 1 (a container's health check).")

    def handle(self, *args, reload_every, poll_interval, lost_after, backoff_max, no_stream, heartbeat_file, health,
               **options):
        if health:
            self._check_health(heartbeat_file)
            return
        settings = Settings(reload_every=reload_every, poll_interval=poll_interval, lost_after=lost_after,
                            backoff_max=backoff_max, stream=not no_stream)
        asyncio.run(self._run(Collector(DatabaseSink(), machines_to_collect, settings), heartbeat_file))
        self.stdout.write("Collector stopped.")

    def _check_health(self, heartbeat_file: Path) -> None:
        try:
            age = time.time() - heartbeat_file.stat().st_mtime
        except FileNotFoundError:
            raise CommandError(f"No collector runs: {heartbeat_file} does not exist.") from None
        if age > HEARTBEAT_STALE_SECONDS:
            raise CommandError(f"The collector is stuck or gone: its heartbeat is {age:.0f} s old.")
        self.stdout.write(f"The collector runs: its heartbeat is {age:.0f} s old.")

    async def _run(self, collector: Collector, heartbeat_file: Path) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        logger.info("Collector started")
        heartbeat = asyncio.create_task(_heartbeat(heartbeat_file, stop))
        try:
            await collector.run(stop)
        finally:
            stop.set()
            await heartbeat


async def _heartbeat(path: Path, stop: asyncio.Event) -> None:
    """Touch the file as long as the collector's event loop turns; remove it when the collector stops."""
    try:
        while not stop.is_set():
            path.touch()
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=HEARTBEAT_SECONDS)
    except OSError as exc:
        logger.error("Cannot touch the heartbeat file %s (the health check will fail): %s", path, exc)
    finally:
        with suppress(OSError):
            path.unlink()
