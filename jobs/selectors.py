import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import (
    Case,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from core.db import fingerprint, latest, scalars
from jobs.choices import Activity, FirstArticleRequirement, JobStatus, OperationStatus
from jobs.models import (
    Job,
    JobOperation,
    JobOperationMachine,
    LabourEntry,
    OperationEvent,
    PartRevision,
    ProductionEntry,
    Routing,
    RoutingStep,
    SalesOrderLine,
    ScheduleEntry,
    ScheduleRun,
)
from jobs.programs import program_mismatch
from machines.connectivity.selectors import part_count_value, stops_unexplained
from machines.models import Machine, MachineConnection, MachineStateEvent


def job_list() -> QuerySet[Job]:
    return Job.objects.select_related("part_revision__part", "order_line__order__customer")


def jobs_awaiting_release() -> QuerySet[Job]:
    return job_list().filter(status=JobStatus.PLANNED).order_by("due_date", "priority")


def jobs_late(*, today: dt.date) -> QuerySet[Job]:
    return job_list().filter(status__in=JobStatus.open(), due_date__lt=today).order_by("due_date")


def _produced(field: str) -> Coalesce:
    """The sum of one quantity of the operation's production entries, as a correlated subquery: summed only
    for the rows fetched, with no GROUP BY over every joined column (whose planning cost ~10-80 ms on a
    large shop, more than running the query)."""
    entries = (ProductionEntry.objects.filter(operation=OuterRef("pk")).order_by().values("operation")
               .annotate(total=Sum(field)).values("total"))
    return Coalesce(Subquery(entries), Value(0), output_field=IntegerField())


def operation_list() -> QuerySet[JobOperation]:
    """Operations with quantities summed from their production entries."""
    return JobOperation.objects.select_related(
        "job__part_revision__part", "work_center", "machine", "fixture", "nc_program"
    ).annotate(
        good_quantity=_produced("quantity_good"),
        scrap_quantity=_produced("quantity_scrap"),
        rework_quantity=_produced("quantity_rework"),
    ).order_by("job__due_date", "job_id", "operation_number")


def operations_ready() -> QuerySet[JobOperation]:
    return operation_list().filter(status=OperationStatus.READY).order_by("job__priority", "job__due_date")


def operations_open_count() -> int:
    return JobOperation.objects.filter(~Q(status=OperationStatus.DONE), job__status__in=JobStatus.open()).count()


def _published_start(operation_ref: str, machine_ref: str) -> Subquery:
    entries = ScheduleEntry.objects.filter(run__published=True, operation=OuterRef(operation_ref),
                                           machine=OuterRef(machine_ref))
    return Subquery(entries.values("starts_at")[:1])


# The published schedule's order first; what it does not place, by priority then due date.
DISPATCH_ORDER = (
    F("scheduled_start").asc(nulls_last=True), "job__priority", "job__due_date", "job__number", "operation_number",
)


def _dispatch(operations: QuerySet[JobOperation], *, machine_id: int) -> QuerySet[JobOperation]:
    return (
        operations
        .filter(machine_options__machine_id=machine_id,
                status__in=[OperationStatus.READY, OperationStatus.PENDING], job__status__in=JobStatus.open())
        .annotate(scheduled_start=Subquery(
            ScheduleEntry.objects.filter(run__published=True, operation=OuterRef("pk"), machine_id=machine_id)
            .values("starts_at")[:1]
        ))
        .order_by(Case(When(status=OperationStatus.READY, then=0), default=1), *DISPATCH_ORDER)
    )


def dispatch_list(*, machine_id: int) -> QuerySet[JobOperation]:
    """What a machine should work on next: its ready operations (then those still waiting on a
    predecessor or material), in the published schedule's order."""
    return _dispatch(operation_list(), machine_id=machine_id)


def dispatch_list_brief(*, machine_id: int) -> QuerySet[JobOperation]:
    """The same list in the same order with only what the terminal's list shows (job, part, operation):
    no quantities and four joins instead of nine, so PostgreSQL plans it in ~2 ms instead of ~30-80."""
    return _dispatch(JobOperation.objects.select_related("job__part_revision__part"), machine_id=machine_id)


def dispatch_stamps() -> tuple[QuerySet, ...]:
    """What orders the dispatch lists, each a query of one value (to read with others in one round trip): the
    operations (every status change saves its operation; a report that does not finish one leaves it alone), the
    jobs (status, priority, due date) and the published schedule."""
    return (
        latest(JobOperation.objects.all(), "updated_at"),
        latest(Job.objects.all(), "updated_at"),
        latest(ScheduleRun.objects.filter(published=True), "pk"),
    )


def dispatch_version() -> str:
    """A fingerprint of what orders the dispatch lists, read in one query."""
    return fingerprint(*scalars(*dispatch_stamps()))


def next_operation_by_machine() -> dict[int, JobOperation]:
    """The first ready operation of every machine's dispatch list, in one query. The first row per machine is
    chosen over narrow rows (ids only) and only those rows are fetched with their job and part: sorting ~1,600
    wide rows to keep 60 cost more than the choice itself."""
    first = (
        JobOperationMachine.objects.filter(operation__status=OperationStatus.READY,
                                           operation__job__status__in=JobStatus.open())
        .annotate(scheduled_start=_published_start("operation", "machine"))
        .annotate(position=Window(RowNumber(), partition_by=F("machine_id"), order_by=[
            F("scheduled_start").asc(nulls_last=True), F("operation__job__priority").asc(),
            F("operation__job__due_date").asc(), F("operation__job__number").asc(),
            F("operation__operation_number").asc(),
        ]))
        .filter(position=1)
        .values("pk")
    )
    rows = (JobOperationMachine.objects.filter(pk__in=first).order_by()
            .select_related("operation__job__part_revision__part"))
    return {row.machine_id: row.operation for row in rows}


def operation_minutes_worked(operation: JobOperation, *, now: dt.datetime) -> dict[str, float]:
    """Setup and run minutes from the labour entries, an open entry counting up to `now`."""
    rows = (
        LabourEntry.objects.filter(operation=operation)
        .values("activity")
        .annotate(worked=Sum(ExpressionWrapper(Coalesce("ended_at", Value(now)) - F("started_at"),
                                               output_field=DurationField())))
        .order_by()
    )
    worked = {row["activity"]: row["worked"].total_seconds() / 60 for row in rows if row["worked"] is not None}
    return {activity: worked.get(activity, 0.0) for activity in Activity.values}


def operation_detail_list() -> QuerySet[JobOperation]:
    """Operations with what the terminal shows of one (job, part, machine, fixture, program, and the customer and
    PO as `customer_name` and `po_number`); their quantities come from `with_quantities`. The customer and PO are
    subqueries rather than three more joins: PostgreSQL plans a ten-table join for ~7 ms, more than it runs it."""
    order = SalesOrderLine.objects.filter(pk=OuterRef("job__order_line_id"))
    return JobOperation.objects.select_related(
        "job__part_revision__part", "machine", "fixture", "nc_program"
    ).annotate(
        customer_name=Subquery(order.values("order__customer__name")[:1]),
        po_number=Subquery(order.values("order__po_number")[:1]),
    ).order_by("job__due_date", "job_id", "operation_number")


def operation_detail(*, operation_id: int, machine_id: int) -> JobOperation | None:
    """One operation as the terminal shows it, with `standard_setup` and `standard_cycle`: its standards on the
    machine it is on, else on `machine_id`, else its routing step's."""
    option = JobOperationMachine.objects.filter(
        operation=OuterRef("pk"), machine_id=Coalesce(OuterRef("machine_id"), Value(machine_id)))
    return operation_detail_list().annotate(
        standard_setup=Coalesce(Subquery(option.values("setup_minutes")[:1]), F("setup_minutes")),
        standard_cycle=Coalesce(Subquery(option.values("cycle_minutes")[:1]), F("cycle_minutes")),
    ).filter(pk=operation_id).first()


def with_quantities(operations: list[JobOperation]) -> list[JobOperation]:
    """Set good_quantity, scrap_quantity and rework_quantity (as operation_list annotates them) on each
    operation, summed from their production entries in one query."""
    sums = {
        row["operation_id"]: row
        for row in ProductionEntry.objects.filter(operation__in=[operation.pk for operation in operations])
        .order_by().values("operation_id")
        .annotate(good=Sum("quantity_good"), scrap=Sum("quantity_scrap"), rework=Sum("quantity_rework"))
    } if operations else {}
    for operation in operations:
        row = sums.get(operation.pk, {})
        operation.good_quantity = row.get("good") or 0
        operation.scrap_quantity = row.get("scrap") or 0
        operation.rework_quantity = row.get("rework") or 0
    return operations


Stamp = tuple[int, dt.datetime, dt.datetime]


def operation_stamp(operations: QuerySet[JobOperation]) -> Stamp | None:
    """The id of the first of `operations` with the last change of its row and of its job's: enough to tell
    whether what was read of it before still holds (every change of an operation or a job saves its row)."""
    return operations.values_list("pk", "updated_at", "job__updated_at").first()


# How far back a terminal asks for the reasons of its machine's stops: the operator of this shift, or the one
# who just took over from them, can still say why; older ones are the supervisor's (the admin, the API).
STOPS_ASKED_FOR = dt.timedelta(hours=12)
# An operation's production report (jobs.actions): an automatic good count is one, recorded with the counter.
REPORT_ACTION = "report"


def terminal_stops(*, machine_id: int, now: dt.datetime) -> QuerySet[MachineStateEvent]:
    """The stops the machine's terminal asks the reason of, oldest first."""
    return stops_unexplained(machine_id=machine_id, now=now, since=now - STOPS_ASKED_FOR)


def machine_count_recorded(operation_id, *, starts_only: bool = False) -> QuerySet[OperationEvent]:
    """The operation's events that recorded its machine's part counter (`machine_count` in their details), newest
    first: each action that starts a run on a monitored machine, and (unless `starts_only`) each automatic good
    count (the counter it counted up to). `operation_id` may be an expression (a subquery)."""
    events = OperationEvent.objects.filter(operation_id=operation_id, details__has_key="machine_count")
    if starts_only:
        events = events.exclude(action=REPORT_ACTION)
    return events.order_by("-at", "-pk")


@dataclass(frozen=True)
class TerminalVersion:
    """What a machine's terminal shows, as the version of each part it redraws on its own, with the stamp of the
    operation on its panel (None: no operation), the time they were read at, and what the panel shows of the
    machine's own signals, read with them."""

    operation: Stamp | None
    panel: str
    dispatch: str
    station: str
    at: dt.datetime
    stops_waiting: bool = False  # some of the machine's stops wait for a reason (terminal_stops)
    program: str = ""  # the program the machine's control reports
    counter: int | None = None  # its part counter
    run_start_count: int | None = None  # the counter as the run of the panel's operation started on the machine
    run_reported: int = 0  # pieces reported of that operation since then (good, scrap and rework)


def terminal_version(*, machine_id: int, operation_id: int | None,
                     station_ids: Sequence[int]) -> TerminalVersion | None:
    """The versions of what the terminal of an active machine shows (None: no such machine), read in one query, so
    that a poll which finds nothing changed costs no more. The panel shows operation `operation_id`, or else the
    one active on the machine (there is one at most); it changes with the operation's row and its job's (every
    action saves them), its newest production entry (a report from any terminal adds one; an operation's reports
    take its lock, so its newest id moves with each), the machine's open state event (every state change opens
    one, whatever its source: a terminal, the API or the machine's signals), the stops waiting for a reason (one
    explained, or the open one past the machine's threshold, which no event marks) and the program and part
    counter the machine reports. The dispatch list changes with `dispatch_version`, the station's tabs with the
    open state event of each of its machines."""
    now = timezone.now()
    if operation_id is not None:
        operations = JobOperation.objects.filter(pk=operation_id)
    else:
        operations = JobOperation.objects.filter(machine_id=machine_id, status__in=OperationStatus.active())

    def shown(field: str) -> QuerySet:
        return operations.order_by("pk").values(field)[:1]

    newest_report = (ProductionEntry.objects.filter(operation_id=shown("pk")).order_by().values("operation_id")
                     .annotate(newest=Max("pk")).values("newest"))
    stops = (terminal_stops(machine_id=machine_id, now=now).order_by().values("machine_id")
             .annotate(ids=Sum("pk")).values("ids"))
    connection = MachineConnection.objects.filter(machine_id=machine_id)
    run_start = machine_count_recorded(Subquery(shown("pk")), starts_only=True)
    reported_since = (ProductionEntry.objects.filter(operation_id=shown("pk"),
                                                     recorded_at__gte=Subquery(run_start.values("at")[:1]))
                      .order_by().values("operation_id")
                      .annotate(pieces=Sum(F("quantity_good") + F("quantity_scrap") + F("quantity_rework")))
                      .values("pieces"))
    machines = list(dict.fromkeys([machine_id, *station_ids]))
    dispatch = dispatch_stamps()
    active, pk, updated_at, job_updated_at, report, waiting, program, counter, start_count, reported, *values = (
        scalars(
            Machine.objects.filter(pk=machine_id, active=True).order_by().values("pk"),
            shown("pk"), shown("updated_at"), shown("job__updated_at"), newest_report, stops,
            connection.values(program=KT("signals__program")), connection.values(counter=KT("signals__part_count")),
            run_start.values(count=KT("details__machine_count"))[:1], reported_since,
            *dispatch,
            *(MachineStateEvent.objects.filter(machine_id=machine, ended_at__isnull=True).order_by().values("pk")
              for machine in machines),
        ))
    if active is None:
        return None
    open_events = dict(zip(machines, values[len(dispatch):], strict=True))
    stamp = (pk, updated_at, job_updated_at) if pk is not None else None
    return TerminalVersion(
        operation=stamp,
        panel=fingerprint(stamp, report, open_events[machine_id], waiting, program, counter),
        dispatch=fingerprint(*values[:len(dispatch)]),
        station=fingerprint(*(open_events[machine] for machine in station_ids)),
        at=now, stops_waiting=waiting is not None, program=program or "", counter=part_count_value(counter),
        run_start_count=part_count_value(start_count), run_reported=reported or 0,
    )


@dataclass(frozen=True)
class MachineReading:
    """The program and part counter a monitored machine reports, beside the operation on it: the run's count is the
    counter now less the one recorded as the run started (machine_count_recorded)."""

    program: str  # the control's program as it reports it; "" when it reports none
    expected_program: str  # the operation's NC program number; "" when it names none
    counter: int | None  # the part counter now
    start_count: int | None  # the counter as the run started on the machine; None: not started there while monitored
    reported: int  # pieces reported since the run started (good, scrap and rework)
    counts_good: bool  # the counter counts good parts only: jobs.services.counts reports them by itself

    @property
    def program_warning(self) -> str:
        return program_mismatch(running=self.program, expected=self.expected_program)

    @property
    def counter_reset(self) -> bool:
        """The counter went back during the run (reset on the control): it counts from there."""
        return self.counter is not None and self.start_count is not None and self.counter < self.start_count

    @property
    def counted(self) -> int | None:
        """What the machine counted since the run started (since its counter was reset, if it was)."""
        if self.counter is None or self.start_count is None:
            return None
        return self.counter if self.counter_reset else self.counter - self.start_count

    @property
    def unreported(self) -> int:
        """Counted and not yet reported by anyone: the terminal's suggestion."""
        return max((self.counted or 0) - self.reported, 0)


def machine_reading(operation: JobOperation, machine: Machine, live: TerminalVersion) -> MachineReading | None:
    """What `machine` reports beside `operation` (with its nc_program), as terminal_version read it; None when nothing
    reports for the machine (no MTConnect agent, no edge device) or the operation is not on it."""
    if operation.machine_id != machine.pk or not (machine.mtconnect_agent_url or machine.signal_device_id):
        return None
    return MachineReading(
        program=live.program, expected_program=operation.nc_program.program_number if operation.nc_program else "",
        counter=live.counter, start_count=live.run_start_count, reported=live.run_reported,
        counts_good=machine.part_counter_counts_good,
    )


def operation_quantities(operation: JobOperation) -> dict[str, int]:
    return operation.production_entries.aggregate(
        good=Coalesce(Sum("quantity_good"), 0), scrap=Coalesce(Sum("quantity_scrap"), 0),
        rework=Coalesce(Sum("quantity_rework"), 0),
    )


# Routings, as a release freezes them.

def routing_current(part_revision: PartRevision) -> Routing | None:
    return part_revision.routings.order_by("-version").first()


def step_machine_options(step: RoutingStep) -> list[dict]:
    """Eligible machines of a step, ranked: its listed machines, else every active machine of its
    work center. Each with the setup and cycle minutes and hourly rate that apply on it."""
    listed = [option for option in step.eligible_machines.all() if option.machine.active]
    if listed:
        pairs = [(option.machine, option) for option in sorted(listed, key=lambda option: option.rank)]
    else:
        machines = Machine.objects.filter(work_center_id=step.work_center_id, active=True).order_by("code")
        pairs = [(machine, None) for machine in machines]
    return [
        {
            "machine": machine,
            "rank": rank,
            "setup_minutes": option.setup_minutes if option and option.setup_minutes is not None
            else step.setup_minutes,
            "cycle_minutes": option.cycle_minutes if option and option.cycle_minutes is not None
            else step.cycle_minutes,
            "hourly_rate": machine.hourly_rate,
        }
        for rank, (machine, option) in enumerate(pairs, start=1)
    ]


# First articles: the history their rules read.

@dataclass(frozen=True)
class PastRun:
    """An earlier operation of the same part and operation number."""

    job_number: str
    part_revision_id: int
    drawing_revision: str
    required_first_article: bool
    gate_open: bool
    started: bool
    produced: bool
    last_produced_at: dt.datetime | None
    nc_program_id: int | None
    routing_signature: tuple
    fixture_id: int | None
    machine_id: int | None


def routing_signature(operation: JobOperation | RoutingStep) -> tuple:
    """The routing-step content whose change can change the part (the NC program is checked apart)."""
    return (operation.kind, operation.work_center_id, operation.material, operation.tool_kit,
            operation.instructions.strip())


def first_article_history(operation: JobOperation) -> list[PastRun]:
    """The earlier operations of the same part and operation number, newest first."""
    earlier = (
        JobOperation.objects.filter(job__part_revision__part_id=operation.job.part_revision.part_id,
                                    operation_number=operation.operation_number)
        .exclude(pk=operation.pk).exclude(job_id=operation.job_id)
        .select_related("job__part_revision", "nc_program")
        .annotate(last_produced_at=Max("production_entries__recorded_at",
                                       filter=Q(production_entries__quantity_good__gt=0)),
                  produced_good=Sum("production_entries__quantity_good"))
        .order_by("-job__released_at", "-pk")
    )
    not_started = (OperationStatus.PENDING, OperationStatus.READY)
    return [
        PastRun(job_number=run.job.number, part_revision_id=run.job.part_revision_id,
                drawing_revision=run.job.part_revision.drawing_revision,
                required_first_article=run.first_article != FirstArticleRequirement.NONE,
                gate_open=run.production_gate_open, started=run.status not in not_started,
                produced=bool(run.produced_good), last_produced_at=run.last_produced_at,
                nc_program_id=run.nc_program_id, routing_signature=routing_signature(run),
                fixture_id=run.fixture_id, machine_id=run.machine_id)
        for run in earlier
    ]


# The planner board's reads.

def schedule_run_list() -> QuerySet[ScheduleRun]:
    """Runs, newest first, with who asked and who published; the problem snapshot (large) is left out."""
    return (ScheduleRun.objects.select_related("requested_by", "published_by").defer("problem")
            .order_by("-created_at", "-pk"))


def schedule_entry_list(*, run_id: int) -> QuerySet[ScheduleEntry]:
    """The entries of one run by machine and start, with their job, part and the active machines each
    could move to: three queries whatever their number."""
    options = JobOperationMachine.objects.filter(machine__active=True).select_related("machine").order_by(
        "rank", "machine__code")
    return (ScheduleEntry.objects.filter(run_id=run_id)
            .select_related("machine", "operation__job__part_revision__part")
            .prefetch_related(Prefetch("operation__machine_options", queryset=options))
            .order_by("machine__code", "starts_at", "pk"))
