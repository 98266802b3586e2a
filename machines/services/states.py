import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from core.errors import ApplicationError, Conflict
from core.permissions import require_perm
from machines.choices import MachineState, StateSource
from machines.connectivity.statelog import StateLog, connection_derive
from machines.models import DowntimeReason, Machine, MachineConnection, MachineStateEvent


def lock_machine(machine_id: int) -> Machine:
    return Machine.objects.select_for_update().get(pk=machine_id)


def state_reason_check(state: str, reason: DowntimeReason | None) -> None:
    if state in (MachineState.DOWN, MachineState.PLANNED_DOWN) and reason is None:
        raise ApplicationError("Down time needs a reason.", field="reason")
    if reason is not None and reason.planned != (state == MachineState.PLANNED_DOWN):
        kind = "planned" if reason.planned else "unplanned"
        raise ApplicationError(f"'{reason.label}' is a {kind} reason; it does not fit {state}.", field="reason")


# States on a monitored machine that only the operator's declaration makes: what it does (setup) or why it stands
# (a pause with its reason). Every other state there is the machine's signals speaking.
OPERATOR_DECLARED = (MachineState.SETUP, MachineState.DOWN, MachineState.PLANNED_DOWN)


@transaction.atomic
def machine_state_change(*, machine_id: int, state: str, user=None, at: dt.datetime | None = None,
                         reason: DowntimeReason | None = None, source: str = StateSource.TERMINAL,
                         note: str = "") -> MachineStateEvent | None:
    """Close the machine's open state at `at` and open `state` from then on: no gap, no overlap.
    `user` is None only for Spindle's own tasks (machine monitoring).
    On a monitored machine (one with a MachineConnection) `state` is what the operator declares: the state written
    is the one its latest signals and that declaration make (machines/connectivity/timeline.py)."""
    if user is not None or source != StateSource.MTCONNECT:
        require_perm(user, "machines.report_machine_state")
    state_reason_check(state, reason)
    at = at or timezone.now()
    machine = lock_machine(machine_id)
    connection = MachineConnection.objects.filter(machine=machine).first()
    if connection is not None:
        connection.context_state, connection.context_reason = state, reason
        connection.save(update_fields=["context_state", "context_reason", "updated_at"])
        derived = connection_derive(connection)
        if derived.state not in OPERATOR_DECLARED:
            # The signals decided it (running, stopped, alarm, idle, disconnected): the machine measured it, even
            # when the operator's tap made Spindle look, so the reports count it as the machine's own time.
            source = StateSource.API if machine.signal_device_id else StateSource.MTCONNECT
        log = StateLog(machine.pk, now=max(at, timezone.now()))
        log.change(at, derived, source=source, note=note)
        log.write()
        return log.open
    current = MachineStateEvent.objects.filter(machine=machine, ended_at__isnull=True).first()
    previous = current or MachineStateEvent.objects.filter(machine=machine).order_by("-started_at").first()
    if current is not None:
        if at < current.started_at:
            raise Conflict(f"{machine.code} has been {current.state} since {current.started_at:%Y-%m-%d %H:%M}; "
                           "a change cannot start before that.", field="at")
        if current.state == state and current.reason_id == (reason.pk if reason else None):
            return current  # a repeated report changes nothing
        current.ended_at = at
        current.save(update_fields=["ended_at"])
    event = MachineStateEvent(machine=machine, state=state, reason=reason, started_at=at, source=source, note=note,
                              seconds_before=previous.seconds_after() if previous else {})
    event.full_clean()
    event.save()
    return event


@dataclass(frozen=True)
class Interval:
    state: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    reason: DowntimeReason | None = None


@transaction.atomic
def state_events_import(*, machine_id: int, intervals: Iterable[Interval], user,
                        source: str = StateSource.SYSTEM, batch_size: int = 5000) -> int:
    """Append a machine's past states in bulk (a backfill or a move from another system).
    They must be ordered, must not overlap each other, and must start after the machine's last event;
    only the last one may stay open."""
    require_perm(user, "machines.report_machine_state")
    machine = lock_machine(machine_id)
    last = MachineStateEvent.objects.filter(machine=machine).order_by("-started_at").first()
    if last is not None and last.ended_at is None:
        raise Conflict(f"{machine.code} has an open state; close it before importing history.")
    previous_end = last.ended_at if last else None
    totals = last.seconds_after() if last else {}
    rows, open_seen = [], False
    for interval in intervals:
        if open_seen:
            raise ApplicationError("Only the last imported interval may be open.")
        if previous_end is not None and interval.started_at < previous_end:
            raise ApplicationError(f"Intervals overlap at {interval.started_at:%Y-%m-%d %H:%M}.")
        if interval.ended_at is not None and interval.ended_at < interval.started_at:
            raise ApplicationError(f"An interval ends before it starts at {interval.started_at:%Y-%m-%d %H:%M}.")
        state_reason_check(interval.state, interval.reason)
        open_seen = interval.ended_at is None
        previous_end = interval.ended_at
        row = MachineStateEvent(machine=machine, state=interval.state, reason=interval.reason,
                                started_at=interval.started_at, ended_at=interval.ended_at, source=source,
                                seconds_before=totals)
        rows.append(row)
        totals = row.seconds_after()
    MachineStateEvent.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)


# The running totals of each machine's status log, recomputed from the intervals: the backfill, and the
# repair after rows were changed by hand. One statement on PostgreSQL.
STATE_TOTALS_SQL = """
    UPDATE machines_machinestateevent e SET seconds_before = t.totals
    FROM (
        SELECT id, jsonb_strip_nulls(jsonb_build_object(%s)) AS totals
        FROM (SELECT id, machine_id, started_at, state, EXTRACT(EPOCH FROM ended_at - started_at)::float8 AS seconds
              FROM machines_machinestateevent %s) d
        WINDOW w AS (PARTITION BY machine_id ORDER BY started_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
    ) t
    WHERE t.id = e.id AND e.seconds_before IS DISTINCT FROM t.totals
"""


def state_totals_rebuild(*, machine_ids: Iterable[int] | None = None) -> int:
    """Recompute `seconds_before` of every interval (of the given machines); returns the rows changed."""
    ids = list(machine_ids) if machine_ids is not None else None
    if connection.vendor == "postgresql":
        states = [state for state, _ in MachineState.choices]
        build = ", ".join(f"'{state}', NULLIF(SUM(seconds) FILTER (WHERE state = '{state}') OVER w, 0)"
                          for state in states)
        where = "WHERE machine_id = ANY(%s)" if ids is not None else ""
        with connection.cursor() as cursor:
            cursor.execute(STATE_TOTALS_SQL % (build, where), [ids] if ids is not None else [])
            return cursor.rowcount
    changed = 0
    machines = Machine.objects.filter(pk__in=ids) if ids is not None else Machine.objects.all()
    for machine_id in machines.values_list("pk", flat=True):
        totals: dict[str, float] = {}
        for event in MachineStateEvent.objects.filter(machine_id=machine_id).order_by("started_at", "pk"):
            if event.seconds_before != totals:
                event.seconds_before = totals
                event.save(update_fields=["seconds_before"])
                changed += 1
            totals = event.seconds_after()
    return changed
