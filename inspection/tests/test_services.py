"""The first-article workflow, gauges and nonconformances, against the real database."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from conftest import PASSWORD
from core.errors import ApplicationError, Conflict, Forbidden
from inspection.choices import Disposition, FAIType, FormTwoKind, GaugeStatus, NCStatus, ReportStatus, Verdict
from inspection.models import CharacteristicResult, FirstArticleReport, NonConformance
from inspection.recall import gauge_recall_rows
from inspection.selectors import first_article_queue, gauge_recall, gauge_recall_entries
from inspection.services.first_articles import (
    fai_approve,
    fai_form_two_line_add,
    fai_open_for_operation,
    fai_reject,
    fai_result_record,
    fai_submit,
)
from inspection.services.gauges import gauge_calibrate, gauge_statuses_refresh
from inspection.services.measurements import measured_value_parse, verdict_of
from inspection.services.nonconformances import nc_close, nc_disposition, nc_raise
from jobs.choices import NCProgramStatus, OperationStatus
from jobs.models import NCProgram
from jobs.selectors import operation_quantities
from jobs.services.operations import operation_first_piece, operation_report, operation_start_run

pytestmark = pytest.mark.django_db


def measure_all(report, waiting, inspector, *, bore="10.00"):
    fai_result_record(report_id=report.pk, characteristic_id=waiting.bore.pk, user=inspector, value=bore,
                      gauge_id=waiting.caliper.pk)
    fai_result_record(report_id=report.pk, characteristic_id=waiting.length.pk, user=inspector, value="50.05",
                      gauge_id=waiting.micrometer.pk)
    fai_result_record(report_id=report.pk, characteristic_id=waiting.finish.pk, user=inspector, accepted=True)


# --- pass/fail at the limits ---------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "verdict"), [
    ("9.98", Verdict.PASS), ("10.02", Verdict.PASS), ("9.97999", Verdict.FAIL), ("10.02001", Verdict.FAIL),
    ("10", Verdict.PASS), ("10.02 mm", Verdict.PASS), ("0.3937 in", Verdict.PASS), ("0.3950 in", Verdict.FAIL),
    ("10000 um", Verdict.PASS),
])
def test_pass_or_fail_at_the_limits_inclusive_with_units(waiting, typed, verdict):
    value = measured_value_parse(typed, unit="mm")
    assert verdict_of(waiting.bore, value=value) == verdict


@pytest.mark.parametrize(("typed", "code"), [("abc", "not_a_number"), ("", "not_a_number"), ("1,5", "not_a_number"),
                                             ("10 kg", "wrong_unit"), ("10 deg", "wrong_unit")])
def test_a_value_that_is_not_a_number_or_has_the_wrong_unit_is_refused(typed, code):
    with pytest.raises(ApplicationError) as refusal:
        measured_value_parse(typed, unit="mm")
    assert refusal.value.code == code


# --- the gate end to end -------------------------------------------------------------------------

def test_setup_first_piece_inspection_approve_run(waiting, operator, inspector):
    operation = waiting.operation
    assert operation.status == OperationStatus.FIRST_ARTICLE
    with pytest.raises(Conflict):
        operation_report(operation_id=operation.pk, user=operator, good=1)
    assert [op.pk for op in first_article_queue()] == [operation.pk]

    report = fai_open_for_operation(operation_id=operation.pk, user=inspector)
    assert fai_open_for_operation(operation_id=operation.pk, user=inspector) == report  # opened once
    assert report.fair_id == f"FAIR-{operation.job.number}-20"
    assert report.fai_type == FAIType.FULL
    material = report.form_two_lines.get()
    assert (material.kind, material.code, material.certificate_number) == (FormTwoKind.MATERIAL, "H12345", "CERT-778")
    fai_form_two_line_add(report_id=report.pk, user=inspector, kind=FormTwoKind.SPECIAL_PROCESS,
                          designation="Anodize", specification="MIL-A-8625 Type II", certificate_number="AN-1")
    measure_all(report, waiting, inspector)
    fai_submit(report_id=report.pk, user=inspector)
    fai_approve(report_id=report.pk, user=inspector, password=PASSWORD, note="Good")

    report.refresh_from_db()
    operation.refresh_from_db()
    assert report.status == ReportStatus.APPROVED and report.decided_by == inspector
    assert operation.production_gate_open
    operation_start_run(operation_id=operation.pk, user=operator)
    operation_report(operation_id=operation.pk, user=operator, good=2)
    operation.refresh_from_db()
    assert operation.status == OperationStatus.RUNNING
    assert operation_quantities(operation)["good"] == 2
    assert not first_article_queue().exists()


def test_approval_marks_the_nc_program_proven(waiting, inspector):
    program = NCProgram.objects.create(part_revision=waiting.floor.shop.revision, operation_number=20,
                                       program_number="O1234", work_center=waiting.floor.shop.mills)
    waiting.operation.nc_program = program
    waiting.operation.save()
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    measure_all(report, waiting, inspector)
    fai_submit(report_id=report.pk, user=inspector)
    fai_approve(report_id=report.pk, user=inspector, password=PASSWORD)
    program.refresh_from_db()
    assert program.status == NCProgramStatus.PROVEN


def test_rejection_sends_the_operation_back_to_setup_for_a_new_first_piece(waiting, operator, inspector):
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    measure_all(report, waiting, inspector)
    fai_submit(report_id=report.pk, user=inspector)
    fai_reject(report_id=report.pk, user=inspector, password=PASSWORD, note="Wrong datum")
    operation = waiting.operation
    operation.refresh_from_db()
    assert (operation.status, operation.production_gate_open) == (OperationStatus.SETUP, False)
    operation_first_piece(operation_id=operation.pk, user=operator)
    second = fai_open_for_operation(operation_id=operation.pk, user=inspector)
    assert second.pk != report.pk and second.fair_id == f"{report.fair_id}-2"


# --- refusals ------------------------------------------------------------------------------------

def test_approval_needs_the_inspectors_password_and_role(waiting, inspector, operator, planner):
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    measure_all(report, waiting, inspector)
    fai_submit(report_id=report.pk, user=inspector)
    with pytest.raises(Forbidden, match="password"):
        fai_approve(report_id=report.pk, user=inspector, password="wrong")
    with pytest.raises(Forbidden):
        fai_approve(report_id=report.pk, user=planner, password=PASSWORD)
    report.refresh_from_db()
    waiting.operation.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and not waiting.operation.production_gate_open


def test_a_second_approval_is_refused(waiting, inspector):
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    measure_all(report, waiting, inspector)
    fai_submit(report_id=report.pk, user=inspector)
    fai_approve(report_id=report.pk, user=inspector, password=PASSWORD)
    with pytest.raises(Conflict, match="approved already"):
        fai_approve(report_id=report.pk, user=inspector, password=PASSWORD)


def test_submit_needs_every_row_and_a_submitted_report_is_frozen(waiting, inspector):
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    fai_result_record(report_id=report.pk, characteristic_id=waiting.bore.pk, user=inspector, value="10",
                      gauge_id=waiting.caliper.pk)
    with pytest.raises(Conflict, match="Balloons 2, 3 not measured"):
        fai_submit(report_id=report.pk, user=inspector)
    measure_all(report, waiting, inspector)
    fai_submit(report_id=report.pk, user=inspector)
    with pytest.raises(Conflict, match="can no longer change"):
        fai_result_record(report_id=report.pk, characteristic_id=waiting.bore.pk, user=inspector, value="10",
                          gauge_id=waiting.caliper.pk)


def test_a_failed_row_raises_a_nonconformance_that_holds_the_operation_and_blocks_approval(waiting, inspector):
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    measure_all(report, waiting, inspector, bore="10.03")
    result = CharacteristicResult.objects.get(report=report, characteristic=waiting.bore)
    assert result.verdict == Verdict.FAIL
    nc = result.nonconformance
    assert nc.number.startswith("NC") and nc.status == NCStatus.OPEN and "10.03" in nc.description
    waiting.operation.refresh_from_db()
    assert waiting.operation.status == OperationStatus.ON_HOLD
    fai_submit(report_id=report.pk, user=inspector)
    with pytest.raises(Conflict, match="Balloon 1 failed"):
        fai_approve(report_id=report.pk, user=inspector, password=PASSWORD)

    nc_disposition(nc_id=nc.pk, user=inspector, disposition=Disposition.USE_AS_IS, note="Customer waiver 12")
    nc.refresh_from_db()
    waiting.operation.refresh_from_db()
    assert (nc.status, nc.dispositioned_by) == (NCStatus.DISPOSITIONED, inspector) and nc.dispositioned_at
    assert waiting.operation.status == OperationStatus.FIRST_ARTICLE  # the hold is released
    fai_approve(report_id=report.pk, user=inspector, password=PASSWORD)
    waiting.operation.refresh_from_db()
    assert waiting.operation.production_gate_open


def test_nothing_is_half_saved_when_a_row_is_refused(waiting, inspector):
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    with pytest.raises(ApplicationError):
        fai_result_record(report_id=report.pk, characteristic_id=waiting.bore.pk, user=inspector, value="12 kg",
                          gauge_id=waiting.caliper.pk)
    with pytest.raises(ApplicationError):  # a failing value with the wrong gauge type: no NC either
        fai_result_record(report_id=report.pk, characteristic_id=waiting.bore.pk, user=inspector, value="12",
                          gauge_id=waiting.micrometer.pk)
    assert not report.results.exists()
    assert not NonConformance.objects.exists()


# --- gauges --------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [GaugeStatus.QUARANTINED, GaugeStatus.OUT_FOR_CALIBRATION, GaugeStatus.RETIRED])
def test_a_gauge_out_of_service_is_refused(waiting, inspector, status):
    waiting.caliper.status = status
    waiting.caliper.save()
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    with pytest.raises(Conflict, match="G-001 is"):
        fai_result_record(report_id=report.pk, characteristic_id=waiting.bore.pk, user=inspector, value="10",
                          gauge_id=waiting.caliper.pk)


def test_an_overdue_gauge_is_refused_even_before_the_nightly_task(waiting, inspector):
    waiting.caliper.next_due_on = timezone.localdate() - dt.timedelta(days=1)
    waiting.caliper.save()  # status still "active"
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    with pytest.raises(Conflict, match="overdue"):
        fai_result_record(report_id=report.pk, characteristic_id=waiting.bore.pk, user=inspector, value="10",
                          gauge_id=waiting.caliper.pk)
    with pytest.raises(ApplicationError, match="Micrometer"):  # and a gauge of another type
        fai_result_record(report_id=report.pk, characteristic_id=waiting.bore.pk, user=inspector, value="10",
                          gauge_id=waiting.micrometer.pk)


def test_the_daily_task_keeps_statuses(waiting):
    today = timezone.localdate()
    waiting.caliper.next_due_on = today - dt.timedelta(days=1)
    waiting.caliper.save()
    waiting.micrometer.next_due_on = today + dt.timedelta(days=5)
    waiting.micrometer.save()
    assert gauge_statuses_refresh(today=today) == 2
    assert gauge_statuses_refresh(today=today) == 0
    waiting.caliper.refresh_from_db()
    waiting.micrometer.refresh_from_db()
    assert (waiting.caliper.status, waiting.micrometer.status) == (GaugeStatus.OVERDUE, GaugeStatus.DUE_SOON)


def test_calibration_sets_the_next_due_date_and_a_bad_as_left_quarantines(waiting, inspector, operator):
    today = timezone.localdate()
    with pytest.raises(Forbidden):
        gauge_calibrate(gauge_id=waiting.caliper.pk, user=operator, calibrated_on=today, as_found_in_tolerance=True,
                        as_left_in_tolerance=True, certificate_number="C1", performed_by="Lab")
    gauge_calibrate(gauge_id=waiting.caliper.pk, user=inspector, calibrated_on=today, as_found_in_tolerance=True,
                    as_left_in_tolerance=True, certificate_number="C1", performed_by="Lab")
    waiting.caliper.refresh_from_db()
    assert waiting.caliper.next_due_on == today + dt.timedelta(days=365)
    assert waiting.caliper.status == GaugeStatus.ACTIVE
    gauge_calibrate(gauge_id=waiting.caliper.pk, user=inspector, calibrated_on=today, as_found_in_tolerance=False,
                    as_left_in_tolerance=False, certificate_number="C2", performed_by="Lab")
    waiting.caliper.refresh_from_db()
    assert waiting.caliper.status == GaugeStatus.QUARANTINED


def test_out_of_tolerance_recall_lists_results_since_the_last_good_calibration(waiting, inspector):
    today = timezone.localdate()
    gauge_calibrate(gauge_id=waiting.caliper.pk, user=inspector, calibrated_on=today - dt.timedelta(days=100),
                    as_found_in_tolerance=True, as_left_in_tolerance=True, certificate_number="C1", performed_by="Lab")
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    fai_result_record(report_id=report.pk, characteristic_id=waiting.bore.pk, user=inspector, value="10.01",
                      gauge_id=waiting.caliper.pk)
    # A result from before the last good calibration is not suspect.
    old = CharacteristicResult.objects.get()
    CharacteristicResult.objects.filter(pk=old.pk).update(
        measured_at=timezone.now() - dt.timedelta(days=150))
    fai_result_record(report_id=report.pk, characteristic_id=waiting.length.pk, user=inspector, value="50",
                      gauge_id=waiting.micrometer.pk)
    other = FirstArticleReport.objects.get()
    assert other == report
    fai_result_record(report_id=report.pk, characteristic_id=waiting.finish.pk, user=inspector, accepted=True)
    assert not gauge_recall(gauge_id=waiting.caliper.pk).exists()  # nothing found out of tolerance yet

    CharacteristicResult.objects.filter(pk=old.pk).update(measured_at=timezone.now() - dt.timedelta(days=10))
    gauge_calibrate(gauge_id=waiting.caliper.pk, user=inspector, calibrated_on=today, as_found_in_tolerance=False,
                    as_left_in_tolerance=True, certificate_number="C2", performed_by="Lab")
    recalled = list(gauge_recall(gauge_id=waiting.caliper.pk))
    assert [r.characteristic.balloon_number for r in recalled] == ["1"]
    row = gauge_recall_rows(gauge_recall_entries(gauge_id=waiting.caliper.pk))[0]
    assert row[0] == "G-001" and row[2] == waiting.floor.shop.job.number and row[5] == report.fair_id
    assert row[8] == "10.01000"


# --- nonconformances -----------------------------------------------------------------------------

def test_an_in_process_nonconformance_holds_until_dispositioned_and_closes(floor, operator, inspector):
    from jobs.services.operations import operation_start_setup

    operation_start_setup(operation_id=floor.turn.pk, user=operator, machine_id=floor.shop.lathe.pk)
    nc = nc_raise(user=inspector, job_id=floor.shop.job.pk, operation_id=floor.turn.pk, quantity=2,
                  description="Chatter marks on OD")
    floor.turn.refresh_from_db()
    assert floor.turn.status == OperationStatus.ON_HOLD
    with pytest.raises(Conflict, match="needs a disposition"):
        nc_close(nc_id=nc.pk, user=inspector)
    with pytest.raises(ApplicationError):
        nc_disposition(nc_id=nc.pk, user=inspector, disposition=Disposition.PENDING)
    nc_disposition(nc_id=nc.pk, user=inspector, disposition=Disposition.REWORK)
    floor.turn.refresh_from_db()
    assert floor.turn.status == OperationStatus.SETUP
    with pytest.raises(Conflict):
        nc_disposition(nc_id=nc.pk, user=inspector, disposition=Disposition.SCRAP)
    nc = nc_close(nc_id=nc.pk, user=inspector, root_cause="Worn insert")
    assert nc.status == NCStatus.CLOSED and nc.closed_at
    with pytest.raises(Forbidden):
        nc_raise(user=operator, job_id=floor.shop.job.pk, description="x")
    assert Decimal(nc.quantity) == 2


def test_the_daily_gauge_task_is_scheduled_and_runs_the_service(waiting, settings):
    from inspection.tasks import gauge_statuses_refresh_daily

    entry = settings.CELERY_BEAT_SCHEDULE["inspection-gauge-statuses"]
    assert entry["task"] == gauge_statuses_refresh_daily.name
    waiting.caliper.next_due_on = timezone.localdate() - dt.timedelta(days=3)
    waiting.caliper.save()
    assert gauge_statuses_refresh_daily.apply().get() == 1
    waiting.caliper.refresh_from_db()
    assert waiting.caliper.status == GaugeStatus.OVERDUE


def test_a_partial_first_article_covers_the_characteristics_of_its_operation(waiting, inspector):
    waiting.operation.first_article = "partial"
    waiting.operation.first_article_reason = "NC program changed since WO-1."
    waiting.operation.save()
    report = fai_open_for_operation(operation_id=waiting.operation.pk, user=inspector)
    assert report.fai_type == FAIType.PARTIAL and report.partial_reason == "NC program changed since WO-1."
    assert set(report.covered_characteristics.all()) == {waiting.bore, waiting.finish}
    with pytest.raises(ApplicationError, match="not part of"):
        fai_result_record(report_id=report.pk, characteristic_id=waiting.length.pk, user=inspector, value="50",
                          gauge_id=waiting.micrometer.pk)
    fai_result_record(report_id=report.pk, characteristic_id=waiting.bore.pk, user=inspector, value="10",
                      gauge_id=waiting.caliper.pk)
    fai_result_record(report_id=report.pk, characteristic_id=waiting.finish.pk, user=inspector, accepted=True)
    assert fai_submit(report_id=report.pk, user=inspector).status == ReportStatus.SUBMITTED
