"""The scheduling problem built from the database, and the engine's answer mapped back.

Minute 0 of the problem is the moment the run starts (rounded up to the minute). What the
builder decides, so that the planner can trust what the schedule shows:

* A run goes on after a calendar break (the part stays clamped overnight); changeovers and
  setups need attended time.
* Operations of released and in-progress jobs that are not done. Operations on a machine now
  (setup, first article, running, paused) are fixed on it at minute 0 with what is left of
  them; the machine's current setup is theirs, so no changeover is charged before them.
* Outside-processing steps use no machine: their lead time becomes a wait after the internal
  operation before them (or a release of the next one when they are out at the vendor now).
* Material not yet in the shop releases the job at the start of its expected day.
* Entries the planner locked in the run this one starts from (or else the published run) stay
  where they were, provided they have not started yet and are still in the future.
* Due: the end of the job's due date in the shop's time zone; weight: 6 - priority, so
  priority 1 weighs 5 and priority 5 weighs 1.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Sum
from django.utils import timezone

from jobs.choices import JobStatus, MaterialStatus, OperationStatus, StepKind
from jobs.models import JobOperation, JobOperationMachine, ScheduleEntry, ScheduleRun
from jobs.scheduling import problem as sp
from jobs.scheduling.calendars import Calendar
from jobs.scheduling.problem import ProblemError
from machines.models import ChangeoverRule, Fixture, Machine
from machines.selectors import calendar_windows

DEFAULT_HORIZON_DAYS = 42


@dataclass
class BuiltProblem:
    """A problem and what its ids mean in the database."""

    problem: sp.Problem
    now: dt.datetime
    operation_ids: dict[str, int] = field(default_factory=dict)  # engine id -> JobOperation pk
    machine_ids: dict[str, int] = field(default_factory=dict)  # engine id (code) -> Machine pk
    locked: set[str] = field(default_factory=set)  # engine ids fixed because the planner locked them
    notes: list[str] = field(default_factory=list)

    def at(self, minute: int) -> dt.datetime:
        return self.now + dt.timedelta(minutes=minute)


def _minutes(now: dt.datetime, moment: dt.datetime) -> int:
    return math.ceil((moment - now).total_seconds() / 60)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())


def _run_minutes(option: JobOperationMachine | None, operation: JobOperation, pieces: int) -> int:
    cycle = option.cycle_minutes if option else operation.cycle_minutes
    return math.ceil(Decimal(math.ceil(pieces / operation.parts_per_cycle)) * cycle)


def mode_minutes(option: JobOperationMachine) -> int:
    """Setup and run minutes of a not-yet-started operation on one of its machines."""
    operation = option.operation
    return math.ceil(option.setup_minutes) + _run_minutes(option, operation, operation.job.quantity)


def _setup_of(operation: JobOperation) -> sp.Setup:
    return sp.Setup(
        fixture=operation.fixture.code if operation.fixture_id else None,
        material=operation.material or None,
        tool_kit=operation.tool_kit or None,
        program=operation.nc_program.program_number if operation.nc_program_id else None,
    )


def _engine_id(operation: JobOperation) -> str:
    return f"{operation.job.number}/{operation.operation_number}"


def schedule_problem_build(*, now: dt.datetime | None = None, base_run: ScheduleRun | None = None,
                           horizon_days: int = DEFAULT_HORIZON_DAYS,
                           weights: tuple[int, int, int] | None = None) -> BuiltProblem:
    """The open work of the shop as a scheduling problem. A fixed number of queries."""
    now = (now or timezone.now()).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    problem = sp.Problem(machines=[], jobs=[], operations=[], name=f"Spindle {now:%Y-%m-%d %H:%M}",
                         runs_resume_after_breaks=True)
    built = BuiltProblem(problem=problem, now=now)
    operations = list(
        JobOperation.objects.filter(job__status__in=[JobStatus.RELEASED, JobStatus.IN_PROGRESS])
        .exclude(status=OperationStatus.DONE)
        .select_related("job", "fixture", "nc_program", "machine__work_center", "machine__calendar")
        .prefetch_related(Prefetch("machine_options", queryset=JobOperationMachine.objects.select_related(
            "machine__work_center", "machine__calendar")))
        .annotate(good=Sum("production_entries__quantity_good"))
        .order_by("job__number", "operation_number")
    )
    if not operations:
        raise ProblemError("There is no open work to schedule: release a job first.")
    locks = _locked_entries(base_run, now, built)

    jobs: dict[int, sp.Job] = {}
    used_machines: dict[int, Machine] = {}
    current: dict[int, JobOperation] = {}  # machine pk -> operation on it now
    previous: dict[int, tuple[sp.Operation | None, int, int]] = {}  # job pk -> (last internal op, wait, release)
    for op in operations:
        job = op.job
        if job.pk not in jobs:
            release = 0
            if job.material_status in (MaterialStatus.NOT_ORDERED, MaterialStatus.ORDERED) and job.material_expected_on:
                release = max(0, _minutes(now, _day_start(job.material_expected_on)))
            jobs[job.pk] = sp.Job(id=job.number, due=_minutes(now, _day_start(job.due_date + dt.timedelta(days=1))),
                                  weight=max(1, 6 - job.priority), release=release)
            built.problem.jobs.append(jobs[job.pk])
            previous[job.pk] = (None, 0, release)
        before, wait, release = previous[job.pk]
        if op.kind != StepKind.INTERNAL:
            lead = op.lead_days * 1440
            if op.status == OperationStatus.SENT and op.sent_on:
                release = max(release, _minutes(now, _day_start(op.sent_on)) + lead)
            else:
                wait += lead
            previous[job.pk] = (before, wait, release)
            continue
        pieces = max(0, job.quantity - (op.good or 0))
        options = [o for o in op.machine_options.all() if o.machine.active]
        if op.status in OperationStatus.active():
            if op.machine_id is None:  # an active operation always has its machine; be explicit if not
                raise ProblemError(f"Operation {_engine_id(op)} is {op.get_status_display().lower()} on no machine.")
            option = next((o for o in options if o.machine_id == op.machine_id), None)
            setup_left = 0
            if op.status == OperationStatus.SETUP:
                setup_left = math.ceil(option.setup_minutes if option else op.setup_minutes)
            modes = [sp.Mode(op.machine.code, setup_left, _run_minutes(option, op, pieces))]
            fixed = sp.Placement(op.machine.code, 0)
            used_machines[op.machine_id] = op.machine
            current[op.machine_id] = op
        else:
            if not options:
                raise ProblemError(f"Operation {_engine_id(op)} ({op.name}) has no active eligible machine.")
            modes = [sp.Mode(o.machine.code, math.ceil(o.setup_minutes), _run_minutes(o, op, pieces)) for o in options]
            for o in options:
                used_machines[o.machine_id] = o.machine
            fixed = None
            lock = locks.get(op.pk)
            if lock is not None and any(m.machine == lock.machine.code for m in modes):
                fixed = sp.Placement(lock.machine.code, _minutes(now, lock.starts_at))
                built.locked.add(_engine_id(op))
        engine_op = sp.Operation(
            id=_engine_id(op), job=job.number, modes=modes,
            predecessors=[before.id] if before else [],
            release=release,
            setup=_setup_of(op), fixed=fixed,
        )
        if before is not None:
            before.wait_after = wait
        elif wait:  # an outside step between the last finished operation and this one
            engine_op.release = max(engine_op.release, wait)
        built.problem.operations.append(engine_op)
        built.operation_ids[engine_op.id] = op.pk
        engine_op.wait_after = op.min_wait_minutes
        previous[job.pk] = (engine_op, op.min_wait_minutes, release)

    _add_machines(built, used_machines, current, now, horizon_days)
    _stretch_fixed(built)
    _add_rules_and_fixtures(built, operations)
    if weights is not None:
        built.problem.objective = sp.Objective(weights=weights)
    return built


def _locked_entries(base_run: ScheduleRun | None, now: dt.datetime, built: BuiltProblem) -> dict[int, ScheduleEntry]:
    run = base_run or ScheduleRun.objects.filter(published=True).first()
    if run is None:
        return {}
    locks = {}
    entries = ScheduleEntry.objects.filter(run=run, locked=True, operation__status__in=[
        OperationStatus.PENDING, OperationStatus.READY]).select_related("machine", "operation__job")
    for entry in entries:
        if entry.machine_id is None:
            continue
        if entry.starts_at < now:
            built.notes.append(f"Locked entry {_engine_id(entry.operation)} was due to start "
                               f"{timezone.localtime(entry.starts_at):%Y-%m-%d %H:%M}, now past: scheduled freely.")
            continue
        locks[entry.operation_id] = entry
    return locks


def _add_machines(built: BuiltProblem, used: dict[int, Machine], current: dict[int, JobOperation],
                  now: dt.datetime, horizon_days: int) -> None:
    end = now + dt.timedelta(days=horizon_days)
    windows = calendar_windows(calendar_ids={m.calendar_id for m in used.values()}, start=now, end=end)
    for machine in sorted(used.values(), key=lambda m: m.code):
        machine_windows = [sp.Window(_minutes(now, w.starts_at), _minutes(now, w.ends_at), w.attended)
                           for w in windows[machine.calendar_id]]
        if not machine_windows:
            raise ProblemError(f"Machine {machine.code} has no working time in its calendar "
                               f"({machine.calendar}) in the next {horizon_days} days.")
        on_it = current.get(machine.pk)
        setup = _setup_of(on_it) if on_it else sp.Setup(
            fixture=machine.setup_fixture or None, material=machine.setup_material or None,
            tool_kit=machine.setup_tool_kit or None, program=machine.setup_program or None)
        built.problem.machines.append(sp.Machine(id=machine.code, work_center=machine.work_center.code,
                                                 windows=machine_windows, initial_setup=setup))
        built.machine_ids[machine.code] = machine.pk


def _stretch_fixed(built: BuiltProblem) -> None:
    """The engine ends a fixed operation at start + setup + run, calendar or not: give a run that
    goes on after a break the minutes up to its real end, so the machine is not seen free overnight."""
    calendars = {m.id: Calendar(m.windows, runs_resume=True) for m in built.problem.machines}
    for op in built.problem.operations:
        if op.fixed is None:
            continue
        mode = op.mode_on(op.fixed.machine)
        end = calendars[mode.machine].finish(op.fixed.start, mode.setup, mode.run)
        if end is not None:
            op.modes = [sp.Mode(mode.machine, mode.setup, end - op.fixed.start - mode.setup)]


def _add_rules_and_fixtures(built: BuiltProblem, operations: list[JobOperation]) -> None:
    built.problem.changeover_rules = [
        sp.ChangeoverRule(attribute=r.attribute, from_value=r.from_value, to_value=r.to_value, minutes=r.minutes,
                          work_center=r.work_center.code, priority=r.priority)
        for r in ChangeoverRule.objects.select_related("work_center")
    ]
    fixture_ids = {op.fixture_id for op in operations if op.fixture_id}
    for fixture in Fixture.objects.filter(pk__in=fixture_ids).prefetch_related("compatible_work_centers"):
        work_centers = tuple(sorted(wc.code for wc in fixture.compatible_work_centers.all()))
        built.problem.fixtures.append(sp.Fixture(fixture.code, work_centers))
