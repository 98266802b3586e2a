"""The open end of a monitored machine's status log, changed in memory and written at once."""

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Field, Model

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
        self._open: MachineStateEvent | None = None
        self.before: MachineStateEvent | None = None
        self._read = False
        self.closed: MachineStateEvent | None = None  # the stored open interval, once closed here
        self.added: list[MachineStateEvent] = []

    @property
    def open(self) -> MachineStateEvent | None:
        """The open interval, read when first asked for: most batches of signals change no value a state depends
        on, and then cost no query here."""
        if not self._read:
            self._open = MachineStateEvent.objects.filter(machine_id=self.machine_id, ended_at__isnull=True).first()
            self.before = None if self._open else (
                MachineStateEvent.objects.filter(machine_id=self.machine_id).order_by("-started_at").first())
            self._read = True
        return self._open

    @open.setter
    def open(self, event: MachineStateEvent | None) -> None:
        self._open = event

    @staticmethod
    def read_open(logs: Iterable["StateLog"]) -> None:
        """The open intervals of several machines' logs in one query (a log without one reads on its own)."""
        unread = {log.machine_id: log for log in logs if not log._read}
        for event in MachineStateEvent.objects.filter(machine_id__in=list(unread), ended_at__isnull=True):
            log = unread[event.machine_id]
            log._open, log._read = event, True

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

    def write(self) -> None:
        """Two statements at most."""
        StateLog.write_all([self])

    @staticmethod
    def write_all(logs: Iterable["StateLog"]) -> None:
        """Several machines' logs in two statements at most."""
        logs = list(logs)
        closed = [log.closed for log in logs if log.closed is not None]
        added = [event for log in logs for event in log.added]
        rows_update(closed, ["ended_at"])
        if added:
            MachineStateEvent.objects.bulk_create(added)


def rows_update(objects: Sequence[Model], fields: Sequence[str]) -> None:
    """Write these fields of each object to its row, in one statement: what bulk_update does without its CASE
    expressions, which cost Django about a millisecond of Python per row and field. On PostgreSQL an UPDATE from a
    VALUES list (one round trip), elsewhere one statement executed for every row."""
    if not objects:
        return
    meta = type(objects[0])._meta
    key = meta.pk
    assert isinstance(key, Field)
    columns = [field for name in fields if isinstance(field := meta.get_field(name), Field)]
    quote = connection.ops.quote_name
    table, where = quote(meta.db_table), quote(key.column or key.attname)
    rows = [[obj.pk, *(field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns)]
            for obj in objects]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            values = ", ".join(["(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"] * len(rows))
            names = ", ".join(f"c{n}" for n in range(len(columns)))
            assignments = ", ".join(f"{quote(field.column or field.attname)} = v.c{n}::{field.cast_db_type(connection)}"
                                    for n, field in enumerate(columns))
            cursor.execute(f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v(k, {names}) "  # noqa: S608
                           f"WHERE {table}.{where} = v.k", [value for row in rows for value in row])
        else:
            assignments = ", ".join(f"{quote(field.column or field.attname)} = %s" for field in columns)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {where} = %s",  # noqa: S608
                               [[*row[1:], row[0]] for row in rows])
