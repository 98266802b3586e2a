"""Parts, jobs and their release: a part revision released, a job created, its routing frozen into operations;
and the job's status, which follows its operations."""

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict
from core.permissions import require_perm
from core.services import record_create
from jobs.choices import JobStatus, MaterialStatus, OperationStatus, PartRevisionStatus, StepKind
from jobs.locks import lock_job
from jobs.models import Job, JobOperation, JobOperationMachine, PartRevision
from jobs.selectors import routing_current, step_machine_options
from jobs.services.first_articles import first_article_apply


@transaction.atomic
def part_revision_release(*, part_revision_id: int, user: User) -> PartRevision:
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


def job_create(*, user: User, part_revision: PartRevision, quantity: int, due_date: dt.date, number: str = "",
               **fields: object) -> Job:
    """A planned job; without a number it gets the next WO number of the year."""
    data = {"part_revision": part_revision, "quantity": quantity, "due_date": due_date, **fields}
    data["number"] = number or next_job_number(today=timezone.localdate())
    return record_create(model=Job, user=user, data=data)


FROZEN_STEP_FIELDS = (
    "operation_number", "name", "work_center_id", "kind", "setup_minutes", "cycle_minutes", "parts_per_cycle",
    "min_wait_minutes", "fixture_id", "material", "tool_kit", "nc_program_id", "instructions", "vendor",
    "lead_days", "outside_cost",
)


@transaction.atomic
def job_release(*, job_id: int, user: User) -> Job:
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
        operation.full_clean(exclude=["job"])
        operation._history_user = user
        operation.save()
        JobOperationMachine.objects.bulk_create(
            JobOperationMachine(operation=operation, **option) for option in options_by_step[step.pk]
        )
        first_article_apply(operation=operation, user=user, check_machine=False)

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


def job_follow_operations(*, job_id: int, user: User) -> None:
    """The job follows its operations: in progress once one has started, complete when all are done;
    and the next operation becomes ready."""
    job = lock_job(job_id)
    statuses = set(job.operations.values_list("status", flat=True))
    status = job.status
    if statuses == {OperationStatus.DONE}:
        status = JobStatus.COMPLETE
    elif job.status == JobStatus.RELEASED and statuses - {OperationStatus.PENDING, OperationStatus.READY}:
        status = JobStatus.IN_PROGRESS
    if status != job.status:
        job.status = status
        job._history_user = user
        job.save(update_fields=["status", "updated_at"])
    job_operations_refresh_ready(job=job)
