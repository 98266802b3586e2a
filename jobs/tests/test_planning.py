"""Schedule runs from the database: the problem a planner's shop becomes, and the run's life."""

import datetime as dt

import pytest
from django.utils import timezone

from core.errors import ApplicationError, Conflict, Forbidden
from jobs.choices import MaterialStatus, ScheduleRunStatus, StepKind
from jobs.inputs import ScheduleRunInput
from jobs.models import ScheduleEntry, ScheduleRun
from jobs.schedule_problem import schedule_problem_build
from jobs.scheduling.problem import ProblemError
from jobs.services.operations import operation_first_piece, operation_report, operation_start_setup
from jobs.services.release import job_release
from jobs.services.schedule import (
    schedule_entry_lock,
    schedule_entry_move,
    schedule_run_cancel,
    schedule_run_publish,
    schedule_run_request,
)
from jobs.services.schedule_execution import schedule_run_execute, schedule_runs_fail_stale
from machines.models import ChangeoverRule, Fixture, ShiftWindow
from tests.factories import JobFactory, RoutingStepFactory


def open_every_day(calendar, start=dt.time(6), end=dt.time(23)):
    for weekday in range(7):
        ShiftWindow.objects.create(calendar=calendar, name="Day", weekday=weekday, start_time=start, end_time=end)


@pytest.fixture
def shop(small_shop, planner):
    """The small shop working 06:00-23:00 every day, with its job released."""
    open_every_day(small_shop.vf2.calendar)
    job_release(job_id=small_shop.job.pk, user=planner)
    return small_shop


def run_now(planner, **parameters) -> ScheduleRun:
    run = schedule_run_request(user=planner, time_limit=parameters.pop("time_limit", 2), **parameters)
    return schedule_run_execute(run_id=run.pk)


@pytest.mark.django_db
def test_the_problem_has_the_open_operations_with_their_machines_and_standards(shop):
    built = schedule_problem_build()
    job = shop.job
    turn, mill = built.problem.operations
    assert (turn.id, mill.id) == (f"{job.number}/10", f"{job.number}/20")
    assert [(m.machine, m.setup, m.run) for m in turn.modes] == [("LB3000", 60, 125)]  # 10 x 12.5 min
    assert sorted((m.machine, m.setup) for m in mill.modes) == [("VF2", 60), ("VF4", 45)]
    assert mill.predecessors == [turn.id]
    (engine_job,) = built.problem.jobs
    # Due at the end of the due date in the shop's time zone; priority 3 weighs 3.
    shop_tz = timezone.get_current_timezone()
    due_end = dt.datetime.combine(job.due_date + dt.timedelta(days=1), dt.time(), tzinfo=shop_tz)
    assert built.at(engine_job.due) == due_end and engine_job.weight == 3
    assert {m.id for m in built.problem.machines} == {"LB3000", "VF2", "VF4"}
    # Windows are the calendar's, in minutes from the run's start.
    first = built.problem.machines[0].windows[0]
    assert timezone.localtime(built.at(first.end)).time() == dt.time(23)


@pytest.mark.django_db
def test_an_operation_on_a_machine_is_fixed_there_with_what_is_left(shop, operator):
    turn = shop.job.operations.get(operation_number=10)
    operation_start_setup(operation_id=turn.pk, user=operator, machine_id=shop.lathe.pk)
    operation_first_piece(operation_id=turn.pk, user=operator)
    operation_report(operation_id=turn.pk, user=operator, good=4)

    built = schedule_problem_build()
    engine_turn = built.problem.operations[0]
    assert engine_turn.fixed.machine == "LB3000" and engine_turn.fixed.start == 0
    (mode,) = engine_turn.modes
    # 6 pieces left x 12.5 min = 75 working minutes; a night in between does not count.
    lathe = next(m for m in built.problem.machines if m.id == "LB3000")
    worked = sum(max(0, min(w.end, mode.setup + mode.run) - max(w.start, 0)) for w in lathe.windows)
    assert mode.setup == 0 and worked == 75


