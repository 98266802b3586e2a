"""The demo shop's past, simulated: past jobs' operations placed on their machines' calendars and recorded
through the services as the shop would have recorded them, the setups the machines are left with, and each
machine's status log from the first day of history until now.

Times are placed from today's local midnight (`Clock`), so the shop is the same at any hour of the day; only the
status logs are cut at the moment the seed runs."""

import bisect
import datetime as dt
import heapq
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from core.services import record_update
from demo.catalog import (
    DAY,
    GAP_EVENTS,
    MINUTE,
    REASON_MINUTES,
    RUN_STOPS,
    SECOND_SHIFT,
    Size,
    local,
    weighted,
)
from jobs.choices import Activity, FirstArticleRequirement, NCProgramStatus, StepKind
from jobs.models import Job, JobOperation, JobOperationMachine, ScrapReason
from jobs.services.first_articles import nc_program_mark_proven
from jobs.services.history_import import FinishedOperation, LabourSpan, operations_import_finished
from jobs.services.release import job_release
from machines.choices import FixtureStatus, MachineState, StateSource
from machines.models import DowntimeReason, Machine
from machines.selectors import calendar_windows
from machines.services.states import Interval, state_events_import


@dataclass(frozen=True)
class Clock:
    """The seed's fixed times, all placed from today's local midnight."""

    today: dt.date
    midnight: dt.datetime  # the seed's fixed "now": past work ends before it
    day_end: dt.datetime  # the machines' day is drawn whole, then cut at the real now
    history_start: dt.datetime  # the machines' status logs begin
    jobs_start: dt.datetime  # the job history begins; before it a machine's work is logged without jobs

    @classmethod
    def on(cls, today: dt.date, size: Size) -> "Clock":
        return cls(today=today, midnight=local(today), day_end=local(today + DAY),
                   history_start=local(today - size.history_days * DAY),
                   jobs_start=local(today - size.job_history_days * DAY))


Segment = tuple[dt.datetime, dt.datetime, bool]  # working time (a calendar window): start, end, attended


def first_fit(ranges: list[tuple[dt.datetime, dt.datetime]], ends: list[dt.datetime], earliest: dt.datetime,
              length: dt.timedelta) -> dt.datetime | None:
    """The earliest start at or after `earliest` where `length` fits inside one of the ranges."""
    for start, end in ranges[bisect.bisect_right(ends, earliest):]:
        begin = max(earliest, start)
        if begin + length <= end:
            return begin
    return None


@dataclass(frozen=True)
class Work:
    """Something a machine did in the past: setup, running, or down waiting for the first article."""

    start: dt.datetime
    end: dt.datetime
    state: str
    reason: str = ""  # a downtime reason code


GAP, GAP_UNATTENDED = "gap", "gap_unattended"  # working time with no operation, to be filled
Event = tuple[str, str, dt.datetime, dt.datetime]  # state, downtime reason code, start, end


