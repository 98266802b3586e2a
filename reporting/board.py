"""The live machine board: every active machine's state, current and next operation, and the header's counts,
read from machines and jobs in a fixed number of queries; `board_version` tells a poll whether anything changed."""

import datetime as dt
import itertools
from dataclasses import dataclass

from django.db.models import (
    BigIntegerField,
    F,
    Func,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.fields.json import KT, KeyTextTransform
from django.db.models.functions import MD5, Cast, Coalesce, Concat, Ord, Substr

from core.cache import cache_get, cache_set
from core.db import fingerprint, latest, scalars
from jobs.choices import OperationStatus
from jobs.models import Job, JobOperation, LabourEntry, ProductionEntry, ScheduleRun
from jobs.programs import program_mismatch
from jobs.selectors import dispatch_version, jobs_late, next_operation_by_machine, with_quantities
from machines.choices import MachineState
from machines.models import Machine, MachineConnection, MachineStateEvent, WorkCenter
from machines.selectors import machine_list

# The header's machine counts. Down and planned down are shown apart; off shift and unknown (or a machine that has
# no state yet) are "other".
BOARD_COUNTS = (
    ("running", "Running", (MachineState.RUNNING,)),
    ("setup", "Setup", (MachineState.SETUP,)),
    ("down", "Down (unplanned)", (MachineState.DOWN,)),
    ("stopped", "Stopped / alarm", (MachineState.STOPPED, MachineState.ALARM)),
    ("planned_down", "Planned down", (MachineState.PLANNED_DOWN,)),
    ("idle", "Idle", (MachineState.IDLE,)),
    ("other", "Off shift / unknown", (MachineState.OFF_SHIFT, MachineState.UNKNOWN, MachineState.DISCONNECTED)),
)

# Short enough for a tile's band; the header says that down is unplanned.
BOARD_STATE_LABELS = {MachineState.DOWN: "Down"}


def board_version(*, today: dt.date) -> str:
    """A fingerprint of everything the board shows, read in one query, so that a poll which finds nothing changed
    costs next to nothing. An operation action that changes its operation saves it (updated_at); state changes,
    labour and production (a report) append rows (pk); jobs, machines and work centers carry updated_at;
    publishing a schedule changes the next jobs; a machine's connection coming or going changes the sum of the
    connected machines' ids or the time of the latest connection error (not every observation, which saves the
    connection too); the programs the machines report, as a checksum (a tile warns when its machine runs another
    program than its operation's). Today's date is part of it so that "late" turns over at midnight."""
    values = scalars(
        latest(MachineStateEvent.objects.all(), "pk"),
        latest(LabourEntry.objects.all(), "pk"),
        latest(ProductionEntry.objects.all(), "pk"),
        latest(JobOperation.objects.all(), "updated_at"),
        latest(Job.objects.all(), "updated_at"),
        latest(Machine.objects.all(), "updated_at"),
        latest(WorkCenter.objects.all(), "updated_at"),
        latest(ScheduleRun.objects.filter(published=True), "pk"),
        MachineConnection.objects.filter(connected=True).values("connected").annotate(ids=Sum("machine_id"))
        .values("ids"),
        latest(MachineConnection.objects.filter(last_error_at__isnull=False), "last_error_at"),
        _programs_checksum(),
    )
    return fingerprint(*values, today.isoformat())


def _programs_checksum() -> QuerySet:
    """A number that changes when any machine's reported program does, in SQL that PostgreSQL and SQLite share: the
    sum over machines of the first six hex digits of MD5(machine:program), read as character codes. A sum needs no
    order (the rows of connections move on every observation); a collision would only delay a warning to the
    board's next change."""
    text = TextField()
    program = Coalesce(KT("signals__program"), Value("", output_field=text))
    digest = MD5(Concat(Cast("machine_id", text), Value(":", output_field=text), program, output_field=text))
    code = sum(Cast(Ord(Substr(digest, place + 1, 1)), BigIntegerField()) * 128**place for place in range(6))
    # SUM as a plain function, not an aggregate: no GROUP BY, one row over every connection.
    return MachineConnection.objects.order_by().values(total=Func(code, function="SUM", output_field=BigIntegerField()))


def _duration_text(seconds: int) -> str:
    minutes = seconds // 60
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // (24 * 60)} d {minutes // 60 % 24} h"


@dataclass(frozen=True)
class SignalStatus:
    """A monitored machine's connection as its tile shows it: live, lost since when and why, or not heard yet."""

    connected: bool
    error: str = ""
    lost_at: dt.datetime | None = None


@dataclass(frozen=True)
class BoardTile:
    machine: Machine
    state: str
    state_since: dt.datetime | None
    state_reason: str
    operation: JobOperation | None  # with good_quantity and scrap_quantity
    operators: tuple[str, ...]
    next_operation: JobOperation | None
    today: dt.date
    now: dt.datetime
    signal: SignalStatus | None = None  # None: the machine has no agent or edge device
    state_note: str = ""  # what the machine's signals say of its state ("Feed hold", an alarm's text)
    control_program: str = ""  # the program its control reports running

    @property
    def state_label(self) -> str:
        return BOARD_STATE_LABELS.get(self.state) or MachineState(self.state).label

    @property
    def seconds_in_state(self) -> int | None:
        return None if self.state_since is None else max(0, int((self.now - self.state_since).total_seconds()))

    @property
    def time_in_state(self) -> str:
        return "" if self.seconds_in_state is None else _duration_text(self.seconds_in_state)

    @property
    def late(self) -> bool:
        return self.operation is not None and self.operation.job.due_date < self.today

    @property
    def next_late(self) -> bool:
        return self.next_operation is not None and self.next_operation.job.due_date < self.today

    @property
    def first_article_waiting(self) -> bool:
        return self.operation is not None and self.operation.status == OperationStatus.FIRST_ARTICLE

    @property
    def signal_lost_for(self) -> str:
        lost_at = self.signal and self.signal.lost_at
        return "" if not lost_at else _duration_text(max(0, int((self.now - lost_at).total_seconds())))

    @property
    def stop_note(self) -> str:
        """Why the machine says it stopped: its stops and alarms wait for a reason, and this is the first clue."""
        return self.state_note if self.state in MachineState.stops() else ""

    @property
    def program_warning(self) -> str:
        operation = self.operation
        if operation is None or operation.nc_program is None:
            return ""
        return program_mismatch(running=self.control_program, expected=operation.nc_program.program_number)

    @property
    def fingerprint(self) -> tuple:
        """Everything board_tile.html shows, so that a tile is drawn again only when it changes (views/board.py
        keeps drawn tiles by this). Keep it in step with the template."""
        machine, operation, following = self.machine, self.operation, self.next_operation
        return (
            machine.pk, machine.code, machine.name, self.state, self.state_since, self.state_reason,
            self.time_in_state, self.operators, self.late, self.next_late,
            None if operation is None else (
                operation.pk, operation.status, operation.operation_number, operation.name, operation.job.number,
                operation.job.due_date, operation.job.quantity, operation.job.part_revision.part.number,
                operation.job.part_revision.revision, operation.good_quantity, operation.scrap_quantity,
            ),
            None if following is None else (following.pk, following.job.number,
                                            following.job.part_revision.part.number),
            self.signal, self.signal_lost_for, self.stop_note, self.program_warning,
        )

    @property
    def progress_percent(self) -> int:
        if self.operation is None:
            return 0
        done = self.operation.good_quantity + self.operation.scrap_quantity
        return min(100, round(100 * done / self.operation.job.quantity))


@dataclass(frozen=True)
class BoardGroup:
    work_center: WorkCenter
    tiles: list[BoardTile]


@dataclass(frozen=True)
class BoardCount:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class Board:
    version: str
    today: dt.date
    generated_at: dt.datetime
    groups: list[BoardGroup]
    state_counts: dict[str, int]  # every machine state, zeros included
    late_jobs: int
    first_articles_waiting: int

    @property
    def header(self) -> list[BoardCount]:
        return [BoardCount(key, label, sum(self.state_counts[state] for state in states))
                for key, label, states in BOARD_COUNTS]

    @property
    def header_counts(self) -> dict[str, int]:
        return {count.key: count.count for count in self.header}

    @property
    def tiles(self) -> list[BoardTile]:
        return [tile for group in self.groups for tile in group.tiles]


def board_machines() -> QuerySet[Machine]:
    """Active machines with their current state and, when down, its reason; what their signals say of the state
    (its note), the program their control reports, and their connection's status."""
    open_event = MachineStateEvent.objects.filter(machine=OuterRef("pk"), ended_at__isnull=True)
    return machine_list().filter(active=True).annotate(
        state_reason=Subquery(open_event.values("reason__label")[:1]),
        state_note=Subquery(open_event.values("note")[:1]),
        control_program=KeyTextTransform("program", "connection__signals"),
        signal_connected=F("connection__connected"), signal_error=F("connection__last_error"),
        signal_error_at=F("connection__last_error_at"))


def _signal_status(machine: Machine) -> SignalStatus | None:
    """A board_machines() row's connection: None when nothing is set up to report for the machine."""
    if not (machine.mtconnect_agent_url and machine.mtconnect_device) and machine.signal_device_id is None:
        return None
    if machine.signal_connected:  # type: ignore[attr-defined]
        return SignalStatus(connected=True)
    return SignalStatus(connected=False, error=machine.signal_error or "",  # type: ignore[attr-defined]
                        lost_at=machine.signal_error_at)  # type: ignore[attr-defined]


def board_operations() -> list[JobOperation]:
    """Operations on a machine now, with their job, part and NC program, their quantities (one query for all) and their
    open labour entries (prefetched)."""
    open_labour = LabourEntry.objects.filter(ended_at__isnull=True).select_related("operator").order_by("started_at")
    return with_quantities(list(
        JobOperation.objects.select_related("job__part_revision__part", "nc_program")
        .filter(status__in=OperationStatus.active(), machine__isnull=False)
        .order_by("job__due_date", "job_id", "operation_number")
        .prefetch_related(Prefetch("labour_entries", queryset=open_labour, to_attr="open_labour"))
    ))


NEXT_OPERATIONS_CACHE_SECONDS = 60


def _next_operations() -> dict[int, JobOperation]:
    """next_operation_by_machine, read once per dispatch version: its query is a third of a board's render on a
    large shop, and what it answers changes with the dispatch lists' order, not with every report. What the
    version does not see (a part renamed) shows within NEXT_OPERATIONS_CACHE_SECONDS."""
    key = f"shopfloor:next-operations:{dispatch_version()}"
    operations = cache_get(key)
    if operations is None:
        operations = next_operation_by_machine()
        cache_set(key, operations, NEXT_OPERATIONS_CACHE_SECONDS)
    return operations


def machine_board(*, today: dt.date, now: dt.datetime, version: str | None = None) -> Board:
    """Every active machine as a tile, grouped by work center, with the header's counts: a fixed number of
    queries however many machines and operations there are."""
    # The version is read first: a change made while the board is read shows at the next poll, never is lost.
    version = version or board_version(today=today)
    current: dict[int, JobOperation] = {}
    first_articles = 0
    for operation in board_operations():
        current.setdefault(operation.machine_id, operation)
        first_articles += operation.status == OperationStatus.FIRST_ARTICLE
    next_operations = _next_operations()
    groups = []
    for _, machines in itertools.groupby(board_machines(), key=lambda machine: machine.work_center_id):
        tiles = []
        for machine in machines:
            operation = current.get(machine.pk)
            operators = () if operation is None else tuple(dict.fromkeys(
                entry.operator.get_full_name() or entry.operator.get_username() for entry in operation.open_labour
            ))
            tiles.append(BoardTile(
                machine=machine, state=machine.current_state or MachineState.UNKNOWN,
                state_since=machine.state_since, state_reason=machine.state_reason or "", operation=operation,
                operators=operators, next_operation=next_operations.get(machine.pk), today=today, now=now,
                signal=_signal_status(machine),
                state_note=machine.state_note or "",  # type: ignore[attr-defined]
                control_program=machine.control_program or "",  # type: ignore[attr-defined]
            ))
        groups.append(BoardGroup(work_center=tiles[0].machine.work_center, tiles=tiles))
    state_counts = dict.fromkeys(MachineState.values, 0)
    for group in groups:
        for tile in group.tiles:
            state_counts[tile.state] += 1
    return Board(version=version, today=today, generated_at=now, groups=groups, state_counts=state_counts,
                 late_jobs=jobs_late(today=today).count(), first_articles_waiting=first_articles)
