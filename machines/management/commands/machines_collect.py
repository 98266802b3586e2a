import asyncio
import importlib
import logging
import signal

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from machines.connectivity.collector import Collector, MachineConfig, Settings, Sink
from machines.models import Machine

logger = logging.getLogger(__name__)


def machines_to_collect() -> list[MachineConfig]:
    """Active machines with an MTConnect agent and device configured."""
    close_old_connections()
    rows = (
        Machine.objects.filter(active=True).exclude(mtconnect_agent_url="").exclude(mtconnect_device="")
        .order_by("pk").values_list("pk", "mtconnect_agent_url", "mtconnect_device")
    )
    return [MachineConfig(machine_id=pk, agent_url=url, device=device) for pk, url, device in rows]


class _Services:
    """The connectivity services as the collector's sink. They run in the collector's worker threads for weeks:
    each call first drops a connection the database has closed (CONN_MAX_AGE applies, as per request)."""

    def __init__(self) -> None:
        # By name, on first use: the services module belongs to the database side of connectivity.
        self._services = importlib.import_module("machines.connectivity.services")

    def __getattr__(self, name: str):
        function = getattr(self._services, name)

        def call(**kwargs):
            close_old_connections()
            return function(**kwargs)

        return call


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
        sink: Sink = _Services()  # type: ignore[assignment]  # a module's functions, called by keyword
        asyncio.run(self._run(Collector(sink, machines_to_collect, settings)))
        self.stdout.write("Collector stopped.")

    async def _run(self, collector: Collector) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        logger.info("Collector started")
        await collector.run(stop)