@dataclass
class Lane:
    """One machine's calendar and the past work placed on it, in order."""

    machine: Machine
    index: int
    segments: list[Segment]
    activities: list[Work] = field(default_factory=list)
    last_operation: JobOperation | None = None

    def __post_init__(self) -> None:
        self.segment_ends = [end for _, end, _ in self.segments]
        self.attended = [(start, end) for start, end, attended in self.segments if attended]  # merged already
        self.attended_ends = [end for _, end in self.attended]
        self.free_from = self.segments[0][0]

    def slot(self, earliest: dt.datetime, setup: dt.timedelta, wait: dt.timedelta,
             run: dt.timedelta) -> tuple[dt.datetime, list[Segment]] | None:
        """Where the next setup fits in one stretch of attended time, and the working time the run then takes
        after the wait for the first article: it goes on over the following shifts, and through unattended time."""
        setup_start = first_fit(self.attended, self.attended_ends, max(earliest, self.free_from), setup)
        if setup_start is None:
            return None
        pieces = self.working_time(setup_start + setup + wait, run)
        return None if pieces is None else (setup_start, pieces)

    def working_time(self, start: dt.datetime, length: dt.timedelta) -> list[Segment] | None:
        pieces = []
        for seg_start, seg_end, attended in self.segments[bisect.bisect_right(self.segment_ends, start):]:
            begin = max(start, seg_start)
            end = min(seg_end, begin + length)
            pieces.append((begin, end, attended))
            length -= end - begin
            if length <= dt.timedelta(0):
                return pieces
        return None

    def timeline(self, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime, str, str]]:
        """Lay the activities over the calendar: off shift outside working time, gaps where nothing was placed."""
        cuts = {start, end}
        for seg_start, seg_end, _ in self.segments:
            cuts.update((seg_start, seg_end))
        for activity in self.activities:
            cuts.update((activity.start, activity.end))
        pieces: list[list[Any]] = []
        seg = act = 0
        for a, b in itertools.pairwise(sorted(cut for cut in cuts if start <= cut <= end)):
            while seg < len(self.segments) and self.segments[seg][1] <= a:
                seg += 1
            while act < len(self.activities) and self.activities[act].end <= a:
                act += 1
            if seg == len(self.segments) or self.segments[seg][0] > a:
                label = (MachineState.OFF_SHIFT.value, "")
            elif act < len(self.activities) and self.activities[act].start <= a:
                label = (self.activities[act].state, self.activities[act].reason)
            else:
                label = (GAP if self.segments[seg][2] else GAP_UNATTENDED, "")
            if pieces and pieces[-1][1] == a and tuple(pieces[-1][2:]) == label:
                pieces[-1][1] = b
            else:
                pieces.append([a, b, *label])
        return [tuple(piece) for piece in pieces]


