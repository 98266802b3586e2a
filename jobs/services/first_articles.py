"""First articles: when one is required, and what its approval proves.

Everything the AS9102 triggers need is jobs-side history: earlier operations of the same part and operation
number, whether their production gate opened (it opens only when no first article was required or when one was
approved), what they ran with, and when they last produced. So the derivation lives here and jobs never imports
inspection: a job's release derives each operation's requirement, and its setup derives it again once the machine
is known."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.permissions import require_perm
from jobs.choices import FirstArticleRequirement, NCProgramStatus, StepKind
from jobs.models import JobOperation, NCProgram
from jobs.selectors import PastRun, first_article_history, routing_signature

FIRST_ARTICLE_LAPSE = dt.timedelta(days=730)  # AS9102 4.6 d: two years without production


@dataclass(frozen=True)
class FirstArticleFacts:
    """What an operation is about to run with. `machine_id` is None while no machine is chosen."""

    part_revision_id: int
    drawing_revision: str
    operation_number: int
    needs_first_article: bool
    nc_program_id: int | None
    routing_signature: tuple
    fixture_id: int | None
    machine_id: int | None = None


def first_article_requirement(facts: FirstArticleFacts, history: list[PastRun], *, now: dt.datetime,
                              check_machine: bool = True) -> tuple[str, str]:
    """(requirement, reason) for one operation after AS9102 Rev C 4.6. `history` is the earlier
    operations of the same part and operation number, newest first. A change of the part's design
    (first production, new drawing revision, lapse, an unfinished first article) needs a full first
    article; a change of how one operation makes it (NC program, routing step, machine, fixture) a
    partial one of the characteristics that operation produces."""
    if not facts.needs_first_article:
        return FirstArticleRequirement.NONE, ""
    same_revision = [run for run in history if run.part_revision_id == facts.part_revision_id]
    unfinished = next((run for run in same_revision
                       if run.required_first_article and run.started and not run.gate_open), None)
    if unfinished is not None:
        return FirstArticleRequirement.FULL, f"The first article of {unfinished.job_number} was not completed."
    produced = [run for run in same_revision if run.produced and run.gate_open]
    if not produced:
        earlier = next((run for run in history if run.produced and run.gate_open), None)
        if earlier is not None and earlier.drawing_revision != facts.drawing_revision:
            return FirstArticleRequirement.FULL, (f"New drawing revision {facts.drawing_revision} "
                                                  f"(last produced at {earlier.drawing_revision}).")
        return FirstArticleRequirement.FULL, "First production of this part revision."
    last_at = max((run.last_produced_at for run in produced if run.last_produced_at), default=None)
    if last_at is not None and now - last_at > FIRST_ARTICLE_LAPSE:
        return FirstArticleRequirement.FULL, (f"More than two years since the last production "
                                              f"({last_at:%Y-%m-%d}).")
    last = produced[0]
    if last.nc_program_id != facts.nc_program_id:
        return FirstArticleRequirement.PARTIAL, f"NC program changed since {last.job_number}."
    if last.routing_signature != facts.routing_signature:
        return FirstArticleRequirement.PARTIAL, f"Routing step changed since {last.job_number}."
    if last.fixture_id != facts.fixture_id:
        return FirstArticleRequirement.PARTIAL, f"Different fixture than {last.job_number}."
    if check_machine and facts.machine_id is not None and last.machine_id != facts.machine_id:
        return FirstArticleRequirement.PARTIAL, f"Different machine than {last.job_number}."
    return FirstArticleRequirement.NONE, f"Repeat of {last.job_number} with the same set-up."


def _first_article_facts(operation: JobOperation) -> FirstArticleFacts:
    step = operation.routing_step
    return FirstArticleFacts(
        part_revision_id=operation.job.part_revision_id,
        drawing_revision=operation.job.part_revision.drawing_revision,
        operation_number=operation.operation_number,
        needs_first_article=bool(step and step.needs_first_article) and operation.kind == StepKind.INTERNAL,
        nc_program_id=operation.nc_program_id, routing_signature=routing_signature(operation),
        fixture_id=operation.fixture_id, machine_id=operation.machine_id,
    )


def first_article_apply(*, operation: JobOperation, user: User, check_machine: bool) -> JobOperation:
    """Set the operation's first-article requirement and reason, and close its production gate when one is needed.
    `check_machine`: the machine is chosen, so a different one than the last approved run's counts
    (SPINDLE_FIRST_ARTICLE_ON_MACHINE_CHANGE, default on)."""
    check_machine = check_machine and getattr(settings, "SPINDLE_FIRST_ARTICLE_ON_MACHINE_CHANGE", True)
    requirement, reason = first_article_requirement(
        _first_article_facts(operation), first_article_history(operation), now=timezone.now(),
        check_machine=check_machine)
    operation.first_article, operation.first_article_reason = requirement, reason[:200]
    operation.production_gate_open = requirement == FirstArticleRequirement.NONE
    operation._history_user = user
    operation.save(update_fields=["first_article", "first_article_reason", "production_gate_open", "updated_at"])
    return operation


@transaction.atomic
def nc_program_mark_proven(*, nc_program_id: int, user: User) -> None:
    """A first article made with this program version was approved: it is proven. Idempotent."""
    require_perm(user, "inspection.approve_firstarticlereport")
    program = NCProgram.objects.select_for_update().get(pk=nc_program_id)
    if program.status == NCProgramStatus.UNPROVEN:
        program.status = NCProgramStatus.PROVEN
        program._history_user = user
        program.save(update_fields=["status", "updated_at"])
