import datetime as dt

from django.db import transaction
from django.utils import timezone

from core.errors import Conflict
from core.permissions import require_perm
from core.services import record_create
from jobs.choices import (
    Activity,
    FirstArticleRequirement,
    JobStatus,
    MaterialStatus,
    OperationStatus,
    PartRevisionStatus,
    StepKind,
)
from jobs.locks import lock_job, lock_operation
from jobs.models import (
    Job,
    JobOperation,
    JobOperationMachine,
    LabourEntry,
    PartRevision,
    ProductionEntry,
    Routing,
    RoutingStep,
    ScrapReason,
)
from machines.models import Machine


@transaction.atomic
def part_revision_release(*, part_revision_id: int, user) -> PartRevision:
    """A released revision can be made; the other released revisions of the part stay usable."""
    require_perm(user, "jobs.change_partrevision")
    revision = PartRevision.objects.select_for_update().get(pk=part_revision_id)
    if revision.status == PartRevisionStatus.RELEASED:
        return revision
    if revision.status == PartRevisionStatus.OBSOLETE:
        raise Conflict(f"{revision} is obsolete and cannot be released again.")
    revision.status = PartRevisionStatus.RELEASED
    revision._history_user = user
    revision.save(update_fields=["status", "updated_at"])
    return revision


def next_job_number(*, today: dt.date) -> str:
    prefix = f"WO{today:%y}-"
    last = (
        Job.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True).first()
    )
    sequence = int(last.removeprefix(prefix)) + 1 if last and last.removeprefix(prefix).isdigit() else 1
    return f"{prefix}{sequence:05d}"


def job_create(*, user, part_revision: PartRevision, quantity: int, due_date: dt.date, number: str = "",
               **fields) -> Job:
    """A planned job; without a number it gets the next WO number of the year."""
    data = {"part_revision": part_revision, "quantity": quantity, "due_date": due_date, **fields}
    data["number"] = number or next_job_number(today=timezone.localdate())
    return record_create(model=Job, user=user, data=data)


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


FROZEN_STEP_FIELDS = (
    "operation_number", "name", "work_center_id", "kind", "setup_minutes", "cycle_minutes", "parts_per_cycle",
    "min_wait_minutes", "fixture_id", "material", "tool_kit", "nc_program_id", "instructions", "vendor",
    "lead_days", "outside_cost",
)


@transaction.atomic
def job_release(*, job_id: int, user) -> Job:
    """Freeze the part revision's current routing into operations, each with its eligible machines."""
    require_perm(user, "jobs.release_job")
    job = lock_job(job_id)
    if job.status != JobStatus.PLANNED:
        raise Conflict(f"Job {job.number} is already {job.get_status_display().lower()}.", code="already_released")
    revision = job.part_revision
    if revision.status != PartRevisionStatus.RELEASED:
        raise Conflict(f"{revision} is {revision.get_status_display().lower()}, not released.",
                       code="revision_not_released", field="part_revision")
    routing = routing_current(revision)
    steps = list(routing.steps.prefetch_related("eligible_machines__machine").order_by("operation_number")) \
        if routing else []
    if not steps:
        raise Conflict(f"{revision} has no routing steps to release.", code="routing_empty")

    options_by_step = {}
    for step in steps:
        options = step_machine_options(step) if step.kind == StepKind.INTERNAL else []
        if step.kind == StepKind.INTERNAL and not options:
            raise Conflict(f"Step {step} has no active machine that can run it.", code="no_eligible_machine")
        options_by_step[step.pk] = options

    for step in steps:
        frozen = {name: getattr(step, name) for name in FROZEN_STEP_FIELDS}
        operation = JobOperation(job=job, routing_step=step, **frozen)
        if step.needs_first_article:
            operation.first_article = FirstArticleRequirement.FULL
            operation.first_article_reason = "The routing step requires a first article."
            operation.production_gate_open = False
        operation.full_clean(exclude=["job"])
        operation._history_user = user
        operation.save()
        JobOperationMachine.objects.bulk_create(
            JobOperationMachine(operation=operation, **option) for option in options_by_step[step.pk]
        )

    job.routing = routing
    job.status = JobStatus.RELEASED
    job.released_at = timezone.now()
    job.released_by = user
    job._history_user = user
    job.save(update_fields=["routing", "status", "released_at", "released_by", "updated_at"])
    job_operations_refresh_ready(job=job)
    return job


def job_operations_refresh_ready(*, job: Job) -> None:
    """Derive `ready`: the job is released, its material is in, and the previous operation is done."""
    if job.status not in (JobStatus.RELEASED, JobStatus.IN_PROGRESS):
        return
    material_in = job.material_status in MaterialStatus.available()
    previous_done = True
    for operation in job.operations.order_by("operation_number"):
        if operation.status in (OperationStatus.PENDING, OperationStatus.READY):
            wanted = OperationStatus.READY if material_in and previous_done else OperationStatus.PENDING
            if operation.status != wanted:
                operation.status = wanted
                operation.save(update_fields=["status", "updated_at"])
        previous_done = operation.status == OperationStatus.DONE


@transaction.atomic
def operation_record_completed(*, operation_id: int, machine_id: int | None, operator, user,
                               setup: tuple[dt.datetime, dt.datetime] | None,
                               run: tuple[dt.datetime, dt.datetime], good: int, scrap: int = 0,
                               scrap_reason: ScrapReason | None = None) -> JobOperation:
    """Record an operation finished in the past, with its setup and run labour and its quantities:
    what a shop moving to Spindle brings along, and what the demo's history is made of."""
    require_perm(user, "jobs.run_operation")
    operation = lock_operation(operation_id)
    if operation.status not in (OperationStatus.PENDING, OperationStatus.READY):
        raise Conflict(f"Operation {operation} is {operation.get_status_display().lower()}; "
                       "only an operation not started yet can be recorded as completed.")
    if machine_id is not None and not operation.machine_options.filter(machine_id=machine_id).exists():
        raise Conflict(f"Machine {machine_id} is not eligible for {operation}.", field="machine")
    for activity, span in ((Activity.SETUP, setup), (Activity.RUN, run)):
        if span is None:
            continue
        entry = LabourEntry(operator=operator, operation=operation, machine_id=machine_id, activity=activity,
                            started_at=span[0], ended_at=span[1])
        entry.full_clean()
        entry.save()
    entry = ProductionEntry(operator=operator, operation=operation, machine_id=machine_id, quantity_good=good,
                            quantity_scrap=scrap, scrap_reason=scrap_reason, recorded_at=run[1])
    entry.full_clean()
    entry.save()
    operation.machine_id = machine_id
    operation.status = OperationStatus.DONE
    operation._history_user = user
    operation.save(update_fields=["machine", "status", "updated_at"])
    job = lock_job(operation.job_id)
    if not job.operations.exclude(status=OperationStatus.DONE).exists():
        job.status = JobStatus.COMPLETE
        job._history_user = user
        job.save(update_fields=["status", "updated_at"])
    else:
        job_operations_refresh_ready(job=job)
    return operation