@pytest.mark.django_db
def test_outside_processing_becomes_a_wait_and_material_a_release(small_shop, planner):
    open_every_day(small_shop.vf2.calendar)
    RoutingStepFactory(routing=small_shop.turn.routing, operation_number=15, name="Anodize", kind=StepKind.OUTSIDE,
                       vendor="Anodizers Inc", work_center=None, lead_days=3)
    job = small_shop.job
    job.material_status, job.material_expected_on = MaterialStatus.ORDERED, timezone.localdate() + dt.timedelta(days=2)
    job.save()
    job_release(job_id=job.pk, user=planner)

    built = schedule_problem_build()
    turn, mill = built.problem.operations  # the outside step is on no machine
    assert turn.wait_after == 3 * 1440 and mill.predecessors == [turn.id]
    expected = dt.datetime.combine(job.material_expected_on, dt.time(), tzinfo=timezone.get_current_timezone())
    assert built.at(built.problem.jobs[0].release) == expected


@pytest.mark.django_db
def test_bad_shop_data_fails_the_run_naming_the_culprit(small_shop, planner):
    # No shift windows at all: the calendar has no working time.
    job_release(job_id=small_shop.job.pk, user=planner)
    run = run_now(planner)
    assert run.status == ScheduleRunStatus.FAILED
    assert "no working time" in run.message and "LB3000" in run.message
    assert not ScheduleEntry.objects.exists()


@pytest.mark.django_db
def test_a_fixture_that_fits_none_of_its_machines_is_named(shop, planner):
    fixture = Fixture.objects.create(code="VISE-6", name="6 in vise", kind="vise")
    shop.job.operations.filter(operation_number=20).update(fixture=fixture)
    with pytest.raises(ProblemError, match="VISE-6"):
        from jobs.scheduling.engine import solve

        solve(schedule_problem_build().problem, solver="edd")
    run = run_now(planner)
    assert run.status == ScheduleRunStatus.FAILED and "VISE-6" in run.message


@pytest.mark.django_db
def test_an_operation_without_an_active_machine_is_named(shop, planner):
    shop.vf2.active = shop.vf4.active = False
    shop.vf2.save(), shop.vf4.save()
    run = run_now(planner)
    assert run.status == ScheduleRunStatus.FAILED
    assert f"{shop.job.number}/20" in run.message and "no active eligible machine" in run.message


@pytest.mark.django_db
def test_a_run_writes_its_entries_and_figures_beside_edd(shop, planner):
    run = run_now(planner)
    assert run.status == ScheduleRunStatus.SUCCEEDED, run.message
    entries = list(run.entries.select_related("operation").order_by("starts_at"))
    assert [e.operation.operation_number for e in entries] == [10, 20]
    turn, mill = entries
    assert mill.starts_at >= turn.ends_at and mill.machine in (shop.vf2, shop.vf4)
    for entry in entries:  # inside the 06:00-23:00 windows
        start = timezone.localtime(entry.starts_at - dt.timedelta(minutes=entry.changeover_minutes))
        assert dt.time(6) <= start.time() and timezone.localtime(entry.ends_at).time() <= dt.time(23)
    assert set(run.figures) >= {"weighted_tardiness", "tardy_jobs", "changeover_minutes", "makespan_minutes"}
    assert set(run.baseline_figures) == set(run.figures)
    assert run.progress == 1 and run.finished_at and run.problem["operations"]


@pytest.mark.django_db
def test_changeover_rules_size_the_changeover_from_the_machines_current_setup(shop, planner):
    shop.lathe.setup_material = "STEEL"
    shop.lathe.save()
    shop.job.operations.update(material="AL6061")
    ChangeoverRule.objects.create(work_center=shop.lathes, attribute="material", minutes=40)
    run = run_now(planner)
    turn = run.entries.get(operation__operation_number=10)
    assert turn.changeover_minutes == 40


@pytest.mark.django_db
def test_one_run_at_a_time_and_parameters_checked(shop, planner, operator):
    with pytest.raises(Forbidden):
        schedule_run_request(user=operator)
    parsed = ScheduleRunInput(data={"time_limit": "soon", "weights": [0, 0, 0]})  # what the page and the API read
    assert not parsed.is_valid() and parsed.errors.keys() == {"time_limit", "weights"}
    with pytest.raises(ApplicationError) as bad:
        schedule_run_request(user=planner, base_run_id=987654)
    assert bad.value.field == "base_run"
    first = schedule_run_request(user=planner)
    with pytest.raises(Conflict, match=f"Run {first.pk}"):
        schedule_run_request(user=planner)
    assert ScheduleRun.objects.count() == 1


