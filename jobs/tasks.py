from celery import shared_task

from jobs.services.counts import operations_counted_report
from jobs.services.schedule_execution import schedule_run_execute, schedule_runs_fail_stale


@shared_task(acks_late=True)
def schedule_run_execute_task(run_id: int) -> str:
    """Routed to the "scheduling" queue so that a long solve never delays the floor's tasks."""
    return schedule_run_execute(run_id=run_id).status


@shared_task
def schedule_runs_fail_stale_task() -> int:
    return schedule_runs_fail_stale()


@shared_task
def operations_counted_report_task() -> int:
    return operations_counted_report()
