"""The writes of machine connectivity: what the collector (MTConnect) and edge devices call, and the operator's
explanation of a stop. Each is one transaction under the machine's lock (machines.services.states.lock_machine), so two
calls for one machine take turns, and each is idempotent under replay. Observations are folded into the machine's
latest signal values in memory; the state intervals they change are written at once (StateLog): a batch costs a
handful of queries however many observations it holds."""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from core.errors import ApplicationError, Conflict, Forbidden, NotFound
from core.permissions import require_perm
from core.roles import DEVICE, user_is_device
from machines.choices import MachineState, StateSource
from machines.connectivity.observations import Observation
from machines.connectivity.signals import signal_key, signal_record
from machines.connectivity.statelog import StateLog, connection_derive, rows_update
from machines.models import DowntimeReason, Machine, MachineConnection, MachineStateEvent
from machines.services.states import lock_machine, state_reason_check

# An edge device's clock may run this far ahead of Spindle's: its times are then taken as now. Beyond it a batch
# is refused, so that a device set to the wrong time is noticed rather than shifting the log.
EDGE_CLOCK_TOLERANCE = dt.timedelta(seconds=60)
GAP_NOTE = "Observations lost (the agent's buffer overran)"


def _lock(machine_id: int) -> Machine:
    try:
        return lock_machine(machine_id)
    except Machine.DoesNotExist:
        raise NotFound(f"There is no machine {machine_id}.") from None


def _connection(machine: Machine) -> MachineConnection:
    """The machine's connection row (read already where several machines were locked at once); a new one takes the
    terminal's current state as the operator's context, since until now the terminal alone kept the log."""
    try:
        return machine.connection
    except MachineConnection.DoesNotExist:
        current = MachineStateEvent.objects.filter(machine=machine, ended_at__isnull=True).first()
        connection = MachineConnection(machine=machine)
        if current is not None:
            connection.context_state, connection.context_reason_id = current.state, current.reason_id
        return connection


def _observations_apply(connection: MachineConnection, observations: Sequence[Observation], *, source: str,
                        log: StateLog) -> None:
    """Fold the observations (in order) into the latest values; a value that changes the derived state closes the
    open interval at its time and opens the new state, in the log (which the caller writes)."""
    if not connection.connected:  # back after a lost connection: the state follows the signals again
        connection.connected = True
        log.change(observations[0].timestamp if observations else log.now, connection_derive(connection),
                   source=source)
    values = connection.signals
    for observation in observations:
        if signal_record(values, observation):
            log.change(observation.timestamp, connection_derive(connection), source=source)
    if observations:
        last = max(observation.timestamp for observation in observations)
        connection.last_observation_at = max(last, connection.last_observation_at or last)


def connection_ingest(*, machine_id: int, instance_id: str, observations: Sequence[Observation],
                      next_sequence: int) -> int:
    """Apply the observations of the machine's device, in sequence order, and store where to resume. An observation
    of the stored instance with a sequence below the stored next one was applied before and is skipped: a replay or
    a restarted collector adds nothing twice; a new instanceId (the agent restarted) starts a new sequence.
    Returns how many were applied."""
    return connections_ingest(instance_id=instance_id, next_sequence=next_sequence,
                              batches={machine_id: observations})[machine_id]


_CONNECTION_FIELDS = [field.name for field in MachineConnection._meta.concrete_fields if not field.primary_key]


@transaction.atomic
def connections_ingest(*, instance_id: str, next_sequence: int,
                       batches: Mapping[int, Sequence[Observation]]) -> dict[int, int]:
    """connection_ingest for several machines of one agent at once (one document: one instanceId and next sequence),
    by machine id: one transaction, the machines locked in id order in one query, their connections read in one,
    their open intervals in one, and what changed written in four statements at most, however many machines. An
    agent's document holds many machines, and a transaction and a few queries for each cost more than the rest of
    the collector's work. Returns how many observations each machine applied."""
    machines = list(Machine.objects.select_for_update().filter(pk__in=batches).order_by("pk"))
    if len(machines) != len(batches):
        raise NotFound(f"There is no machine {min(set(batches) - {machine.pk for machine in machines})}.")
    # Read after the locks, not joined to them: a join would show a connection as it stood before the wait.
    connections = MachineConnection.objects.in_bulk(list(batches))
    for machine in machines:
        if machine.pk in connections:
            machine.connection = connections[machine.pk]
    now = timezone.now()
    logs = [StateLog(machine.pk, now=now) for machine in machines]
    StateLog.read_open(logs)
    applied: dict[int, int] = {}
    stored: list[MachineConnection] = []
    new: list[MachineConnection] = []
    for machine, log in zip(machines, logs, strict=True):
        connection = _connection(machine)
        applied_below = connection.next_sequence if connection.instance_id == instance_id else None
        fresh = [observation for observation in batches[machine.pk]
                 if not (applied_below is not None and observation.sequence is not None
                         and observation.sequence < applied_below)]
        _observations_apply(connection, fresh, source=StateSource.MTCONNECT, log=log)
        connection.next_sequence = next_sequence if applied_below is None else max(next_sequence, applied_below)
        connection.instance_id = instance_id
        connection.updated_at = now  # rows_update, like bulk_update, sets no auto_now field
        (new if connection._state.adding else stored).append(connection)
        applied[machine.pk] = len(fresh)
    StateLog.write_all(logs)
    rows_update(stored, _CONNECTION_FIELDS)
    if new:
        MachineConnection.objects.bulk_create(new)
    return applied


