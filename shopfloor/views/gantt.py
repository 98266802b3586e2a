"""The Gantt of a schedule run as the planner's run page draws it (``_gantt.html``), and the rows of
its entries table (``_entries.html``): one row per machine, each operation a block placed in percent
of the run's span, its changeover before it, late and locked marks. A presentation model: it reads
the entries it is given (``jobs.selectors.schedule_entry_list``) and makes no query."""

import datetime as dt
import math
import zlib
from dataclasses import dataclass, field

from django.utils import timezone

from jobs.models import ScheduleEntry

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def when(moment: dt.datetime) -> str:
    """A moment in the shop's time zone, as the planner pages show it."""
    return f"{timezone.localtime(moment):%a %d %b %H:%M}"


@dataclass
class Block:
    entry: ScheduleEntry
    key: str  # "<job number>/<operation number>", as the engine and the terminal's scanner name it
    left: float
    width: float
    changeover_left: float
    changeover_width: float
    hue: int
    late: bool
    title: str


@dataclass
class GanttRow:
    machine_code: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Tick:
    left: float
    label: str


@dataclass
class Gantt:
    rows: list[GanttRow]
    ticks: list[Tick]
    starts_at: dt.datetime
    ends_at: dt.datetime
    width_px: int  # about 240 px a day, so that a day's operations can be read; the Gantt scrolls sideways


def job_hue(number: str) -> int:
    """A colour per job that stays the same from run to run and page to page."""
    return zlib.crc32(number.encode()) % 360


def due_end(due_date: dt.date) -> dt.datetime:
    """Due means by the end of the due date in the shop's time zone (as the problem builder counts it)."""
    return dt.datetime.combine(due_date + dt.timedelta(days=1), dt.time(), tzinfo=timezone.get_current_timezone())


@dataclass
class EntryRow:
    entry: ScheduleEntry
    key: str
    late: bool
    due: dt.datetime
    starts_local: str  # the move form's datetime-local value
    options: list
    hue: int


def entry_rows(entries: list[ScheduleEntry]) -> list[EntryRow]:
    rows = []
    for entry in entries:
        job = entry.operation.job
        due = due_end(job.due_date)
        rows.append(EntryRow(
            entry=entry, key=f"{job.number}/{entry.operation.operation_number}", late=entry.ends_at > due, due=due,
            starts_local=f"{timezone.localtime(entry.starts_at):{DATETIME_LOCAL}}",
            options=[option.machine for option in entry.operation.machine_options.all()],
            hue=job_hue(job.number),
        ))
    return rows


def gantt_build(rows: list[EntryRow], starts_at: dt.datetime | None) -> Gantt | None:
    placed = [row for row in rows if row.entry.machine_id is not None]
    if not placed:
        return None
    first = min(row.entry.starts_at - dt.timedelta(minutes=row.entry.changeover_minutes) for row in placed)
    start = min(first, starts_at) if starts_at else first
    end = max(row.entry.ends_at for row in placed)
    span = max((end - start).total_seconds(), 3600)

    def percent(moment: dt.datetime) -> float:
        return round(100 * (moment - start).total_seconds() / span, 3)

    machines: dict[int, GanttRow] = {}
    for row in placed:
        entry, job, operation = row.entry, row.entry.operation.job, row.entry.operation
        changeover_start = entry.starts_at - dt.timedelta(minutes=entry.changeover_minutes)
        part = job.part_revision
        title = (f"{row.key} {operation.name} · part {part.part.number} rev {part.revision} · {entry.machine.code} · "
                 f"{when(entry.starts_at)} – {when(entry.ends_at)}")
        if entry.changeover_minutes:
            title += f" · changeover {entry.changeover_minutes} min from {when(changeover_start)}"
        title += f" · due {job.due_date:%a %d %b}"
        if row.late:
            title += " · LATE"
        if entry.locked:
            title += " · locked"
        block = Block(entry=entry, key=row.key, left=percent(entry.starts_at),
                      width=round(percent(entry.ends_at) - percent(entry.starts_at), 3),
                      changeover_left=percent(changeover_start),
                      changeover_width=round(percent(entry.starts_at) - percent(changeover_start), 3),
                      hue=row.hue, late=row.late, title=title)
        machines.setdefault(entry.machine_id, GanttRow(entry.machine.code)).blocks.append(block)

    # A tick at each local midnight; a label on each while there are few, else on Mondays.
    tz = timezone.get_current_timezone()
    days = (timezone.localtime(end).date() - timezone.localtime(start).date()).days
    step = max(1, math.ceil(days / 90))  # bounded however far a planner moved an entry
    ticks = [Tick(0, f"{when(start)}")]
    day = timezone.localtime(start).date() + dt.timedelta(days=1)
    while (midnight := dt.datetime.combine(day, dt.time(), tzinfo=tz)) < end:
        label = f"{day:%a %d %b}" if days <= 16 or (step == 1 and day.weekday() == 0) else ""
        ticks.append(Tick(percent(midnight), label))
        day += dt.timedelta(days=step)
    return Gantt(rows=sorted(machines.values(), key=lambda r: r.machine_code), ticks=ticks, starts_at=start,
                 ends_at=end, width_px=min(max(900, round(span / 86400 * 240)), 10000))
