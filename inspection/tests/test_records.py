"""In-process and final inspection records: readings judged exactly as first-article rows, gauges
refused out of calibration, failing readings raising nonconformances that hold the operation, and the
gauge recall finding these readings too."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import PASSWORD
from core.errors import ApplicationError, Conflict, Forbidden
from inspection.choices import Disposition, GaugeStatus, InspectionKind, NCSource, Verdict
from inspection.models import InspectionReading, InspectionRecord, NonConformance
from inspection.recall import gauge_recall_rows
from inspection.selectors import gauge_recall_entries
from inspection.services.first_articles import fai_approve, fai_open_for_operation, fai_result_record, fai_submit
from inspection.services.gauges import gauge_calibrate
from inspection.services.nonconformances import nc_disposition
from inspection.services.records import inspection_record_create
from jobs.choices import OperationStatus
from jobs.services.operations import operation_start_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(waiting, inspector, operator):
    """The milling operation's first article approved and the run started."""
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    fai_result_record(report_id=report.pk, characteristic_id=waiting.bore.pk, user=inspector, value="10",
                      gauge_id=waiting.caliper.pk)
    fai_result_record(report_id=report.pk, characteristic_id=waiting.length.pk, user=inspector, value="50",
                      gauge_id=waiting.micrometer.pk)
    fai_result_record(report_id=report.pk, characteristic_id=waiting.finish.pk, user=inspector, accepted=True)
    fai_submit(report_id=report.pk, user=inspector)
    fai_approve(report_id=report.pk, user=inspector, password=PASSWORD)
    operation_start_run(operation_id=waiting.operation.pk, user=operator)
    waiting.operation.refresh_from_db()
    return waiting


def bore(w, value, piece="5", gauge=None):
    return {"characteristic": w.bore.pk, "piece": piece, "value": value, "gauge": (gauge or w.caliper).pk}


def check(w, user, *readings, kind=InspectionKind.IN_PROCESS, **extra):
    return inspection_record_create(operation_id=w.operation.pk, user=user, kind=kind, readings=list(readings),
                                    **extra)


@pytest.mark.parametrize(("typed", "verdict"), [
    ("9.98", Verdict.PASS), ("10.02", Verdict.PASS), ("9.97999", Verdict.FAIL), ("10.02001", Verdict.FAIL),
    ("0.3937 in", Verdict.PASS), ("10000 um", Verdict.PASS),
])
def test_a_reading_passes_or_fails_from_the_limits_as_a_first_article_row(running, inspector, typed, verdict):
    record = check(running, inspector, bore(running, typed))
    reading = record.readings.get()
    assert reading.verdict == verdict and record.accepted is (verdict == Verdict.PASS)


def test_an_in_process_check_of_two_pieces(running, inspector):
    record = check(running, inspector, bore(running, "10.01", "1"), bore(running, "9.99", "10"),
                   {"characteristic": running.finish.pk, "piece": "10", "accepted": True})
    assert (record.kind, record.sample_size, record.pieces, record.accepted) == (
        InspectionKind.IN_PROCESS, 2, "1, 10", True)
    assert record.job == running.operation.job and record.inspector == inspector
    readings = {(r.characteristic.balloon_number, r.piece): r for r in record.readings.all()}
    assert readings["1", "1"].measured_value == Decimal("10.01") and readings["1", "1"].gauge == running.caliper
    assert readings["3", "10"].attribute_accepted is True
    assert not NonConformance.objects.exists()
    running.operation.refresh_from_db()
    assert running.operation.status == OperationStatus.RUNNING


def test_failing_readings_raise_nonconformances_that_hold_the_operation_until_both_are_dispositioned(running,
                                                                                                   inspector):
    record = check(running, inspector, bore(running, "10.05", "7"),
                   {"characteristic": running.finish.pk, "piece": "7", "accepted": False})
    assert record.accepted is False
    failed = list(record.readings.order_by("characteristic__balloon_number"))
    assert all(r.verdict == Verdict.FAIL and r.nonconformance for r in failed)
    first, second = (r.nonconformance for r in failed)
    assert first.source == NCSource.IN_PROCESS and first.operation == running.operation
    assert f"{record.label} (in-process check) piece 7 balloon 1: 10.05 mm, required 9.98000–10.02000 mm" \
        in first.description
    assert first.holds_operation and second.holds_operation
    running.operation.refresh_from_db()
    assert running.operation.status == OperationStatus.ON_HOLD
    nc_disposition(nc_id=first.pk, user=inspector, disposition=Disposition.REWORK)
    running.operation.refresh_from_db()
    assert running.operation.status == OperationStatus.ON_HOLD  # the other still holds it
    nc_disposition(nc_id=second.pk, user=inspector, disposition=Disposition.SCRAP)
    running.operation.refresh_from_db()
    assert running.operation.status == OperationStatus.RUNNING


def test_a_final_inspection_covers_the_whole_plan_and_an_in_process_check_only_up_to_its_operation(
        running, inspector, operator):
    turn = running.floor.turn
    with pytest.raises(ApplicationError, match="not in the inspection plan checked at operation 10"):
        inspection_record_create(operation_id=turn.pk, user=inspector, kind=InspectionKind.IN_PROCESS,
                                 readings=[bore(running, "10")])
    final = inspection_record_create(operation_id=turn.pk, user=inspector, kind=InspectionKind.FINAL,
                                     readings=[bore(running, "10.03")])
    assert final.readings.get().nonconformance.source == NCSource.FINAL