@pytest.mark.django_db
def test_publish_replaces_the_published_run_and_feeds_the_dispatch_list(shop, planner, operator):
    from jobs.selectors import dispatch_list

    first = run_now(planner)
    with pytest.raises(Forbidden):
        schedule_run_publish(user=operator, run_id=first.pk)
    schedule_run_publish(user=planner, run_id=first.pk)
    second = run_now(planner)
    schedule_run_publish(user=planner, run_id=second.pk)
    schedule_run_publish(user=planner, run_id=second.pk)  # a retry changes nothing
    assert list(ScheduleRun.objects.filter(published=True)) == [second]
    turn_entry = second.entries.get(operation__operation_number=10)
    (row,) = dispatch_list(machine_id=shop.lathe.pk)
    assert row.scheduled_start == turn_entry.starts_at


@pytest.mark.django_db
def test_a_failed_run_cannot_be_published_and_leaves_the_published_one(shop, planner):
    good = run_now(planner)
    schedule_run_publish(user=planner, run_id=good.pk)
    shop.vf2.active = shop.vf4.active = False
    shop.vf2.save(), shop.vf4.save()
    bad = run_now(planner)
    with pytest.raises(Conflict):
        schedule_run_publish(user=planner, run_id=bad.pk)
    good.refresh_from_db()
    assert good.published and good.entries.count() == 2


@pytest.mark.django_db
def test_cancel_a_queued_run_and_the_worker_skips_it(shop, planner):
    run = schedule_run_request(user=planner)
    schedule_run_cancel(user=planner, run_id=run.pk)
    schedule_run_cancel(user=planner, run_id=run.pk)  # a retry is harmless
    assert schedule_run_execute(run_id=run.pk).status == ScheduleRunStatus.CANCELLED
    assert not run.entries.exists()


@pytest.mark.django_db
def test_a_run_whose_worker_stopped_is_failed_and_a_new_run_can_start(shop, planner):
    run = schedule_run_request(user=planner)
    ScheduleRun.objects.filter(pk=run.pk).update(status=ScheduleRunStatus.RUNNING,
                                                 heartbeat_at=timezone.now() - dt.timedelta(seconds=20))
    assert schedule_runs_fail_stale() == 0  # still within its heartbeat allowance
    assert schedule_runs_fail_stale(now=timezone.now() + dt.timedelta(seconds=15)) == 1
    run.refresh_from_db()
    assert run.status == ScheduleRunStatus.FAILED and "stopped answering" in run.message
    assert run_now(planner).status == ScheduleRunStatus.SUCCEEDED


@pytest.mark.django_db
def test_locked_entries_stay_in_the_next_run_and_a_move_is_re_run_around(shop, planner):
    first = run_now(planner)
    mill = first.entries.get(operation__operation_number=20)
    other = shop.vf2 if mill.machine == shop.vf4 else shop.vf4
    starts_at = (mill.starts_at + dt.timedelta(days=1)).replace(second=0, microsecond=0)
    with pytest.raises(ApplicationError) as refused:
        schedule_entry_move(user=planner, entry_id=mill.pk, machine_id=shop.lathe.pk, starts_at=starts_at)
    assert refused.value.field == "machine"
    moved = schedule_entry_move(user=planner, entry_id=mill.pk, machine_id=other.pk, starts_at=starts_at)
    assert moved.locked and moved.machine == other
    with pytest.raises(Conflict, match="re-run"):
        schedule_run_publish(user=planner, run_id=first.pk)

    second = run_now(planner, base_run_id=first.pk)
    kept = second.entries.get(operation__operation_number=20)
    assert (kept.machine, kept.starts_at, kept.locked) == (other, starts_at, True)
    schedule_entry_lock(user=planner, entry_id=kept.pk, locked=False)
    third = run_now(planner, base_run_id=second.pk)
    assert not third.entries.get(operation__operation_number=20).locked


@pytest.mark.django_db
def test_a_batch_longer_than_a_shift_goes_on_the_next_morning(shop, planner):
    # 100 pieces of 12.5 min on the lathe: 1,250 run minutes against 17-hour days.
    job = JobFactory(part_revision=shop.revision, quantity=100)
    job_release(job_id=job.pk, user=planner)
    run = run_now(planner)
    assert run.status == ScheduleRunStatus.SUCCEEDED, run.message
    turn = run.entries.get(operation__job=job, operation__operation_number=10)
    starts, ends = timezone.localtime(turn.starts_at), timezone.localtime(turn.ends_at)
    nights = (ends.date() - starts.date()).days
    assert nights >= 1
    # Working minutes only: setup 60 + run 1,250, the nights (7 h each) added on top.
    assert (turn.ends_at - turn.starts_at) == dt.timedelta(minutes=60 + 1250 + nights * 7 * 60)