@transaction.atomic
def connection_gap(*, machine_id: int, instance_id: str, since: dt.datetime, until: dt.datetime,
                   next_sequence: int) -> None:
    """The agent's buffer overran: what the machine did between `since` and `until` is lost, so that interval is
    unknown time (the operator's declared pause excepted); from `until` on the latest values apply again, until the
    collector's next observations correct them."""
    machine = _lock(machine_id)
    connection = _connection(machine)
    if (connection.instance_id == instance_id and connection.next_sequence is not None
            and next_sequence <= connection.next_sequence):
        return  # recorded already
    log = StateLog(machine.pk, now=timezone.now())
    log.change(since, connection_derive(connection, connected=False), source=StateSource.MTCONNECT, note=GAP_NOTE)
    connection.connected = True
    log.change(until, connection_derive(connection), source=StateSource.MTCONNECT)
    log.write()
    connection.last_error, connection.last_error_at = GAP_NOTE, since
    connection.instance_id, connection.next_sequence = instance_id, next_sequence
    connection.save()


@transaction.atomic
def connection_lost(*, machine_id: int, at: dt.datetime, error: str) -> None:
    """The collector cannot reach the machine: from `at` on its time is unknown (disconnected) unless the operator
    declared a pause, and its connection status shows the error. A repeat only updates the error."""
    machine = _lock(machine_id)
    connection = _connection(machine)
    connection.connected = False
    connection.last_error, connection.last_error_at = error[:500], at
    log = StateLog(machine.pk, now=timezone.now())
    log.change(at, connection_derive(connection), source=StateSource.MTCONNECT)
    log.write()
    connection.save()


@dataclass(frozen=True)
class SignalsRecorded:
    applied: int
    duplicates: int
    state: str


@transaction.atomic
def machine_signals_record(*, machine_id: int, user, observations: Sequence[Observation]) -> SignalsRecorded:
    """An edge device's batch of signals for one of its machines. Rows are applied in time order (a stable sort:
    rows of one time keep their order); a row at or before the last applied time of its signal was applied before
    (a retried batch) or comes too late to change the log, and counts as a duplicate. A time up to
    EDGE_CLOCK_TOLERANCE ahead of Spindle's clock is taken as now; further ahead, the batch is refused."""
    require_perm(user, "machines.report_machine_signals")
    now = timezone.now()
    for row, observation in enumerate(observations):
        ahead = (observation.timestamp - now).total_seconds()
        if ahead > EDGE_CLOCK_TOLERANCE.total_seconds():
            raise ApplicationError(
                f"Row {row}: {observation.timestamp.isoformat()} is {ahead:.0f} s ahead of Spindle's clock (more "
                f"than {EDGE_CLOCK_TOLERANCE.total_seconds():.0f} s): set the device's clock.",
                field=f"[{row}].timestamp")
    machine = _lock(machine_id)
    if machine.signal_device_id != user.pk:
        raise Forbidden(f"This device does not report for {machine.code}.")
    connection = _connection(machine)
    last_at = {key: dt.datetime.fromisoformat(at) for key, at in connection.signals.get("at", {}).items()}
    fresh, duplicates = [], 0
    for observation in sorted(observations, key=lambda observation: observation.timestamp):
        key = signal_key(observation)
        if key in last_at and observation.timestamp <= last_at[key]:
            duplicates += 1
            continue
        last_at[key] = observation.timestamp
        fresh.append(observation)
    log = StateLog(machine.pk, now=now)
    _observations_apply(connection, fresh, source=StateSource.API, log=log)
    log.write()
    connection.save()
    current = log.open
    return SignalsRecorded(applied=len(fresh), duplicates=duplicates, state=current.state if current else "")


@transaction.atomic
def stop_explain(*, machine_id: int, event_id: int, reason_id: int, user) -> MachineStateEvent:
    """The operator says why the machine stopped: `reason_id` (an unplanned downtime reason) is set on the whole
    stop or alarm interval `event_id`, open or closed. The same reason again changes nothing; another one corrects
    it. Refused for an interval that is not a stop."""
    require_perm(user, "machines.report_machine_state")
    _lock(machine_id)
    event = MachineStateEvent.objects.filter(pk=event_id, machine_id=machine_id).first()
    if event is None:
        raise NotFound(f"Machine {machine_id} has no state interval {event_id}.")
    if event.state not in MachineState.stops():
        raise Conflict(f"That interval is {event.get_state_display().lower()}, not a stop: only a stop or an "
                       "alarm is explained here.", code="not_a_stop")
    reason = DowntimeReason.objects.filter(pk=reason_id, active=True).first()
    if reason is None:
        raise ApplicationError("Choose one of the active downtime reasons.", field="reason")
    state_reason_check(event.state, reason)  # a machine that stopped by itself is not planned down time
    if event.reason_id != reason.pk:
        event.reason = reason
        event.save(update_fields=["reason"])
    return event


@transaction.atomic
def device_token_create(*, name: str, machine_codes: Sequence[str]) -> str:
    """A device (a user of the role 'device', with no password) whose new token may post the signals of these
    machines and nothing else; an earlier token of the device stops working. Returns the token's key."""
    machines = list(Machine.objects.filter(code__in=machine_codes))
    missing = sorted(set(machine_codes) - {machine.code for machine in machines})
    if missing or not machines:
        raise ApplicationError(f"No machine {', '.join(missing)}." if missing else "Name at least one machine.",
                               field="machines")
    device, created = get_user_model().objects.get_or_create(username=name)
    if created:
        device.set_unusable_password()
        device.save(update_fields=["password"])
        device.groups.add(Group.objects.get(name=DEVICE))
    elif not user_is_device(device):
        raise Conflict(f"{name} is a person's account, not a device.", field="name")
    Machine.objects.filter(pk__in=[machine.pk for machine in machines]).update(signal_device=device,
                                                                                 updated_at=timezone.now())
    Token.objects.filter(user=device).delete()
    return Token.objects.create(user=device).key