@pytest.mark.parametrize(("reading", "message", "code"), [
    ({"value": "abc"}, "Balloon 1, piece 5: “abc” is not a number.", "not_a_number"),
    ({"value": "10 kg"}, "Balloon 1, piece 5: The value is in “kg”", "wrong_unit"),
    ({"value": ""}, "Enter the measured value of balloon 1", "invalid"),
    ({"value": "10.000001"}, "at most 5 decimals", "out_of_range"),
    ({"gauge": None}, "Choose the Caliper you measured with", "invalid"),
])
def test_a_bad_reading_is_refused_with_its_balloon_and_nothing_is_saved(running, inspector, reading, message,
                                                                        code):
    good_but_failing = {"characteristic": running.finish.pk, "piece": "5", "accepted": False}
    bad = bore(running, "10") | reading
    if "gauge" in reading:
        bad["gauge"] = None
    with pytest.raises(ApplicationError) as refusal:
        check(running, inspector, good_but_failing, bad)
    assert message in refusal.value.message and refusal.value.code == code
    assert not InspectionRecord.objects.exists() and not InspectionReading.objects.exists()
    assert not NonConformance.objects.exists()  # the failing reading before it raised nothing
    running.operation.refresh_from_db()
    assert running.operation.status == OperationStatus.RUNNING


def test_an_overdue_or_quarantined_gauge_or_one_of_another_type_is_refused(running, inspector):
    running.caliper.next_due_on = timezone.localdate() - dt.timedelta(days=1)
    running.caliper.save()  # still "active" until tonight's task
    with pytest.raises(Conflict, match="G-001 is overdue"):
        check(running, inspector, bore(running, "10"))
    running.caliper.next_due_on = timezone.localdate() + dt.timedelta(days=100)
    running.caliper.status = GaugeStatus.QUARANTINED
    running.caliper.save()
    with pytest.raises(Conflict, match="G-001 is quarantined"):
        check(running, inspector, bore(running, "10"))
    with pytest.raises(ApplicationError, match="is a Micrometer"):
        check(running, inspector, bore(running, "10", gauge=running.micrometer))
    assert not InspectionRecord.objects.exists()


def test_only_an_inspector_records_a_check(running, operator, planner):
    for user in (operator, planner):
        with pytest.raises(Forbidden):
            check(running, user, bore(running, "10"))
    assert not InspectionRecord.objects.exists()


def test_other_refusals(running, inspector, floor):
    with pytest.raises(ApplicationError, match="entered twice"):
        check(running, inspector, bore(running, "10"), bore(running, "10.01"))
    with pytest.raises(ApplicationError, match="at least one reading"):
        check(running, inspector)
    with pytest.raises(ApplicationError, match="in-process or a final"):
        check(running, inspector, bore(running, "10"), kind="weekly")
    with pytest.raises(ApplicationError, match="sample size is 1 but readings name 2 pieces"):
        check(running, inspector, bore(running, "10", "1"), bore(running, "10", "2"), sample_size=1)
    with pytest.raises(ApplicationError, match="not a whole number"):
        check(running, inspector, bore(running, "10"), sample_size="many")
    assert check(running, inspector, bore(running, "10", ""), sample_size="5").sample_size == 5
    assert InspectionRecord.objects.count() == 1


def test_no_check_before_a_piece_is_made_or_without_a_plan(floor, inspector, waiting):
    fresh = floor.shop.job.operations.get(operation_number=20)
    fresh.status = OperationStatus.READY
    fresh.save()
    with pytest.raises(Conflict, match="no piece has been made"):
        inspection_record_create(operation_id=fresh.pk, user=inspector, kind=InspectionKind.IN_PROCESS,
                                 readings=[bore(waiting, "10")])
    waiting.plan.characteristics.all().delete()
    with pytest.raises(Conflict, match="add the plan first"):
        inspection_record_create(operation_id=floor.turn.pk, user=inspector, kind=InspectionKind.FINAL,
                                 readings=[bore(waiting, "10")])


def test_the_recall_lists_in_process_readings_with_their_jobs(running, inspector):
    today = timezone.localdate()
    gauge_calibrate(gauge_id=running.caliper.pk, user=inspector, calibrated_on=today - dt.timedelta(days=60),
                    as_found_in_tolerance=True, as_left_in_tolerance=True, certificate_number="C1",
                    performed_by="Lab")
    record = check(running, inspector, bore(running, "10.01", "12"))
    check(running, inspector, {"characteristic": running.length.pk, "value": "50", "gauge": running.micrometer.pk})
    assert gauge_recall_entries(gauge_id=running.caliper.pk) == []  # not found out of tolerance yet
    gauge_calibrate(gauge_id=running.caliper.pk, user=inspector, calibrated_on=today, as_found_in_tolerance=False,
                    as_left_in_tolerance=True, certificate_number="C2", performed_by="Lab")
    entries = gauge_recall_entries(gauge_id=running.caliper.pk)
    # The first-article row measured with the caliper and the in-process reading, oldest first.
    assert [(e.inspection, e.balloon) for e in entries] == [("First article", "1"), ("In-process", "1")]
    row = gauge_recall_rows(entries)[1]
    assert row[:3] == ["G-001", row[1], running.operation.job.number]
    assert row[3:6] == ["20", running.floor.shop.revision.part.number, record.label]
    assert row[7:11] == ["1", "10.01000", "mm", "Pass"] and row[12:14] == ["In-process", "12"]
