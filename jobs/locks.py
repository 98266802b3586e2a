"""Row locks in one place and one order: machine, then operation, then job (each by pk)."""

from jobs.models import Job, JobOperation


def lock_job(job_id: int) -> Job:
    # select_related would lock the joined rows too; lock only what changes
    return Job.objects.select_for_update().get(pk=job_id)


def lock_operation(operation_id: int) -> JobOperation:
    return JobOperation.objects.select_for_update().get(pk=operation_id)
