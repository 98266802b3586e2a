"""The machine's part counter and the operation on it: the counter recorded as a run starts, and the good parts a
machine that counts good parts only reports by itself, exactly once whatever replays or races."""

import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from jobs.choices import OperationStatus
from jobs.models import Job, OperationEvent, ProductionEntry
from jobs.selectors import operation_quantities
from jobs.services.counts import COUNTER_TERMINAL, operation_counted_report, operations_counted_report
from jobs.services.operations import (
    operation_first_piece,
    operation_hold,
    operation_pause,
    operation_release_hold,
    operation_resume,
    operation_start_setup,
)
from tests.machine_feed import Feed, monitor


@pytest.fixture
def lathe(floor):
    """The lathe monitored, its counter at 100, counting good parts only."""
    lathe = monitor(floor.shop.lathe)
    lathe.part_counter_counts_good = True
    lathe.save(update_fields=["part_counter_counts_good", "updated_at"])
    lathe.feed = Feed(lathe)
    lathe.feed(availability="AVAILABLE", mode="AUTOMATIC", execution="READY", part_count="100")
    return lathe


@pytest.fixture
def running(floor, lathe, operator):
    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=lathe.pk)
    operation_first_piece(operation_id=floor.turn.pk, user=operator)
    return floor.turn


def good(operation) -> int:
    return operation_quantities(operation)["good"]


@pytest.mark.django_db
def test_a_run_records_the_counter_where_it_starts_and_a_resume_goes_on_from_there(running, lathe, floor, operator,
                                                                                  inspector):
    def counters(action):
        return [event.details.get("machine_count")
                for event in OperationEvent.objects.filter(operation=running, action=action).order_by("at", "pk")]

    assert counters("first_piece") == [100]
    lathe.feed(part_count="104")
    operation_pause(operation_id=running.pk, user=operator, reason=floor.alarm)
    operation_resume(operation_id=running.pk, user=operator)
    assert counters("resume") == [None]  # the run goes on: its parts count from its start
    operation_hold(operation_id=running.pk, user=inspector, reason="Burr on datum A")
    lathe.feed(part_count="130")  # meanwhile the lathe made other parts
    operation_release_hold(operation_id=running.pk, user=inspector)
    assert counters("release_hold") == [130]  # back on the machine: a run again


@pytest.mark.django_db
def test_good_parts_the_machine_counts_are_reported_once_in_the_name_of_its_operator(running, lathe, operator):
    lathe.feed(part_count="104")
    assert operation_counted_report(operation_id=running.pk) == 4
    assert operation_counted_report(operation_id=running.pk) == 0  # the same count again: nothing new
    lathe.feed(part_count="104")
    assert operation_counted_report(operation_id=running.pk) == 0
    lathe.feed(part_count="106")
    assert operation_counted_report(operation_id=running.pk) == 2

    assert good(running) == 6
    entries = ProductionEntry.objects.filter(operation=running).order_by("pk")
    assert [(entry.quantity_good, entry.operator, entry.machine) for entry in entries] == [(4, operator, lathe),
                                                                                          (2, operator, lathe)]
    events = OperationEvent.objects.filter(operation=running, action="report").order_by("pk")
    assert [(event.terminal, event.user, event.details["machine_count"]) for event in events] == [
        (COUNTER_TERMINAL, operator, 104), (COUNTER_TERMINAL, operator, 106)]


@pytest.mark.django_db
def test_a_counter_reset_counts_from_zero_and_an_overrun_is_left_to_the_operator(running, lathe):
    lathe.feed(part_count="103")
    operation_counted_report(operation_id=running.pk)
    lathe.feed(part_count="2")  # reset on the control
    assert operation_counted_report(operation_id=running.pk) == 2
    lathe.feed(part_count="40")  # 38 more than the 5 the job still needs
    assert operation_counted_report(operation_id=running.pk) == 5
    running.refresh_from_db()
    assert good(running) == Job.objects.get(pk=running.job_id).quantity == 10
    assert running.status == OperationStatus.DONE  # good reached the quantity, as a report by hand does


@pytest.mark.django_db
def test_a_paused_run_counts_for_its_last_operator_and_a_machine_counting_every_cycle_counts_nothing(
        running, lathe, floor, operator):
    operation_pause(operation_id=running.pk, user=operator, reason=floor.alarm)  # the pause closes the labour
    lathe.feed(part_count="101")  # the cycle under way when it paused
    assert operation_counted_report(operation_id=running.pk) == 1
    assert ProductionEntry.objects.get(operation=running).operator == operator

    lathe.part_counter_counts_good = False
    lathe.save(update_fields=["part_counter_counts_good", "updated_at"])
    lathe.feed(part_count="105")
    assert operation_counted_report(operation_id=running.pk) == 0 and good(running) == 1


@pytest.mark.django_db
def test_the_periodic_round_counts_each_machine_and_one_refusal_stops_none_of_the_others(
        running, lathe, floor, operator, planner, make_user, caplog):
    from jobs.services.release import job_release
    from tests.factories import JobFactory, MachineFactory

    other = monitor(MachineFactory(code="LB2", work_center=floor.shop.lathes, part_counter_counts_good=True))
    other.feed = Feed(other)
    other.feed(execution="READY", part_count="7")
    job = JobFactory(part_revision=floor.shop.revision)
    job_release(job_id=job.pk, user=planner)
    turn = job.operations.get(operation_number=10)
    leaver = make_user("operator", username="leaver")
    operation_start_setup(operation_id=turn.pk, user=leaver, machine_id=other.pk)
    operation_first_piece(operation_id=turn.pk, user=leaver)
    leaver.is_active = False  # left the company, still signed on the run
    leaver.save(update_fields=["is_active"])
    lathe.feed(part_count="103")
    other.feed(part_count="9")

    with caplog.at_level(logging.WARNING, logger="jobs.services.counts"):
        assert operations_counted_report() == 3
    assert good(running) == 3 and good(turn) == 0
    assert f"operation {turn.pk} refused" in caplog.text


def _in_thread(action):
    def run(*args):
        try:
            return action(*args)
        finally:
            connection.close()  # each thread has its own connection

    return run


@pytest.mark.django_db(transaction=True)
def test_two_ingests_racing_with_their_counts_report_each_part_once(running, lathe):
    batches = [lathe.feed.observations(part_count="103"), lathe.feed.observations(part_count="105")]

    def ingest_and_count(batch):
        lathe.feed.ingest(batch)
        return operation_counted_report(operation_id=running.pk)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reported = list(pool.map(_in_thread(ingest_and_count), batches))
    # Whichever way they interleave (the later batch applied first makes the earlier one a replay), the counter ends
    # at 105 and every part since the start is reported once.
    assert sum(reported) == good(running) == 5

    with ThreadPoolExecutor(max_workers=2) as pool:  # two rounds at once at the same counter
        assert sorted(pool.map(_in_thread(lambda _: operation_counted_report(operation_id=running.pk)), range(2))) \
            == [0, 0]
    lathe.feed(part_count="108")
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert sorted(pool.map(_in_thread(lambda _: operation_counted_report(operation_id=running.pk)), range(2))) \
            == [0, 3]
    assert good(running) == 8
