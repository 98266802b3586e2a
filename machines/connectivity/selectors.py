import datetime as dt

from django.db import close_old_connections
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from machines.choices import MachineState
from machines.connectivity.collector import MachineConfig
from machines.models import Machine, MachineConnection, MachineStateEvent


def connection_cursor(*, machine_id: int) -> tuple[str, int] | None:
    """Where the collector resumes reading the machine's agent: (instanceId, the first sequence not yet applied),
    or None before its first observation."""
    cursor = (MachineConnection.objects.filter(machine_id=machine_id)
              .values_list("instance_id", "next_sequence").first())
    if cursor is None or not cursor[0] or cursor[1] is None:
        return None
    return cursor[0], cursor[1]


def stops_unexplained(*, machine_id: int, now: dt.datetime | None = None,
                      since: dt.datetime | None = None) -> QuerySet[MachineStateEvent]:
    """The machine's stops and alarms (states only an operation on the machine makes: machines/connectivity/
    timeline.py) longer than its `unexplained_stop_seconds` that have no reason yet, oldest first; the open one
    counts by its length so far. `since`: only those still going on or ended after it. Explain one with
    machines.connectivity.services.stop_explain."""
    now = now or timezone.now()
    threshold = dt.timedelta(seconds=Machine.objects.values_list("unexplained_stop_seconds", flat=True)
                             .get(pk=machine_id))
    stops = MachineStateEvent.objects.filter(machine_id=machine_id, state__in=MachineState.stops(),
                                             reason__isnull=True)
    if since is not None:
        stops = stops.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=since))
    return stops.filter(
        Q(ended_at__isnull=True, started_at__lt=now - threshold) | Q(ended_at__gt=F("started_at") + threshold)
    ).order_by("started_at")


def machines_to_collect() -> list[MachineConfig]:
    """Active machines with an MTConnect agent and device configured: what the collector follows."""
    close_old_connections()  # the collector re-reads this every few seconds for weeks
    rows = (
        Machine.objects.filter(active=True).exclude(mtconnect_agent_url="").exclude(mtconnect_device="")
        .order_by("pk").values_list("pk", "mtconnect_agent_url", "mtconnect_device")
    )
    return [MachineConfig(machine_id=pk, agent_url=url, device=device) for pk, url, device in rows]
