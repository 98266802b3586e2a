"""The reports of a machine whose own signals feed its status log, against hand-computed figures.

VF2 (MTConnect, connected) on Monday 2026-06-01 (America/Chicago), one shift "first" 06:00-14:00; "now" is
Monday 16:00. Its status log, every interval written by the machine's signals (source mtconnect):
  Sun 22:00-06:00 idle            (before the shift: not planned time)
  06:00-08:00 running             2 h
  08:00-08:40 stopped             40 min, a feed hold nobody explains
  08:40-10:00 running             1 h 20
  10:00-10:20 alarm               20 min, explained afterwards as TOOL "Tool breakage" (stop_explain)
  10:20-12:00 running             1 h 40
  12:00-12:30 disconnected        30 min, the collector lost the connection
  12:30-      idle, open          1 h 30 inside the shift (no operation), then up to now
Time model over the shift: POT 8 h, PDOT 0, PBT 8 h, APT 2 + 1 1/3 + 1 2/3 = 5 h, AUST 0,
  ADET = stopped 2/3 + alarm 1/3 + idle 1.5 = 2.5 h, ADOT 0, unknown 0.5 h; 5 + 2.5 + 0.5 = 8 = POT.
  Time with data: PBT - unknown = 7.5 h. Availability 5 / 7.5 = 66.7 %; utilization (planned) 5 / (8 - 0.5)
  = 66.7 %; unknown 0.5 / 8 = 6.25 % of POT. AUBT = 5 + 0 + 2.5 = 7.5 h: utilization efficiency 5 / 7.5
  = 66.7 %, allocation efficiency 7.5 / 7.5 = 100 %.
  Whole day up to now (00:00-16:00 = 16 h): running 5 h, unknown 0.5 h: utilization (24 h) 5 / 15.5 = 32.3 %.
Downtime pareto: before the explanation, Unassigned 1 h (2 stops); after it, Unassigned 40 min = 0.667 h and
  TOOL 20 min = 0.333 h (1 stop each).
Labour entries of activity run on VF2 (the operators' claim): Ana 06:00-10:00 and 10:20-13:00, Ben 09:00-11:00;
  their union 06:00-13:00 = 7 h (Ben's hours lie inside Ana's and the 20-min break between hers). Ana's setup
  05:30-06:00 is not run. Reported 7 h, measured 5 h: gap 2 h, 2 / 7 = 28.6 % of reported; unknown 0.5 h.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.models import LabourEntry
from machines.choices import MachineState, StateSource
from machines.connectivity.services import stop_explain
from machines.models import DowntimeReason, MachineConnection, MachineStateEvent, ShiftWindow
from reporting.builders import MACHINE_FED, NO_DATA, OPERATOR_REPORTED, downtime_report, oee_report, utilization_report
from reporting.filters import ReportFilter
from reporting.runtime import run_comparison_report
from reporting.timemodel import time_model

pytestmark = [pytest.mark.django_db, pytest.mark.dialects]

SUNDAY, MONDAY = dt.date(2026, 5, 31), dt.date(2026, 6, 1)
H = 3600.0


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


NOW = at(MONDAY, 16)


@pytest.fixture
def connected(floor, operator, make_user):
    vf2 = floor.shop.vf2
    ShiftWindow.objects.create(calendar=vf2.calendar, name="first", weekday=0, start_time=dt.time(6),
                               end_time=dt.time(14))
    MachineConnection.objects.create(machine=vf2, connected=True)
    DowntimeReason.objects.create(code="TOOL", label="Tool breakage")
    log = [
        (MachineState.IDLE, at(SUNDAY, 22), at(MONDAY, 6)),
        (MachineState.RUNNING, at(MONDAY, 6), at(MONDAY, 8)),
        (MachineState.STOPPED, at(MONDAY, 8), at(MONDAY, 8, 40)),
        (MachineState.RUNNING, at(MONDAY, 8, 40), at(MONDAY, 10)),
        (MachineState.ALARM, at(MONDAY, 10), at(MONDAY, 10, 20)),
        (MachineState.RUNNING, at(MONDAY, 10, 20), at(MONDAY, 12)),
        (MachineState.DISCONNECTED, at(MONDAY, 12), at(MONDAY, 12, 30)),
        (MachineState.IDLE, at(MONDAY, 12, 30), None),
    ]
    for state, start, end in log:
        MachineStateEvent.objects.create(machine=vf2, state=state, started_at=start, ended_at=end,
                                         source=StateSource.MTCONNECT)
    ben = make_user("operator", username="ben")
    for who, activity, start, end in [
        (operator, "setup", at(MONDAY, 5, 30), at(MONDAY, 6)),
        (operator, "run", at(MONDAY, 6), at(MONDAY, 10)),
        (operator, "run", at(MONDAY, 10, 20), at(MONDAY, 13)),
        (ben, "run", at(MONDAY, 9), at(MONDAY, 11)),
    ]:
        LabourEntry.objects.create(operator=who, operation=floor.mill, machine=vf2, activity=activity,
                                   started_at=start, ended_at=end)
    return floor


def monday(floor, machine=None, **kwargs) -> ReportFilter:
    machine = machine or floor.shop.vf2
    return ReportFilter(date_from=MONDAY, date_to=MONDAY, machine_id=machine.pk, **kwargs)


def explain_the_alarm(floor, operator) -> None:
    alarm = MachineStateEvent.objects.get(machine=floor.shop.vf2, state=MachineState.ALARM)
    stop_explain(machine_id=floor.shop.vf2.pk, event_id=alarm.pk,
                 reason_id=DowntimeReason.objects.get(code="TOOL").pk, user=operator)


def test_every_time_element_of_the_connected_day(connected):
    [(key, model)] = time_model(monday(connected), now=NOW).items()
    assert key == ("VF2", "period")
    assert (model.pot, model.pdot, model.pbt) == (8 * H, 0, 8 * H)
    assert (model.apt, model.aust, model.adot) == (5 * H, 0, 0)
    assert model.adet == pytest.approx(2.5 * H)  # stopped 40 min + alarm 20 min + idle 1 h 30
    assert model.unknown == 0.5 * H  # disconnected: in no other element
    assert model.pot == pytest.approx(model.pdot + model.apt + model.aust + model.adet + model.adot + model.unknown)
    assert (model.running_24h, model.hours_24h, model.unknown_24h) == (5 * H, 16 * H, 0.5 * H)


def test_the_kpis_divide_by_the_time_with_data_and_show_the_unknown_share(connected):
    [row] = utilization_report(monday(connected), now=NOW).rows
    assert (row["pot_h"], row["pbt_h"], row["apt_h"], row["adet_h"], row["adot_h"]) == (8, 8, 5, 2.5, 0)
    assert (row["unknown_h"], row["unknown_pct"]) == (0.5, round(0.5 / 8 * 100, 1))
    assert row["availability_pct"] == round(5 / 7.5 * 100, 1)  # 66.7, not 5 / 8 = 62.5
    assert row["utilization_planned_pct"] == round(5 / 7.5 * 100, 1)
    assert row["utilization_24h_pct"] == round(5 / 15.5 * 100, 1)  # 32.3
    assert row["source"] == MACHINE_FED
    [oee] = oee_report(monday(connected), now=NOW).rows
    assert (oee["availability_pct"], oee["utilization_efficiency_pct"], oee["allocation_efficiency_pct"]) == (
        66.7, 66.7, 100.0)
    assert (oee["unknown_pct"], oee["source"]) == (6.2, MACHINE_FED)


def test_a_terminal_machine_is_operator_reported(connected):
    lathe = connected.shop.lathe
    MachineStateEvent.objects.create(machine=lathe, state=MachineState.RUNNING, started_at=at(MONDAY, 6),
                                     ended_at=at(MONDAY, 7))
    [row] = utilization_report(monday(connected, lathe), now=NOW).rows
    assert (row["source"], row["unknown_h"]) == (OPERATOR_REPORTED, 0)
    assert run_comparison_report(monday(connected, lathe), now=NOW).rows == []  # no signals, nothing to compare
    shop = utilization_report(ReportFilter(date_from=MONDAY, date_to=MONDAY, group="shop"), now=NOW)
    assert shop.rows[0]["source"] == f"{MACHINE_FED}: 1 of 3 machines"


def test_a_shift_spent_disconnected_has_no_data_rather_than_zero_availability(connected):
    vf2 = connected.shop.vf2
    MachineStateEvent.objects.filter(machine=vf2, started_at__gte=at(MONDAY, 6)).delete()
    MachineStateEvent.objects.filter(machine=vf2).update(ended_at=at(MONDAY, 5))
    MachineStateEvent.objects.create(machine=vf2, state=MachineState.DISCONNECTED, started_at=at(MONDAY, 5),
                                     source=StateSource.MTCONNECT)
    [row] = utilization_report(monday(connected), now=NOW).rows
    assert (row["pot_h"], row["apt_h"], row["adet_h"], row["unknown_h"], row["unknown_pct"]) == (8, 0, 0, 8, 100)
    assert row["availability_pct"] == row["utilization_planned_pct"] == NO_DATA
    [oee] = oee_report(monday(connected), now=NOW).rows
    assert oee["availability_pct"] == oee["oee_pct"] == oee["allocation_efficiency_pct"] == NO_DATA


@pytest.mark.parametrize("shift", ["", "first"])
def test_an_unexplained_stop_is_unassigned_until_someone_gives_its_reason(connected, operator, shift):
    # Both SQL paths: without a shift the ORM's clipping to the period, with one the shift's windows.
    def pareto(by="reason"):
        return [(r["item"], r["hours"], r["stops"]) for r in downtime_report(monday(connected, shift=shift), by=by,
                                                                            now=NOW).rows]

    assert pareto() == [("Unassigned", 1.0, 2)]
    explain_the_alarm(connected, operator)
    assert pareto() == [("Unassigned", 0.667, 1), ("TOOL", 0.333, 1)]
    assert pareto(by="machine") == [("VF2", 1.0, 2)]


@pytest.mark.parametrize("shift", ["", "first"])
def test_operator_reported_against_machine_measured_run_time(connected, shift):
    table = run_comparison_report(ReportFilter(date_from=MONDAY, date_to=MONDAY, shift=shift), now=NOW)
    assert table.rows == [{"machine": "VF2", "since": "", "reported_h": 7.0, "measured_h": 5.0, "gap_h": 2.0,
                           "gap_pct": round(2 / 7 * 100, 1), "unknown_h": 0.5}]


def test_run_time_is_compared_from_when_the_machine_is_monitored(connected, operator):
    """VF4, monitored from 09:00: its terminal log before, the machine's after. Operator run 07:00-12:00, the
    machine ran 09:00-11:00 by its signals: compared from 09:00, reported 3 h, measured 2 h, gap 1 h = 33.3 %."""
    vf4 = connected.shop.vf4
    for state, start, end, source in [
        (MachineState.RUNNING, at(MONDAY, 7), at(MONDAY, 9), StateSource.TERMINAL),
        (MachineState.RUNNING, at(MONDAY, 9), at(MONDAY, 11), StateSource.MTCONNECT),
        (MachineState.STOPPED, at(MONDAY, 11), at(MONDAY, 12), StateSource.MTCONNECT),
        (MachineState.IDLE, at(MONDAY, 12), None, StateSource.TERMINAL),
    ]:
        MachineStateEvent.objects.create(machine=vf4, state=state, started_at=start, ended_at=end, source=source)
    LabourEntry.objects.create(operator=operator, operation=connected.mill, machine=vf4, activity="run",
                               started_at=at(MONDAY, 7), ended_at=at(MONDAY, 12))
    [row] = run_comparison_report(monday(connected, vf4), now=NOW).rows
    assert row == {"machine": "VF4", "since": "2026-06-01 09:00", "reported_h": 3.0, "measured_h": 2.0,
                   "gap_h": 1.0, "gap_pct": round(1 / 3 * 100, 1), "unknown_h": 0}
    [utilization] = utilization_report(monday(connected, vf4), now=NOW).rows
    assert utilization["source"] == f"{OPERATOR_REPORTED}, {MACHINE_FED} from 2026-06-01 09:00"


def test_the_comparison_takes_the_same_queries_whatever_the_data(connected, operator):
    def report_queries(shift: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            table = run_comparison_report(ReportFilter(date_from=MONDAY, date_to=MONDAY, shift=shift), now=NOW)
        return len(captured), len(table.rows)

    before = {shift: report_queries(shift) for shift in ("", "first")}
    vf4, moment = connected.shop.vf4, at(MONDAY, 6)
    for n in range(48):  # VF4 joins with 48 intervals and as many labour entries
        end = moment + dt.timedelta(minutes=10)
        MachineStateEvent.objects.create(machine=vf4, state=MachineState.STOPPED if n % 2 else MachineState.RUNNING,
                                         started_at=moment, ended_at=end, source=StateSource.MTCONNECT)
        LabourEntry.objects.create(operator=operator, operation=connected.mill, machine=vf4, activity="run",
                                   started_at=moment, ended_at=end)
        moment = end
    for shift, (queries, rows) in before.items():
        assert report_queries(shift) == (queries, rows + 1)
