"""The open end of a monitored machine's status log, changed in memory and written at once."""

import datetime as dt

from machines.connectivity.signals import signals_of
from machines.connectivity.timeline import Context, Derived, state_derive
from machines.models import MachineConnection, MachineStateEvent


def connection_derive(connection: MachineConnection, *, connected: bool | None = None) -> Derived:
    """The state the machine's latest signals and its operator's declared activity make (`connected=False`: the
    signals are not known)."""
    connected = connection.connected if connected is None else connected
    signals = signals_of(connection.signals, connected=connected, error="" if connected else connection.last_error)
    return state_derive(signals, Context(connection.context_state, connection.context_reason_id))


class StateLog:
    """A batch of state changes of one machine, whose lock the caller holds: the open interval is closed where the
    next one begins, the new ones are inserted in one statement with their running totals (`seconds_before`).
    Times are kept inside [the start of the open interval, now]: a machine's clock ahead of Spindle's, or a signal
    older than the operator's last change, never writes an interval into the future or over a closed one. Two
    changes at one instant leave the second."""

    def __init__(self, machine_id: int, *, now: dt.datetime):
        self.machine_id, self.now = machine_id, now
        self.open = MachineStateEvent.objects.filter(machine_id=machine_id, ended_at__isnull=True).first()
        self.before = None if self.open else (
            MachineStateEvent.objects.filter(machine_id=machine_id).order_by("-started_at").first())
        self.closed: MachineStateEvent | None = None  # the stored open interval, once closed here
        self.added: list[MachineStateEvent] = []

    def clamp(self, at: dt.datetime) -> dt.datetime:
        at = min(at, self.now)
        if self.open is not None:
            return max(at, self.open.started_at)
        if self.before is not None and self.before.ended_at is not None:
            return max(at, self.before.ended_at)
        return at

    def change(self, at: dt.datetime, derived: Derived, *, source: str, note: str = "") -> None:
        """From `at` on the machine is in `derived`; nothing changes when it is already (an interval the operator
        explained keeps its reason)."""
        at = self.clamp(at)
        current = self.open
        if current is not None and current.state == derived.state and derived.reason_id in (None, current.reason_id):
            return
        if current is not None and current.pk is None and current.started_at == at:
            self.added.pop()  # an interval of no length: the one before it is open again, then changes
            self.open = self.added[-1] if self.added else self.closed
            if self.open is not None:
                self.open.ended_at = None
            self.closed = None if self.open is self.closed else self.closed
            self.change(at, derived, source=source, note=note)
            return
        totals_from = current or self.before
        if current is not None:
            current.ended_at = at
            if current.pk is not None:
                self.closed = current
        self.open = MachineStateEvent(
            machine_id=self.machine_id, state=derived.state, reason_id=derived.reason_id, started_at=at,
            source=source, note=(note or derived.note)[:200],
            seconds_before=totals_from.seconds_after() if totals_from else {},
        )
        self.added.append(self.open)

    def write(self) -> MachineStateEvent | None:
        """Two statements at most; returns the open interval."""
        if self.closed is not None:
            MachineStateEvent.objects.filter(pk=self.closed.pk).update(ended_at=self.closed.ended_at)
        if self.added:
            MachineStateEvent.objects.bulk_create(self.added)
        return self.open
