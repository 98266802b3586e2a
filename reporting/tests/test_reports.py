"""The manager reports against hand-computed figures.

The lathe's calendar on Monday 2026-06-01 and Tuesday 2026-06-02 (America/Chicago, no DST change):
first 06-14, second 14-22 (both days), night Monday 22:00 -> Tuesday 06:00. "Now" is Tuesday 10:00.

Monday's state log (hours inside the calendar in brackets):
  05-07 idle        [06-07: 1 h delay, first shift]
  07-13 running     [6 h]
  13-15 setup       [spans the shift change: 1 h first, 1 h second]
  15-20 running     [5 h]
  20-21 planned down [1 h]
  21-02 down         [spans midnight: 1 h second + 2 h night on Monday; 2 h night on Tuesday]
  02-   running, open [counts up to now: 02-06 night, 06-10 first = 8 h on Tuesday]
Monday: POT 18, PDOT 1, PBT 17, APT 11, AUST 2, ADET 1, ADOT 3.
Production on Monday: 10:00 30 good + 2 scrap, 16:00 27 good + 1 rework; cycle 10 min, 1 part per cycle,
so planned run time = 60 pieces x 10 min = 10 h.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from jobs.models import JobOperation, JobOperationMachine, LabourEntry, ProductionEntry
from machines.choices import MachineState
from machines.models import Calendar, MachineStateEvent, ShiftWindow
from reporting.builders import NO_PLANNED_TIME, downtime_report, oee_report, scrap_report, utilization_report
from reporting.costs import SHOP_LABOUR_RATE, job_cost_report, unit_cost_curve
from reporting.filters import ReportFilter
from reporting.timemodel import time_model
from tests.factories import MachineFactory

pytestmark = [pytest.mark.django_db, pytest.mark.dialects]

MONDAY = dt.date(2026, 6, 1)
TUESDAY = dt.date(2026, 6, 2)
H = 3600.0


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


NOW = at(TUESDAY, 10)


@pytest.fixture
def history(floor, operator):
    lathe = floor.shop.lathe
    calendar = lathe.calendar
    for weekday in (0, 1):
        ShiftWindow.objects.create(calendar=calendar, name="first", weekday=weekday,
                                   start_time=dt.time(6), end_time=dt.time(14))
        ShiftWindow.objects.create(calendar=calendar, name="second", weekday=weekday,
                                   start_time=dt.time(14), end_time=dt.time(22))
    ShiftWindow.objects.create(calendar=calendar, name="night", weekday=0, start_time=dt.time(22),
                               end_time=dt.time(6))
    log = [
        (MachineState.IDLE, None, at(MONDAY, 5), at(MONDAY, 7)),
        (MachineState.RUNNING, None, at(MONDAY, 7), at(MONDAY, 13)),
        (MachineState.SETUP, None, at(MONDAY, 13), at(MONDAY, 15)),
        (MachineState.RUNNING, None, at(MONDAY, 15), at(MONDAY, 20)),
        (MachineState.PLANNED_DOWN, floor.break_, at(MONDAY, 20), at(MONDAY, 21)),
        (MachineState.DOWN, floor.alarm, at(MONDAY, 21), at(TUESDAY, 2)),
        (MachineState.RUNNING, None, at(TUESDAY, 2), None),
    ]
    for state, reason, start, end in log:
        MachineStateEvent.objects.create(machine=lathe, state=state, reason=reason, started_at=start, ended_at=end)
    JobOperation.objects.filter(pk=floor.turn.pk).update(cycle_minutes=Decimal("10"), machine=lathe)
    JobOperationMachine.objects.filter(operation=floor.turn).update(cycle_minutes=Decimal("10"))
    ProductionEntry.objects.create(operator=operator, operation=floor.turn, machine=lathe, quantity_good=30,
                                   quantity_scrap=2, scrap_reason=floor.chips, recorded_at=at(MONDAY, 10))
    ProductionEntry.objects.create(operator=operator, operation=floor.turn, machine=lathe, quantity_good=27,
                                   quantity_rework=1, recorded_at=at(MONDAY, 16))
    LabourEntry.objects.create(operator=operator, operation=floor.turn, machine=lathe, activity="setup",
                               started_at=at(MONDAY, 13), ended_at=at(MONDAY, 15))
    LabourEntry.objects.create(operator=operator, operation=floor.turn, machine=lathe, activity="run",
                               started_at=at(MONDAY, 15), ended_at=at(MONDAY, 20))
    return floor


def monday(history, **kwargs) -> ReportFilter:
    return ReportFilter(date_from=MONDAY, date_to=MONDAY, machine_id=history.shop.lathe.pk, **kwargs)


def test_the_time_model_of_a_day_clips_to_the_calendar_and_the_period(history):
    [(key, model)] = time_model(monday(history), now=NOW).items()
    assert key == ("LB3000", "period")
    assert (model.pot, model.pdot, model.pbt) == (18 * H, 1 * H, 17 * H)
    assert (model.apt, model.aust, model.adet, model.adot) == (11 * H, 2 * H, 1 * H, 3 * H)
    assert model.running_24h == 11 * H and model.hours_24h == 24 * H


def test_a_setup_across_a_shift_change_is_split_between_the_shifts(history):
    models = time_model(monday(history, bucket="shift"), now=NOW)
    first, night, second = (models[("LB3000", shift)] for shift in ("first", "night", "second"))
    assert (first.pot, first.apt, first.aust, first.adet, first.adot) == (8 * H, 6 * H, 1 * H, 1 * H, 0)
    assert (second.pot, second.apt, second.aust, second.pdot, second.adot) == (8 * H, 5 * H, 1 * H, 1 * H, 1 * H)
    assert (night.pot, night.adot, night.apt) == (2 * H, 2 * H, 0)


def test_down_across_midnight_and_an_open_interval_split_by_day(history):
    period = ReportFilter(date_from=MONDAY, date_to=TUESDAY, machine_id=history.shop.lathe.pk, bucket="day")
    models = time_model(period, now=NOW)
    tuesday = models[("LB3000", "2026-06-02")]
    # night 00-06 and first 06-10 (up to now); down 00-02, running 02-10.
    assert (tuesday.pot, tuesday.adot, tuesday.apt) == (10 * H, 2 * H, 8 * H)
    assert tuesday.hours_24h == 10 * H and tuesday.running_24h == 8 * H
    assert models[("LB3000", "2026-06-01")].adot == 3 * H


def test_the_shift_filter_keeps_only_that_shift(history):
    [(key, model)] = time_model(monday(history, shift="second"), now=NOW).items()
    assert (model.pot, model.apt, model.aust, model.pdot, model.adot) == (8 * H, 5 * H, 1 * H, 1 * H, 1 * H)
    assert model.produced == 28  # the 16:00 entry only
    assert model.running_24h == 11 * H  # the 24 h figure ignores the shift


def test_oee_and_the_iso_22400_kpis(history):
    [row] = oee_report(monday(history), now=NOW).rows
    assert (row["produced"], row["good"], row["scrap"], row["rework"]) == (60, 57, 2, 1)
    assert row["planned_run_h"] == 10.0
    assert row["availability_pct"] == round(11 / 17 * 100, 1)  # 64.7
    assert row["effectiveness_pct"] == round(10 / 11 * 100, 1)  # 90.9
    assert row["quality_pct"] == 95.0
    assert row["oee_pct"] == round(11 / 17 * 10 / 11 * 0.95 * 100, 1)  # 55.9
    assert row["nee_pct"] == round(11 / 15 * 10 / 11 * 0.95 * 100, 1)  # 63.3
    assert row["utilization_efficiency_pct"] == round(11 / 14 * 100, 1)
    assert row["allocation_efficiency_pct"] == round(14 / 17 * 100, 1)
    assert row["setup_rate_pct"] == round(2 / 13 * 100, 1)
    assert row["scrap_ratio_pct"] == round(2 / 60 * 100, 1)
    assert row["first_pass_yield_pct"] == 95.0
    assert row["throughput_per_h"] == round(60 / 17, 3)


def test_utilization_figures(history):
    [row] = utilization_report(monday(history), now=NOW).rows
    assert (row["pot_h"], row["pbt_h"], row["apt_h"], row["aust_h"], row["adet_h"], row["adot_h"]) == (
        18, 17, 11, 2, 1, 3)
    assert row["availability_pct"] == 64.7
    assert row["utilization_planned_pct"] == round(11 / 18 * 100, 1)
    assert row["utilization_24h_pct"] == round(11 / 24 * 100, 1)


def test_zero_planned_time_says_so_instead_of_dividing_by_zero(history):
    idle_machine = MachineFactory(code="NOCAL", calendar=Calendar.objects.create(name="Empty"))
    MachineStateEvent.objects.create(machine=idle_machine, state=MachineState.RUNNING, started_at=at(MONDAY, 8),
                                     ended_at=at(MONDAY, 9))
    period = ReportFilter(date_from=MONDAY, date_to=MONDAY, machine_id=idle_machine.pk)
    [row] = utilization_report(period, now=NOW).rows
    assert row["pot_h"] == 0 and row["availability_pct"] == NO_PLANNED_TIME
    assert row["utilization_planned_pct"] == NO_PLANNED_TIME
    assert row["utilization_24h_pct"] == round(1 / 24 * 100, 1)
    [oee] = oee_report(period, now=NOW).rows
    assert oee["oee_pct"] == NO_PLANNED_TIME and oee["availability_pct"] == NO_PLANNED_TIME


def test_a_period_with_no_events(history):
    week_before = MONDAY - dt.timedelta(days=7)
    period = ReportFilter(date_from=week_before, date_to=week_before, machine_id=history.shop.lathe.pk)
    [row] = utilization_report(period, now=NOW).rows
    assert row["pot_h"] == 18 and row["apt_h"] == 0 and row["availability_pct"] == 0.0
    future = ReportFilter(date_from=TUESDAY + dt.timedelta(days=1), date_to=TUESDAY + dt.timedelta(days=1),
                          machine_id=history.shop.lathe.pk)
    [row] = oee_report(future, now=NOW).rows
    assert row["pbt_h"] == 0 and row["oee_pct"] == NO_PLANNED_TIME
    assert scrap_report(future, now=NOW).rows == [] and downtime_report(future, now=NOW).rows == []


def test_a_closure_removes_planned_time(history):
    history.shop.lathe.calendar.exceptions.create(kind="closed", starts_at=at(MONDAY, 6), ends_at=at(MONDAY, 14))
    [(_, model)] = time_model(monday(history), now=NOW).items()
    assert model.pot == 10 * H and model.apt == 5 * H and model.aust == 1 * H


def test_downtime_pareto_clips_to_the_period(history):
    by_reason = downtime_report(monday(history), now=NOW)
    assert [(r["item"], r["hours"], r["stops"]) for r in by_reason.rows] == [("ALARM", 3.0, 1), ("BREAK", 1.0, 1)]
    assert [r["cumulative_pct"] for r in by_reason.rows] == [75.0, 100.0]
    [machine] = downtime_report(monday(history), by="machine", now=NOW).rows
    assert (machine["item"], machine["hours"]) == ("LB3000", 4.0)


def test_scrap_pareto(history):
    assert [(r["item"], r["scrap"]) for r in scrap_report(monday(history), now=NOW).rows] == [("DIM", 2)]
    part = history.shop.revision.part.number
    assert [(r["item"], r["scrap"]) for r in scrap_report(monday(history), by="part", now=NOW).rows] == [(part, 2)]
    assert [r["item"] for r in scrap_report(monday(history), by="machine", now=NOW).rows] == ["LB3000"]


def test_job_cost_from_labour_and_the_rate_at_release(history):
    table = job_cost_report(monday(history), now=NOW)
    [turn] = [r for r in table.rows if r["operation"].startswith("10 ")]
    option = JobOperationMachine.objects.get(operation=history.turn, machine=history.shop.lathe)
    rate = float(option.hourly_rate) + float(SHOP_LABOUR_RATE)
    assert (turn["act_setup_h"], turn["act_run_h"]) == (2.0, 5.0)
    assert turn["est_setup_h"] == round(float(option.setup_minutes) / 60, 3)
    assert turn["est_run_h"] == round(10 * 10 / 60, 3)  # 10 pieces x 10 min
    assert turn["rate"] == round(rate, 2)
    assert turn["cost"] == round(7 * rate, 2)
    assert turn["setup_share_pct"] == round(2 / 7 * 100, 1)


def test_unit_cost_curve_by_batch_size(small_shop):
    table = unit_cost_curve(part_revision_id=small_shop.revision.pk, now=NOW)
    labour = float(SHOP_LABOUR_RATE)
    # Turn: 60 min setup, no ranked machine (labour only); mill: VF4 ranked first, 45 min setup, 110/h.
    setup = 1.0 * labour + 0.75 * (110 + labour)
    per_piece = 12.5 / 60 * labour + 12.5 / 60 * (110 + labour)
    by_size = {r["batch"]: r for r in table.rows}
    assert list(by_size) == [1, 2, 5, 10, 25, 50]
    for size in (1, 10, 50):
        assert by_size[size]["unit_cost"] == round((setup + size * per_piece) / size, 2)
    assert by_size[1]["unit_cost"] > by_size[50]["unit_cost"]


def test_pieces_reported_outside_the_calendar_count_for_the_day_not_for_a_shift(history, operator):
    ProductionEntry.objects.create(operator=operator, operation=history.turn, machine=history.shop.lathe,
                                   quantity_good=5, recorded_at=at(MONDAY, 5, 30))
    [(_, day)] = time_model(monday(history), now=NOW).items()
    assert (day.produced, day.good) == (65, 62)
    shifts = time_model(monday(history, bucket="shift"), now=NOW)
    assert sum(model.produced for model in shifts.values()) == 60


def test_by_shift_there_are_only_real_shifts_and_no_24_hour_column(history):
    table = utilization_report(monday(history, bucket="shift"), now=NOW)
    assert [row["bucket"] for row in table.rows] == ["first", "night", "second"]
    assert "utilization_24h_pct" not in dict(table.columns) and "24 h" in table.notes[0]
    [whole] = utilization_report(monday(history), now=NOW).rows
    assert whole["utilization_24h_pct"] == round(11 / 24 * 100, 1)  # kept for the whole period


def test_the_shift_filter_keeps_scrap_reported_in_that_shift(history):
    # The 2 scrapped pieces were reported at 10:00, in the first shift.
    assert [(r["item"], r["scrap"]) for r in scrap_report(monday(history, shift="first"), now=NOW).rows] == [
        ("DIM", 2)]
    assert scrap_report(monday(history, shift="second"), now=NOW).rows == []
    assert scrap_report(monday(history, shift="night"), by="machine", now=NOW).rows == []


def test_the_shift_filter_clips_downtime_to_that_shifts_windows(history):
    # Second shift 14-22: planned down 20-21 and the alarm's 21-22; night 22-24 on Monday: 2 h of the alarm.
    second = downtime_report(monday(history, shift="second"), now=NOW)
    assert [(r["item"], r["hours"], r["stops"]) for r in second.rows] == [("ALARM", 1.0, 1), ("BREAK", 1.0, 1)]
    night = downtime_report(monday(history, shift="night"), by="machine", now=NOW)
    assert [(r["item"], r["hours"], r["stops"]) for r in night.rows] == [("LB3000", 2.0, 1)]
    assert downtime_report(monday(history, shift="first"), now=NOW).rows == []
