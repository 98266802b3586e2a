import datetime as dt

from django.db import close_old_connections
from django.db.models import DurationField, ExpressionWrapper, F, IntegerField, Q, QuerySet, Subquery, Value
from django.db.models.fields.json import KT
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
    machines.connectivity.services.stop_explain. One query, whose threshold is the machine's column, so that it can
    be a subquery too (the terminal's version counts it on every poll)."""
    now = now or timezone.now()
    # SQLite multiplies a duration by a plain integer only, not by a positive integer column as such.
    seconds = ExpressionWrapper(F("machine__unexplained_stop_seconds"), output_field=IntegerField())
    threshold = ExpressionWrapper(seconds * Value(dt.timedelta(seconds=1)), output_field=DurationField())
    stops = MachineStateEvent.objects.filter(machine_id=machine_id, state__in=MachineState.stops(),
                                             reason__isnull=True)
    if since is not None:
        # A machine's intervals never overlap: those that end after `since` are the ones that start after it and
        # the one going on at it. Read so, the index on (machine, started_at) finds them without reading the
        # machine's whole history.
        going_on = (MachineStateEvent.objects.filter(machine_id=machine_id, started_at__lte=since)
                    .order_by("-started_at").values("pk")[:1])
        stops = stops.filter(Q(started_at__gt=since) | Q(pk=Subquery(going_on)))
    return stops.alias(threshold=threshold).filter(
        Q(ended_at__isnull=True, started_at__lt=Value(now) - F("threshold"))
        | Q(ended_at__gt=F("started_at") + F("threshold"))
    ).order_by("started_at")


def part_count_value(value: object) -> int | None:
    """A part counter as the signals keep it (text, "17"), or None when there is none: never reported, or
    UNAVAILABLE. The counter read is `part_count` (MTConnect PartCount without a subType or of subType ALL, an edge
    device's part_count): every part, or good parts only where the machine is set so."""
    text = "" if value is None else str(value).strip()
    return int(text) if text.isdigit() else None


def machine_part_count(*, machine_id: int) -> int | None:
    """The machine's part counter as its signals last said, or None."""
    value = (MachineConnection.objects.filter(machine_id=machine_id)
             .values_list(KT("signals__part_count"), flat=True).first())
    return part_count_value(value)


def machines_to_collect() -> list[MachineConfig]:
    """Active machines with an MTConnect agent and device configured: what the collector follows."""
    close_old_connections()  # the collector re-reads this every few seconds for weeks
    rows = (
        Machine.objects.filter(active=True).exclude(mtconnect_agent_url="").exclude(mtconnect_device="")
        .order_by("pk").values_list("pk", "mtconnect_agent_url", "mtconnect_device")
    )
    return [MachineConfig(machine_id=pk, agent_url=url, device=device) for pk, url, device in rows]
