"""History recorded through the import reports its pieces as they were made, so that a day's effectiveness
counts the parts of that day's running time (a whole batch at completion put days over 100 %)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from jobs.models import JobOperation, JobOperationMachine, ProductionEntry
from jobs.services.history_import import FinishedOperation, operations_import_finished
from machines.choices import MachineState
from machines.models import MachineStateEvent
from reporting.builders import oee_report
from reporting.filters import ReportFilter

pytestmark = [pytest.mark.django_db, pytest.mark.dialects]

MONDAY, TUESDAY = dt.date(2026, 6, 1), dt.date(2026, 6, 2)


def at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def test_imported_pieces_count_by_the_running_time_that_made_them(floor, operator):
    lathe, turn = floor.shop.lathe, floor.turn
    JobOperation.objects.filter(pk=turn.pk).update(cycle_minutes=Decimal("10"))
    JobOperationMachine.objects.filter(operation=turn).update(cycle_minutes=Decimal("10"))
    running = [(at(MONDAY, 10), at(MONDAY, 14)), (at(TUESDAY, 6), at(TUESDAY, 8))]  # 4 h, then 2 h
    for start, end in running:
        MachineStateEvent.objects.create(machine=lathe, state=MachineState.RUNNING, started_at=start, ended_at=end)
    operations_import_finished(user=operator, running={turn.pk: running}, records=[
        FinishedOperation(operation_id=turn.pk, machine_id=lathe.pk, operator=operator, labour=(),
                          finished_at=at(TUESDAY, 8), good=30, scrap=3, scrap_reason=floor.chips)])
    entries = ProductionEntry.objects.filter(operation=turn).order_by("recorded_at")
    assert [(e.recorded_at, e.quantity_good, e.quantity_scrap) for e in entries] == [
        (at(MONDAY, 14), 20, 2), (at(TUESDAY, 8), 10, 1)]  # two thirds of the running time, then one third
    period = ReportFilter(date_from=MONDAY, date_to=TUESDAY, machine_id=lathe.pk, bucket="day")
    days = {row["bucket"]: row for row in oee_report(period, now=at(TUESDAY, 12)).rows}
    # 33 pieces x 10 min = 5.5 h of standard in 6 h of running: 91.7 % each day, not 0 % and then 275 %.
    assert [(days[d]["produced"], days[d]["effectiveness_pct"]) for d in ("2026-06-01", "2026-06-02")] == [
        (22, 91.7), (11, 91.7)]


def test_without_running_intervals_the_import_reports_once_at_the_end(floor, operator):
    operations_import_finished(user=operator, records=[
        FinishedOperation(operation_id=floor.turn.pk, machine_id=floor.shop.lathe.pk, operator=operator,
                          labour=(), finished_at=at(MONDAY, 14), good=5)])
    [entry] = ProductionEntry.objects.filter(operation=floor.turn)
    assert (entry.recorded_at, entry.quantity_good, entry.quantity_scrap) == (at(MONDAY, 14), 5, 0)
