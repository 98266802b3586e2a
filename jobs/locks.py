"""Row locks in one place and one order: machine, then operation, then job (each by pk)."""

from core.errors import Conflict, NotFound
from jobs.models import Job, JobOperation
from machines.models import Machine
from machines.services.states import lock_machine


def lock_job(job_id: int) -> Job:
    # select_related would lock the joined rows too; lock only what changes
    return Job.objects.select_for_update().get(pk=job_id)


def lock_operation(operation_id: int) -> JobOperation:
    # With its job, which every action reads (quantity, number) but does not change: FOR UPDATE OF the
    # operation's row only; the job is locked apart, after it, when it changes.
    return JobOperation.objects.select_for_update(of=("self",)).select_related("job").get(pk=operation_id)


def lock_machine_and_operation(*, operation_id: int, machine_id: int | None = None) -> tuple[Machine | None,
                                                                                            JobOperation]:
    """Lock the machine the operation is on (or `machine_id`, where it is to go), then the operation."""
    current = JobOperation.objects.filter(pk=operation_id).order_by().values("machine_id").first()
    if current is None:
        raise NotFound(f"There is no operation {operation_id}.")
    on_machine = current["machine_id"]
    if machine_id is not None and not Machine.objects.filter(pk=machine_id).exists():
        raise NotFound(f"There is no machine {machine_id}.")
    target = machine_id or on_machine
    machine = lock_machine(target) if target else None
    operation = lock_operation(operation_id)
    if operation.machine_id != on_machine:
        raise Conflict("The operation moved to another machine meanwhile; reload and try again.")
    return machine, operation
