"""When a first article is required, after AS9102 Rev C 4.6: the derivation as a table of cases."""

import datetime as dt

import pytest

from conftest import PASSWORD
from inspection.models import Characteristic, InspectionPlan
from inspection.services.first_articles import fai_approve, fai_open_for_operation, fai_result_record, fai_submit
from inspection.tests.conftest import bring_to_first_article
from jobs.choices import FirstArticleRequirement as FA
from jobs.choices import OperationStatus
from jobs.models import JobOperation
from jobs.selectors import PastRun
from jobs.services.first_articles import FirstArticleFacts, first_article_requirement
from jobs.services.operations import (
    operation_complete,
    operation_first_piece,
    operation_report,
    operation_start_run,
    operation_start_setup,
)
from jobs.services.release import job_release
from tests.factories import JobFactory

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
SIGNATURE = ("internal", 1, "6061", "KIT-1", "")
FACTS = FirstArticleFacts(part_revision_id=2, drawing_revision="B", operation_number=20, needs_first_article=True,
                          nc_program_id=7, routing_signature=SIGNATURE, fixture_id=3, machine_id=4)


def run(**changes) -> PastRun:
    fields = dict(job_number="WO-1", part_revision_id=2, drawing_revision="B", required_first_article=True,
                  gate_open=True, started=True, produced=True, last_produced_at=NOW - dt.timedelta(days=30),
                  nc_program_id=7, routing_signature=SIGNATURE, fixture_id=3, machine_id=4)
    return PastRun(**(fields | changes))


CASES = [
    # (case, facts changes, history, requirement, reason starts with)
    ("step needs none", {"needs_first_article": False}, [], FA.NONE, ""),
    ("first production", {}, [], FA.FULL, "First production"),
    ("only unstarted jobs before", {}, [run(started=False, produced=False, gate_open=False)], FA.FULL,
     "First production"),
    ("new drawing revision", {}, [run(part_revision_id=1, drawing_revision="A")], FA.FULL, "New drawing revision B"),
    ("new part revision, same drawing", {}, [run(part_revision_id=1)], FA.FULL, "First production"),
    ("previous first article not completed", {}, [run(gate_open=False, produced=False), run(job_number="WO-0")],
     FA.FULL, "The first article of WO-1 was not completed"),
    ("lapse of more than two years", {}, [run(last_produced_at=NOW - dt.timedelta(days=731))], FA.FULL,
     "More than two years"),
    ("just under two years", {}, [run(last_produced_at=NOW - dt.timedelta(days=729))], FA.NONE, "Repeat of WO-1"),
    ("NC program changed", {"nc_program_id": 8}, [run()], FA.PARTIAL, "NC program changed since WO-1"),
    ("routing step changed", {"routing_signature": ("internal", 1, "6061", "KIT-2", "")}, [run()], FA.PARTIAL,
     "Routing step changed"),
    ("different fixture", {"fixture_id": 9}, [run()], FA.PARTIAL, "Different fixture"),
    ("different machine", {"machine_id": 5}, [run()], FA.PARTIAL, "Different machine"),
    ("machine not chosen yet", {"machine_id": None}, [run()], FA.NONE, "Repeat"),
    ("repeat with the same set-up", {}, [run()], FA.NONE, "Repeat of WO-1"),
    ("compared with the last run", {"nc_program_id": 8},
     [run(job_number="WO-2", nc_program_id=8), run(job_number="WO-1")], FA.NONE, "Repeat of WO-2"),
    ("a run without production does not count", {},
     [run(job_number="WO-2", produced=False, gate_open=True, machine_id=99), run()], FA.NONE, "Repeat of WO-1"),
]


@pytest.mark.parametrize(("case", "changes", "history", "requirement", "reason"), CASES, ids=[c[0] for c in CASES])
def test_first_article_requirement(case, changes, history, requirement, reason):
    facts = FirstArticleFacts(**(FACTS.__dict__ | changes))
    got, why = first_article_requirement(facts, history, now=NOW)
    assert got == requirement
    assert why.startswith(reason)


def test_the_machine_trigger_can_be_turned_off():
    facts = FirstArticleFacts(**(FACTS.__dict__ | {"machine_id": 5}))
    assert first_article_requirement(facts, [run()], now=NOW, check_machine=False)[0] == FA.NONE


@pytest.mark.django_db
def test_a_repeat_job_of_the_same_revision_needs_no_first_article(floor, operator, inspector, planner):
    mill = JobOperation.objects.get(pk=floor.mill.pk)  # derived when the floor's job was released
    assert (mill.first_article, mill.production_gate_open) == (FA.FULL, False)
    assert mill.first_article_reason.startswith("First production")

    bring_to_first_article(floor, operator)
    report = fai_open_for_operation(operation_id=floor.mill.pk, user=inspector)
    assert report.results.count() == 0
    plan = InspectionPlan.objects.create(part_revision=floor.shop.revision)
    char = Characteristic.objects.create(plan=plan, balloon_number="1", nominal=10, lower_limit=9, upper_limit=11)
    fai_result_record(report_id=report.pk, characteristic_id=char.pk, user=inspector, value="10")
    fai_submit(report_id=report.pk, user=inspector)
    fai_approve(report_id=report.pk, user=inspector, password=PASSWORD)
    operation_start_run(operation_id=floor.mill.pk, user=operator)
    operation_report(operation_id=floor.mill.pk, user=operator, good=floor.shop.job.quantity)

    repeat = JobFactory(part_revision=floor.shop.revision)
    job_release(job_id=repeat.pk, user=planner)
    turn2, mill2 = repeat.operations.order_by("operation_number")
    assert mill2.status in (OperationStatus.PENDING, OperationStatus.READY)
    assert (mill2.first_article, mill2.production_gate_open) == (FA.NONE, True)
    assert mill2.first_article_reason == f"Repeat of {floor.shop.job.number} with the same set-up."

    # Once the machine is known: a different machine than the last approved run needs a partial one.
    operation_start_setup(operation_id=turn2.pk, user=operator, machine_id=floor.shop.lathe.pk)
    operation_first_piece(operation_id=turn2.pk, user=operator)
    operation_complete(operation_id=turn2.pk, user=operator, short_reason="test")
    mill2 = operation_start_setup(operation_id=mill2.pk, user=operator, machine_id=floor.shop.vf2.pk)
    assert (mill2.first_article, mill2.production_gate_open) == (FA.PARTIAL, False)
    assert mill2.first_article_reason == f"Different machine than {floor.shop.job.number}."