class History:
    """The simulator. Draws from the seeder's random.Random, in the seeder's order of stages."""

    def __init__(self, *, rng: random.Random, clock: Clock, running_minutes: int, admin: Any,
                 operators: Sequence[Any], machines: Sequence[Machine], reasons: dict[str, DowntimeReason],
                 scrap_reasons: Sequence[ScrapReason]):
        self.rng = rng
        self.clock = clock
        self.running_minutes = running_minutes
        self.admin = admin  # records everything: the history shows the demo's admin made it
        # The first two work the first shift, the other two the second; the first also signs for outside work.
        self.operators = operators
        self.reasons = reasons
        self.scrap_reasons = scrap_reasons
        windows = calendar_windows(calendar_ids={machine.calendar_id for machine in machines},
                                   start=clock.history_start, end=clock.day_end)
        segments = {calendar_id: [(window.starts_at.astimezone(dt.UTC), window.ends_at.astimezone(dt.UTC),
                                   window.attended) for window in calendar]
                    for calendar_id, calendar in windows.items()}
        self.lanes = {machine.pk: Lane(machine=machine, index=index, segments=segments[machine.calendar_id])
                      for index, machine in enumerate(machines)}
        self.operations: dict[int, list[JobOperation]] = {}  # a released past job's, in routing order
        self.proven: set[int] = set()  # NC programs a recorded first article has proven
        # Each placed operation's running intervals (one per shift, a lights-out stretch on its own): its pieces
        # are reported at the end of each, as an operator reports at the end of a shift.
        self.running_spans: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
        # A run as the machine reports it is broken by stops (`running`): an operation's run is made longer by
        # their expected share, so that its running time, not running plus stops, is cycles x cycle x run factor
        # (else the stops looked like parts made faster than standard: effectiveness over 100 %).
        stop = sum(weight * sum(REASON_MINUTES[code]) / 2 for code, weight in RUN_STOPS) / sum(
            weight for _, weight in RUN_STOPS)
        stretch = 5 + running_minutes * math.exp(-5 / running_minutes)  # max(5, exponential)
        self.running_share = stretch / (stretch + stop)

    # Jobs -------------------------------------------------------------------------------------------------------

    def run(self, jobs: Sequence[tuple[dt.datetime, Job]]) -> None:
        """Run the jobs, each given with the time its work may start, in that order.

        Release each job when its work may start, once what the shop finished before it is recorded: the
        first-article rules of the release then see the past as it was, and a repeat order needs none.
        Operations are dispatched in the order they became ready, each on the eligible machine that finishes it
        first; one that would end after midnight today is left to do, and its job stays open."""
        ready: list[tuple[dt.datetime, int, int, int]] = []  # when, job (index in jobs), operation, quantity
        finished: list[tuple[dt.datetime, int, FinishedOperation, JobOperation]] = []  # not recorded yet
        options = Prefetch("machine_options", queryset=JobOperationMachine.objects.order_by("rank"))
        for index, (job_ready_at, job) in enumerate([*jobs, (self.clock.midnight, None)]):
            while ready and ready[0][0] < job_ready_at:
                ready_at, job_index, position, quantity = heapq.heappop(ready)
                steps = self.operations[jobs[job_index][1].pk]
                done = self.place(steps[position], ready_at, quantity)
                if done is None:
                    continue
                heapq.heappush(finished, (done.finished_at, steps[position].pk, done, steps[position]))
                if position + 1 < len(steps):
                    next_ready = done.finished_at + steps[position].min_wait_minutes * MINUTE
                    heapq.heappush(ready, (next_ready, job_index, position + 1, done.good))
            self.record_finished(finished, until=job_ready_at)
            if job is not None:
                job_release(job_id=job.pk, user=self.admin)
                self.operations[job.pk] = list(
                    job.operations.select_related("fixture", "nc_program").prefetch_related(options)
                    .order_by("operation_number"))
                heapq.heappush(ready, (job_ready_at, index, 0, job.quantity))

    def record_finished(self, finished: list[tuple[dt.datetime, int, FinishedOperation, JobOperation]], *,
                        until: dt.datetime) -> None:
        """Record the operations finished by `until`; an approved first article proved its NC program."""
        batch = []
        while finished and finished[0][0] <= until:
            batch.append(heapq.heappop(finished))
        if not batch:
            return
        running = {pk: self.running_spans.pop(pk) for _, pk, _, _ in batch if pk in self.running_spans}
        operations_import_finished(records=[done for _, _, done, _ in batch], user=self.admin, running=running)
        for _, _, _, operation in batch:
            program = operation.nc_program
            if (operation.first_article != FirstArticleRequirement.NONE and program is not None
                    and program.status == NCProgramStatus.UNPROVEN and program.pk not in self.proven):
                nc_program_mark_proven(nc_program_id=program.pk, user=self.admin)
                self.proven.add(program.pk)

    def place(self, operation: JobOperation, ready_at: dt.datetime, quantity: int) -> FinishedOperation | None:
        """What the shop records for an operation done by midnight today, or None: an outside step when the vendor
        sends it back; a machine step on the eligible machine that finishes it first (setup, the wait for the
        first article's approval, then the run), placed on that machine's lane."""
        scrap = 0
        if operation.kind == StepKind.INTERNAL and quantity > 1 and self.rng.random() < 0.12:
            scrap = min(quantity - 1, self.rng.choice([1, 1, 1, 2, 3]))
        reason = self.rng.choice(self.scrap_reasons) if scrap else None
        if operation.kind == StepKind.OUTSIDE:  # back from the vendor on a working morning after the lead time
            back = timezone.localdate(ready_at) + dt.timedelta(days=operation.lead_days)
            back += dt.timedelta(days=max(0, 7 - back.weekday()) if back.weekday() >= 5 else 0)
            received = local(back, dt.time(10))
            if received > self.clock.midnight:
                return None
            return FinishedOperation(operation_id=operation.pk, machine_id=None, operator=self.operators[0],
                                     labour=(), finished_at=received, good=quantity)
        setup_factor = min(2.5, max(0.5, self.rng.lognormvariate(0, 0.25)))
        run_factor = max(0.8, self.rng.normalvariate(1.05, 0.08))
        wait = round(self.rng.uniform(*REASON_MINUTES["INSPECT"])) * MINUTE \
            if operation.first_article != FirstArticleRequirement.NONE else dt.timedelta(0)
        best = None
        for option in operation.machine_options.all():
            lane = self.lanes[option.machine_id]
            setup = round(float(option.setup_minutes) * setup_factor) * MINUTE
            cycles = math.ceil(quantity / operation.parts_per_cycle)
            run = max(1, round(cycles * float(option.cycle_minutes) * run_factor / self.running_share)) * MINUTE
            slot = lane.slot(ready_at, setup, wait, run)
            if slot is None:
                continue
            run_end = slot[1][-1][1]
            if run_end <= self.clock.midnight and (best is None or run_end < best[3]):
                best = (lane, setup, slot, run_end)
        if best is None:
            return None
        lane, setup, (setup_start, pieces), run_end = best
        setup_end = setup_start + setup
        if setup:
            lane.activities.append(Work(setup_start, setup_end, MachineState.SETUP))
        if wait:
            lane.activities.append(Work(setup_end, setup_end + wait, MachineState.DOWN, "INSPECT"))
        lane.activities.append(Work(pieces[0][0], run_end, MachineState.RUNNING))  # off shift it stands still
        lane.free_from, lane.last_operation = run_end, operation
        # The run by shift; a lights-out stretch runs on alone.
        stretches = [(start, end, attended) for piece_start, piece_end, attended in pieces
                     for start, end in (self.shifts_of(piece_start, piece_end) if attended
                                        else [(piece_start, piece_end)])]
        labour = [LabourSpan(self.operator_at(lane, setup_start), Activity.SETUP, setup_start, setup_end)] \
            if setup else []
        labour += [LabourSpan(self.operator_at(lane, start), Activity.RUN, start, end)
                   for start, end, attended in stretches if attended]  # while someone is there
        # Reported a minute before the stretch ends: at the handover instant a report counts for the next shift.
        self.running_spans[operation.pk] = [(start, end - MINUTE) if end < run_end and end - start > MINUTE
                                            else (start, end) for start, end, _ in stretches]
        return FinishedOperation(operation_id=operation.pk, machine_id=lane.machine.pk,
                                 operator=self.operator_at(lane, run_end), labour=tuple(labour), finished_at=run_end,
                                 good=quantity - scrap, scrap=scrap, scrap_reason=reason)

    @staticmethod
    def shifts_of(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
        """An attended stretch (one day's two shifts at most) cut where the second shift takes over."""
        handover = local(timezone.localdate(start), SECOND_SHIFT[1])
        return [(start, handover), (handover, end)] if start < handover < end else [(start, end)]

    def operator_at(self, lane: Lane, moment: dt.datetime) -> Any:
        """Each shift has two operators, each looking after half of the machines."""
        first_shift = timezone.localtime(moment).time() < SECOND_SHIFT[1]
        crew = self.operators[:2] if first_shift else self.operators[2:]
        return crew[lane.index % 2]

    # What the machines are left with ----------------------------------------------------------------------------

    def record_current_setups(self) -> None:
        """Each machine keeps the setup of the last operation it ran; a fixture stays on the machine that used it
        last (it is on one machine at a time)."""
        mounted: set[int] = set()
        for lane in sorted(self.lanes.values(), key=lambda lane: lane.free_from, reverse=True):
            operation = lane.last_operation
            if operation is None:
                continue
            fixture = operation.fixture if operation.fixture_id not in mounted else None
            record_update(instance=lane.machine, user=self.admin, data={
                "setup_fixture": fixture.code if fixture else "", "setup_material": operation.material,
                "setup_tool_kit": operation.tool_kit,
                "setup_program": operation.nc_program.program_number if operation.nc_program else ""})
            if fixture is not None:
                record_update(instance=fixture, user=self.admin,
                              data={"mounted_on": lane.machine, "status": FixtureStatus.IN_USE})
                mounted.add(fixture.pk)

    # Machine states ---------------------------------------------------------------------------------------------

    def record_machine_states(self) -> None:
        """Each machine's status log from the first day of history until now, the last state left open."""
        now = timezone.now()
        for lane in self.lanes.values():
            events = [event for event in self.expand(lane.timeline(self.clock.history_start, self.clock.day_end))
                      if event[2] < now]  # the day is drawn whole, so the data does not depend on the hour
            intervals = [Interval(state=state, started_at=start, ended_at=end, reason=self.reasons.get(reason))
                         for state, reason, start, end in events]
            intervals[-1] = replace(intervals[-1], ended_at=None)  # what the machine does now
            # The operators' record: the machines `make demo` connects are machine-fed from their first signal on.
            state_events_import(machine_id=lane.machine.pk, intervals=intervals, user=self.admin,
                                source=StateSource.TERMINAL)

    def expand(self, pieces: list[tuple[dt.datetime, dt.datetime, str, str]]) -> list[Event]:
        """Fill the gaps and break up the runs, then merge neighbours in the same state, to whole seconds."""
        events: list[Event] = []
        for start, end, state, reason in pieces:
            if state == GAP:
                split = min(max(start, self.clock.jobs_start), end)
                events += self.unlogged_work(start, split) + self.fill_gap(split, end)
            elif state == GAP_UNATTENDED:
                events.append((MachineState.IDLE, "", start, end))
            elif state == MachineState.RUNNING:
                events += self.running(start, end)
            else:
                events.append((state, reason, start, end))
        merged: list[Event] = []
        for state, reason, start, end in events:
            start, end = start.replace(microsecond=0), end.replace(microsecond=0)
            if start >= end:
                continue
            if merged and merged[-1][:2] == (state, reason):
                merged[-1] = (state, reason, merged[-1][2], end)
            else:
                merged.append((state, reason, start, end))
        return merged

    def stop(self, code: str, start: dt.datetime, end: dt.datetime) -> Event:
        state = MachineState.PLANNED_DOWN if self.reasons[code].planned else MachineState.DOWN
        return (state, code, start, min(end, start + self.rng.uniform(*REASON_MINUTES[code]) * MINUTE))

    def fill_gap(self, start: dt.datetime, end: dt.datetime) -> list[Event]:
        """Working time with no operation: idle, now and then a break, a meeting, maintenance or a wait."""
        events: list[Event] = []
        while start < end:
            window_end = min(end, start + 4 * 60 * MINUTE)
            code = weighted(self.rng, GAP_EVENTS)
            if code:
                event = self.stop(code, start, window_end)
                shift = (window_end - event[3]) * self.rng.random()
                event = (event[0], code, event[2] + shift, event[3] + shift)
                events += [(MachineState.IDLE, "", start, event[2]), event,
                           (MachineState.IDLE, "", event[3], window_end)]
            else:
                events.append((MachineState.IDLE, "", start, window_end))
            start = window_end
        return events

    def running(self, start: dt.datetime, end: dt.datetime) -> list[Event]:
        """A run as the machine reports it: running stretches broken by minor stops and now and then a real one."""
        events: list[Event] = []
        while start < end:
            stretch_end = min(end, start + max(5.0, self.rng.expovariate(1 / self.running_minutes)) * MINUTE)
            events.append((MachineState.RUNNING, "", start, stretch_end))
            if stretch_end < end:
                events.append(self.stop(weighted(self.rng, RUN_STOPS), stretch_end, end))
                stretch_end = events[-1][3]
            start = stretch_end
        return events

    def unlogged_work(self, start: dt.datetime, end: dt.datetime) -> list[Event]:
        """Before the job history (large size): setups and runs of work whose jobs the demo does not hold."""
        events: list[Event] = []
        while start < end:
            idle_end = min(end, start + self.rng.uniform(5, 90) * MINUTE)
            setup_end = min(end, idle_end + self.rng.uniform(30, 120) * MINUTE)
            run_end = min(end, setup_end + self.rng.uniform(60, 600) * MINUTE)
            events += [*self.fill_gap(start, idle_end), (MachineState.SETUP, "", idle_end, setup_end),
                       *self.running(setup_end, run_end)]
            start = run_end
        return events
