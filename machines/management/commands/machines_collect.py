import asyncio
import datetime as dt
import logging
import signal
from collections.abc import Mapping, Sequence

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from machines.connectivity import selectors, services
from machines.connectivity.collector import Collector, Settings
from machines.connectivity.observations import Observation
from machines.connectivity.selectors import machines_to_collect

logger = logging.getLogger(__name__)


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

    def handle(self, *args, reload_every, poll_interval, lost_after, backoff_max, no_stream, **options):
        settings = Settings(reload_every=reload_every, poll_interval=poll_interval, lost_after=lost_after,
                            backoff_max=backoff_max, stream=not no_stream)
        asyncio.run(self._run(Collector(DatabaseSink(), machines_to_collect, settings)))
        self.stdout.write("Collector stopped.")

    async def _run(self, collector: Collector) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        logger.info("Collector started")
        await collector.run(stop)
