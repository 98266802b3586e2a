"""Every write of inspection: first-article reports, gauges and calibrations, nonconformances.

Locks: report (or gauge, or nonconformance) first, then the jobs services lock machine and operation.
"""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from core.errors import ApplicationError, Conflict, Forbidden, NotFound
from core.permissions import require_perm
from inspection.choices import (
    Disposition,
    FAIType,
    FormTwoKind,
    GaugeStatus,
    InspectionKind,
    NCSource,
    NCStatus,
    ReportStatus,
    RequirementKind,
    Verdict,
)
from inspection.models import (
    Calibration,
    Characteristic,
    CharacteristicResult,
    FirstArticleReport,
    FormTwoLine,
    Gauge,
    InspectionPlan,
    InspectionReading,
    InspectionRecord,
    NonConformance,
)
from jobs.choices import FirstArticleRequirement, OperationStatus
from jobs.models import Job, JobOperation, PartRevision
from jobs.services.first_articles import nc_program_mark_proven
from jobs.services.operations import operation_hold, operation_production_gate_set, operation_release_hold

DUE_SOON_DAYS = 14

# Length units a value may be typed in, in millimetres.
LENGTH_UNITS = {"mm": Decimal("1"), "in": Decimal("25.4"), '"': Decimal("25.4"), "um": Decimal("0.001"),
                "µm": Decimal("0.001")}
VALUE = re.compile(r"\s*(?P<number>[-+]?(\d+(\.\d*)?|\.\d+))\s*(?P<unit>[a-zA-Zµ\"°]*)\s*")


# --- Pass or fail ---------------------------------------------------------------------------------


def measured_value_parse(text: str | Decimal | float | int, *, unit: str) -> Decimal:
    """A typed value as a number in the characteristic's unit. "12.7", "12.7 mm", "0.5 in" for a
    characteristic in mm; a length in another length unit is converted, any other unit is refused."""
    if isinstance(text, Decimal | int | float) and not isinstance(text, bool):
        return Decimal(str(text))
    match = VALUE.fullmatch(str(text or ""))
    if match is None:
        raise ApplicationError(f"“{str(text).strip()[:30]}” is not a number.", field="value", code="not_a_number")
    try:
        number = Decimal(match["number"])
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise ApplicationError(f"“{text}” is not a number.", field="value", code="not_a_number") from None
    typed = match["unit"].lower() if match["unit"] not in ("µm",) else "µm"
    wanted = (unit or "").lower()
    if not typed or typed == wanted:
        return number
    if typed in LENGTH_UNITS and wanted in LENGTH_UNITS:
        return (number * LENGTH_UNITS[typed] / LENGTH_UNITS[wanted]).quantize(Decimal("0.00001"))
    raise ApplicationError(f"The value is in “{match['unit']}” but this characteristic is measured in "
                           f"{unit or 'no unit'}.", field="value", code="wrong_unit")


def verdict_of(characteristic: Characteristic, *, value: Decimal | None = None,
               accepted: bool | None = None) -> str:
    """Pass when the value lies within the limits, both limits included; an attribute passes when
    accepted."""
    if characteristic.requirement_kind == RequirementKind.ATTRIBUTE:
        if accepted is None:
            raise ApplicationError(f"Accept or reject balloon {characteristic.balloon_number}.", field="accepted")
        return Verdict.PASS if accepted else Verdict.FAIL
    if value is None:
        raise ApplicationError(f"Enter the measured value of balloon {characteristic.balloon_number}.",
                               field="value")
    inside = characteristic.lower_limit <= value <= characteristic.upper_limit
    return Verdict.PASS if inside else Verdict.FAIL


@dataclass(frozen=True)
class Measurement:
    """One checked measurement: the value in the characteristic's unit (or the attribute's accept),
    the gauge it was taken with and the verdict."""

    characteristic: Characteristic
    value: Decimal | None
    accepted: bool | None
    gauge: Gauge | None
    verdict: str

    def failure(self) -> str:
        c = self.characteristic
        shown = f"{self.value} {c.unit}" if self.value is not None else "rejected"
        limits = (f"{c.lower_limit}–{c.upper_limit} {c.unit}" if c.requirement_kind == RequirementKind.VARIABLE
                  else c.attribute_note)
        return f"{shown}, required {limits}"


def measurement_check(characteristic: Characteristic, *, value: str | Decimal | None = None,
                      accepted: bool | None = None, gauge_id: int | None = None, today: dt.date) -> Measurement:
    """What a first-article row and an in-process or final reading share: the value is parsed in the
    characteristic's unit and judged against its limits (both included); the gauge must be of the
    characteristic's type and in calibration today. Raises the refusal; writes nothing."""
    measured = None
    if characteristic.requirement_kind == RequirementKind.VARIABLE:
        if value is None or str(value).strip() == "":
            raise ApplicationError(f"Enter the measured value of balloon {characteristic.balloon_number}.",
                                   field="value")
        measured = measured_value_parse(value, unit=characteristic.unit)
        if measured.as_tuple().exponent < -5 or abs(measured) >= 10 ** 7:
            raise ApplicationError(f"{measured} {characteristic.unit} cannot be recorded: at most 5 decimals and "
                                   "7 digits before the point.", field="value", code="out_of_range")
        accepted = None
    verdict = verdict_of(characteristic, value=measured, accepted=accepted)
    gauge = None
    if gauge_id:
        gauge = Gauge.objects.filter(pk=gauge_id).select_related("gauge_type").first()
        if gauge is None:
            raise NotFound(f"There is no gauge {gauge_id}.")
    elif characteristic.requirement_kind == RequirementKind.VARIABLE and characteristic.gauge_type_id:
        raise ApplicationError(f"Choose the {characteristic.gauge_type} you measured with.", field="gauge")
    if gauge is not None:
        gauge_check_usable(gauge, characteristic=characteristic, today=today)
    return Measurement(characteristic, measured, accepted, gauge, verdict)


# --- Gauges ---------------------------------------------------------------------------------------


def gauge_status_on(gauge: Gauge, *, today: dt.date) -> str:
    """The status the calendar gives a gauge in service; statuses set by hand stay as they are."""
    if gauge.status in (GaugeStatus.OUT_FOR_CALIBRATION, GaugeStatus.QUARANTINED, GaugeStatus.RETIRED):
        return gauge.status
    if gauge.next_due_on is None or gauge.next_due_on < today:
        return GaugeStatus.OVERDUE
    if gauge.next_due_on <= today + dt.timedelta(days=DUE_SOON_DAYS):
        return GaugeStatus.DUE_SOON
    return GaugeStatus.ACTIVE


def gauge_check_usable(gauge: Gauge, *, characteristic: Characteristic, today: dt.date) -> None:
    if characteristic.gauge_type_id and gauge.gauge_type_id != characteristic.gauge_type_id:
        raise ApplicationError(f"Gauge {gauge.asset_id} is a {gauge.gauge_type}; balloon "
                               f"{characteristic.balloon_number} is measured with a {characteristic.gauge_type}.",
                               field="gauge", code="wrong_gauge_type")
    status = gauge_status_on(gauge, today=today)  # not only what last night's task wrote
    if status not in GaugeStatus.usable():
        label = GaugeStatus(status).label.lower()
        due = f" (due {gauge.next_due_on:%Y-%m-%d})" if status == GaugeStatus.OVERDUE and gauge.next_due_on else ""
        raise Conflict(f"Gauge {gauge.asset_id} is {label}{due}: it cannot be used to measure.", field="gauge",
                       code="gauge_unusable")


def gauge_statuses_refresh(*, today: dt.date | None = None) -> int:
    """The daily task's work: active, due soon or overdue from each gauge's next due date. Returns how
    many changed; a second run the same day changes nothing."""
    today = today or timezone.localdate()
    changed = 0
    with transaction.atomic():
        for gauge in Gauge.objects.select_for_update().exclude(
                status__in=(GaugeStatus.OUT_FOR_CALIBRATION, GaugeStatus.QUARANTINED, GaugeStatus.RETIRED)):
            status = gauge_status_on(gauge, today=today)
            if status != gauge.status:
                gauge.status = status
                gauge.save(update_fields=["status", "updated_at"])
                changed += 1
    return changed


@transaction.atomic
def gauge_calibrate(*, gauge_id: int, user, calibrated_on: dt.date, as_found_in_tolerance: bool,
                    as_left_in_tolerance: bool, certificate_number: str, performed_by: str,
                    next_due_on: dt.date | None = None, as_found_notes: str = "",
                    as_left_notes: str = "") -> Calibration:
    """Record a calibration. Left in tolerance, the gauge is back in service until its next due date;
    left out of tolerance, it is quarantined. Found out of tolerance, what it measured since its last
    good calibration is suspect: see `inspection.selectors.gauge_recall`."""
    require_perm(user, "inspection.add_calibration")
    gauge = Gauge.objects.select_for_update().filter(pk=gauge_id).first()
    if gauge is None:
        raise NotFound(f"There is no gauge {gauge_id}.")
    if gauge.status == GaugeStatus.RETIRED:
        raise Conflict(f"Gauge {gauge.asset_id} is retired.", code="retired")
    if not certificate_number.strip():
        raise ApplicationError("Enter the calibration certificate number.", field="certificate_number")
    if calibrated_on > timezone.localdate():
        raise ApplicationError("A calibration cannot be dated in the future.", field="calibrated_on")
    next_due_on = next_due_on or calibrated_on + dt.timedelta(days=gauge.calibration_interval_days)
    calibration = Calibration(gauge=gauge, calibrated_on=calibrated_on, as_found_in_tolerance=as_found_in_tolerance,
                              as_found_notes=as_found_notes, as_left_in_tolerance=as_left_in_tolerance,
                              as_left_notes=as_left_notes, certificate_number=certificate_number.strip(),
                              performed_by=performed_by.strip(), next_due_on=next_due_on)
    calibration.full_clean()
    calibration._history_user = user
    calibration.save()
    gauge.last_calibrated_on, gauge.next_due_on = calibrated_on, next_due_on
    if as_left_in_tolerance:
        gauge.status = GaugeStatus.ACTIVE
        gauge.status = gauge_status_on(gauge, today=timezone.localdate())
    else:
        gauge.status = GaugeStatus.QUARANTINED
    gauge._history_user = user
    gauge.save()
    return calibration


@transaction.atomic
def gauge_status_set(*, gauge_id: int, user, status: str) -> Gauge:
    """Send out for calibration, quarantine, retire, or put back in service (by the calendar)."""
    require_perm(user, "inspection.change_gauge")
    if status not in GaugeStatus.values:
        raise ApplicationError(f"“{status}” is not a gauge status.", field="status")
    gauge = Gauge.objects.select_for_update().get(pk=gauge_id)
    if gauge.status == GaugeStatus.RETIRED:
        raise Conflict(f"Gauge {gauge.asset_id} is retired.", code="retired")
    gauge.status = status
    if status in (GaugeStatus.ACTIVE, GaugeStatus.DUE_SOON, GaugeStatus.OVERDUE):
        gauge.status = GaugeStatus.ACTIVE
        gauge.status = gauge_status_on(gauge, today=timezone.localdate())
    gauge._history_user = user
    gauge.save()
    return gauge


# --- Nonconformances ------------------------------------------------------------------------------


def _next_nc_number(today: dt.date) -> str:
    prefix = f"NC{today:%y}-"
    last = (NonConformance.objects.filter(number__startswith=prefix).order_by("-number")
            .values_list("number", flat=True).first())
    sequence = int(last.removeprefix(prefix)) + 1 if last and last.removeprefix(prefix).isdigit() else 1
    return f"{prefix}{sequence:05d}"


HOLDABLE = (OperationStatus.PENDING, OperationStatus.READY, OperationStatus.SETUP, OperationStatus.FIRST_ARTICLE,
            OperationStatus.RUNNING, OperationStatus.PAUSED, OperationStatus.SENT)


def _nc_create(*, job: Job, operation: JobOperation | None, source: str, quantity: int, description: str,
               user) -> NonConformance:
    if source not in NCSource.values:
        raise ApplicationError(f"“{source}” is not a source of nonconformance.", field="source")
    if not str(description).strip():
        raise ApplicationError("Describe the nonconformance.", field="description")
    if quantity < 1:
        raise ApplicationError("The quantity must be at least 1.", field="quantity")
    if operation is not None and operation.job_id != job.pk:
        raise ApplicationError(f"Operation {operation} is not part of {job.number}.", field="operation")
    nc = NonConformance(number=_next_nc_number(timezone.localdate()), source=source, job=job, operation=operation,
                        quantity=quantity, description=description.strip(), raised_by=user)
    nc.full_clean()
    nc._history_user = user
    nc.save()
    if operation is None:
        return nc
    status = JobOperation.objects.values_list("status", flat=True).get(pk=operation.pk)  # not a stale copy
    if status in HOLDABLE:
        operation_hold(operation_id=operation.pk, user=user, reason=f"Nonconformance {nc.number}")
        nc.holds_operation = True
    elif status == OperationStatus.ON_HOLD and NonConformance.objects.filter(
            operation_id=operation.pk, holds_operation=True, status=NCStatus.OPEN).exclude(pk=nc.pk).exists():
        # Another open nonconformance holds it already: this one holds it too, so the hold lasts
        # until both are dispositioned.
        nc.holds_operation = True
    if nc.holds_operation:
        nc.save(update_fields=["holds_operation", "updated_at"])
    return nc


@transaction.atomic
def nc_raise(*, user, job_id: int, description: str, quantity: int = 1, operation_id: int | None = None,
             source: str = NCSource.IN_PROCESS) -> NonConformance:
    """Raise a nonconformance. It holds its operation (if that is still in work) until dispositioned."""
    require_perm(user, "inspection.add_nonconformance")
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"There is no job {job_id}.")
    operation = JobOperation.objects.filter(pk=operation_id).first() if operation_id else None
    if operation_id and operation is None:
        raise NotFound(f"There is no operation {operation_id}.")
    return _nc_create(job=job, operation=operation, source=source, quantity=quantity, description=description,
                      user=user)


def _nc_lock(nc_id: int) -> NonConformance:
    nc = NonConformance.objects.select_for_update().filter(pk=nc_id).first()
    if nc is None:
        raise NotFound(f"There is no nonconformance {nc_id}.")
    return nc


@transaction.atomic
def nc_disposition(*, nc_id: int, user, disposition: str, note: str = "") -> NonConformance:
    """Decide what happens to the nonconforming pieces; recorded with who and when. The hold it put on
    its operation is released once no other open nonconformance holds it."""
    require_perm(user, "inspection.change_nonconformance")
    nc = _nc_lock(nc_id)
    if disposition not in Disposition.values or disposition == Disposition.PENDING:
        raise ApplicationError("Choose rework, scrap, use as is or return to supplier.", field="disposition")
    if nc.status != NCStatus.OPEN:
        raise Conflict(f"{nc.number} is {nc.get_status_display().lower()} already.", code="already_dispositioned")
    nc.disposition, nc.disposition_note = disposition, note.strip()
    nc.status, nc.dispositioned_by, nc.dispositioned_at = NCStatus.DISPOSITIONED, user, timezone.now()
    nc.full_clean()
    nc._history_user = user
    nc.save()
    if nc.holds_operation and nc.operation_id:
        others = NonConformance.objects.filter(operation_id=nc.operation_id, holds_operation=True,
                                               status=NCStatus.OPEN).exclude(pk=nc.pk)
        status = JobOperation.objects.values_list("status", flat=True).get(pk=nc.operation_id)
        if status == OperationStatus.ON_HOLD and not others.exists():
            operation_release_hold(operation_id=nc.operation_id, user=user)
    return nc


@transaction.atomic
def nc_close(*, nc_id: int, user, root_cause: str = "", corrective_action: str = "") -> NonConformance:
    require_perm(user, "inspection.change_nonconformance")
    nc = _nc_lock(nc_id)
    if nc.status == NCStatus.CLOSED:
        raise Conflict(f"{nc.number} is closed already.", code="already_closed")
    if nc.status != NCStatus.DISPOSITIONED:
        raise Conflict(f"{nc.number} needs a disposition before it is closed.", code="not_dispositioned")
    nc.root_cause = root_cause.strip() or nc.root_cause
    nc.corrective_action = corrective_action.strip() or nc.corrective_action
    nc.status, nc.closed_at = NCStatus.CLOSED, timezone.now()
    nc._history_user = user
    nc.save()
    return nc


# --- First-article reports ------------------------------------------------------------------------


def _lock_report(report_id: int) -> FirstArticleReport:
    report = FirstArticleReport.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise NotFound(f"There is no first-article report {report_id}.")
    return report


def report_characteristics(report: FirstArticleReport):
    """The characteristics a report must cover: a partial one its listed ones; a full one every
    characteristic of the plan produced at this operation or before it."""
    if report.fai_type == FAIType.PARTIAL:
        return report.covered_characteristics.select_related("gauge_type").order_by("balloon_number")
    plan = InspectionPlan.objects.filter(part_revision_id=report.job.part_revision_id).first()
    if plan is None:
        return Characteristic.objects.none()
    return (plan.characteristics.select_related("gauge_type")
            .filter(Q(operation_number__isnull=True) | Q(operation_number__lte=report.operation.operation_number))
            .order_by("balloon_number"))


def _fair_id(operation: JobOperation) -> str:
    base = f"FAIR-{operation.job.number}-{operation.operation_number}"
    taken = FirstArticleReport.objects.filter(fair_id__startswith=base).count()
    return base if not taken else f"{base}-{taken + 1}"


@transaction.atomic
def fai_open_for_operation(*, operation_id: int, user) -> FirstArticleReport:
    """The report of an operation waiting for its first article: the one open already, or a new one
    with the requirement and reason derived at release, and Form 2's material lines from the job's lots."""
    require_perm(user, "inspection.add_firstarticlereport")
    operation = JobOperation.objects.select_for_update().select_related("job__part_revision").filter(
        pk=operation_id).first()
    if operation is None:
        raise NotFound(f"There is no operation {operation_id}.")
    current = operation.first_article_reports.filter(status__in=(ReportStatus.OPEN, ReportStatus.SUBMITTED)).first()
    if current is not None:
        return current
    waiting = OperationStatus.FIRST_ARTICLE
    if operation.status != waiting and operation.resume_status != waiting:
        raise Conflict(f"Operation {operation} is {operation.get_status_display().lower()}, not waiting for a "
                       "first article.", code="wrong_state")
    job = operation.job
    partial = operation.first_article == FirstArticleRequirement.PARTIAL
    order = job.order_line.order if job.order_line_id else None
    report = FirstArticleReport(
        fair_id=_fair_id(operation), job=job, operation=operation,
        fai_type=FAIType.PARTIAL if partial else FAIType.FULL,
        reason=operation.first_article_reason or "The routing step requires a first article.",
        partial_reason=(operation.first_article_reason or "Change at this operation") if partial else "",
        po_number=order.po_number if order else "", prepared_by=user,
        serial_number=job.serial_numbers.order_by("serial").values_list("serial", flat=True).first() or "",
    )
    report.full_clean()
    report._history_user = user
    report.save()
    if partial:
        plan = InspectionPlan.objects.filter(part_revision_id=job.part_revision_id).first()
        if plan is not None:
            report.covered_characteristics.set(plan.characteristics.filter(
                operation_number=operation.operation_number))
    for lot in job.material_lots.order_by("material", "heat_number"):
        FormTwoLine.objects.create(report=report, kind=FormTwoKind.MATERIAL, designation=lot.material,
                                   specification=job.part_revision.material or lot.material,
                                   code=lot.heat_number, supplier=lot.supplier,
                                   certificate_number=lot.certificate_number)
    return report


def _open_report(report_id: int) -> FirstArticleReport:
    report = _lock_report(report_id)
    if report.status != ReportStatus.OPEN:
        raise Conflict(f"{report.fair_id} is {report.get_status_display().lower()}: its results can no longer "
                       "change.", code="report_closed")
    return report


@transaction.atomic
def fai_result_record(*, report_id: int, characteristic_id: int, user, value: str | Decimal | None = None,
                      accepted: bool | None = None, gauge_id: int | None = None,
                      notes: str = "") -> CharacteristicResult:
    """One Form 3 row: the value is checked against the characteristic's unit and limits (inclusive)
    and the gauge against its type and calibration. A failing row raises a nonconformance whose
    number is written back. Measuring a row again replaces it."""
    require_perm(user, "inspection.add_characteristicresult")
    report = _open_report(report_id)
    characteristic = report_characteristics(report).filter(pk=characteristic_id).first()
    if characteristic is None:
        raise ApplicationError(f"That characteristic is not part of {report.fair_id}.", field="characteristic")
    measurement = measurement_check(characteristic, value=value, accepted=accepted, gauge_id=gauge_id,
                                    today=timezone.localdate())
    result = CharacteristicResult.objects.filter(report=report, characteristic=characteristic).first() \
        or CharacteristicResult(report=report, characteristic=characteristic)
    result.measured_value, result.attribute_accepted = measurement.value, measurement.accepted
    result.gauge, result.verdict = measurement.gauge, measurement.verdict
    result.measured_by, result.measured_at = user, timezone.now()
    result.notes = notes.strip()[:200]
    if measurement.verdict == Verdict.FAIL and result.nonconformance_id is None:
        result.nonconformance = _nc_create(
            job=report.job, operation=report.operation, source=NCSource.FIRST_ARTICLE, quantity=1, user=user,
            description=f"{report.fair_id} balloon {characteristic.balloon_number}: {measurement.failure()}.")
    result.full_clean()
    result._history_user = user
    result.save()
    return result


@transaction.atomic
def fai_form_two_line_add(*, report_id: int, user, kind: str, designation: str, specification: str, code: str = "",
                          supplier: str = "", certificate_number: str = "", functional_test_procedure: str = "",
                          acceptance_report_number: str = "") -> FormTwoLine:
    require_perm(user, "inspection.add_formtwoline")
    report = _open_report(report_id)
    if kind not in FormTwoKind.values:
        raise ApplicationError("Choose material, special process or functional test.", field="kind")
    line = FormTwoLine(report=report, kind=kind, designation=designation.strip(), specification=specification.strip(),
                       code=code.strip(), supplier=supplier.strip(), certificate_number=certificate_number.strip(),
                       functional_test_procedure=functional_test_procedure.strip(),
                       acceptance_report_number=acceptance_report_number.strip())
    line.full_clean()
    line._history_user = user
    line.save()
    return line


@transaction.atomic
def fai_submit(*, report_id: int, user) -> FirstArticleReport:
    """Every characteristic the report covers has its row: the report goes for approval."""
    require_perm(user, "inspection.change_firstarticlereport")
    report = _open_report(report_id)
    measured = set(report.results.values_list("characteristic_id", flat=True))
    missing = [c.balloon_number for c in report_characteristics(report) if c.pk not in measured]
    if missing:
        raise Conflict(f"Balloon{'s' if len(missing) > 1 else ''} {', '.join(missing)} not measured yet.",
                       code="incomplete")
    if not measured:
        raise Conflict(f"{report.fair_id} has no characteristics to submit; add the inspection plan first.",
                       code="incomplete")
    report.status, report.submitted_at, report.prepared_by = ReportStatus.SUBMITTED, timezone.now(), user
    report._history_user = user
    report.save()
    return report


def _signature(user, password: str) -> None:
    require_perm(user, "inspection.approve_firstarticlereport")
    if not password or not user.check_password(password):
        raise Forbidden("The password is not correct: the signature was not applied.", code="bad_signature")


@transaction.atomic
def fai_approve(*, report_id: int, user, password: str, note: str = "") -> FirstArticleReport:
    """Sign the report off (the inspector re-enters the password). The operation's production gate
    opens and the NC program version it ran is proven."""
    _signature(user, password)
    report = _lock_report(report_id)
    if report.status == ReportStatus.APPROVED:
        raise Conflict(f"{report.fair_id} was approved already by {report.decided_by} on "
                       f"{timezone.localtime(report.decided_at):%Y-%m-%d %H:%M}.", code="already_approved")
    if report.status != ReportStatus.SUBMITTED:
        raise Conflict(f"{report.fair_id} is {report.get_status_display().lower()}: only a submitted report can be "
                       "approved.", code="wrong_state")
    # A row that failed (even if measured again since) has a nonconformance; each needs its disposition.
    rows = report.results.select_related("characteristic", "nonconformance")
    undecided = [r.characteristic.balloon_number for r in rows
                 if (r.verdict == Verdict.FAIL and r.nonconformance is None)
                 or (r.nonconformance is not None and r.nonconformance.disposition == Disposition.PENDING)]
    if undecided:
        raise Conflict(f"Balloon {', '.join(undecided)} failed and its nonconformance has no disposition yet.",
                       code="failing_rows")
    operation = operation_production_gate_set(operation_id=report.operation_id, user=user, open_gate=True)
    if operation.nc_program_id:
        nc_program_mark_proven(nc_program_id=operation.nc_program_id, user=user)
    report.status, report.decided_by, report.decided_at = ReportStatus.APPROVED, user, timezone.now()
    report.decision_note = note.strip()
    report._history_user = user
    report.save()
    return report


@transaction.atomic
def fai_reject(*, report_id: int, user, password: str, note: str) -> FirstArticleReport:
    """Reject the first piece: the gate stays closed and the operation goes back to setup for a new one."""
    _signature(user, password)
    if not note.strip():
        raise ApplicationError("Say why the first article is rejected.", field="note")
    report = _lock_report(report_id)
    if report.status in (ReportStatus.APPROVED, ReportStatus.REJECTED):
        raise Conflict(f"{report.fair_id} was {report.get_status_display().lower()} already.",
                       code="already_decided")
    operation_production_gate_set(operation_id=report.operation_id, user=user, open_gate=False)
    report.status, report.decided_by, report.decided_at = ReportStatus.REJECTED, user, timezone.now()
    report.decision_note = note.strip()
    report._history_user = user
    report.save()
    return report


# --- In-process and final inspection -------------------------------------------------------------

NOTHING_MADE_YET = (OperationStatus.PENDING, OperationStatus.READY)


def record_characteristics(operation: JobOperation, *, kind: str):
    """What a check at an operation may measure: an in-process check, the characteristics produced at
    this operation or before it (and those tied to no operation); a final inspection, the whole plan."""
    plan = InspectionPlan.objects.filter(part_revision_id=operation.job.part_revision_id).first()
    if plan is None:
        return Characteristic.objects.none()
    characteristics = plan.characteristics.select_related("gauge_type").order_by("balloon_number")
    if kind == InspectionKind.IN_PROCESS:
        characteristics = characteristics.filter(
            Q(operation_number__isnull=True) | Q(operation_number__lte=operation.operation_number))
    return characteristics


def _whole_number(value) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None


@transaction.atomic
def inspection_record_create(*, operation_id: int, user, kind: str, readings: list[dict], pieces: str = "",
                             sample_size: int | str | None = None) -> InspectionRecord:
    """Record an in-process or final check of a sample against an operation. Each reading is
    {characteristic, piece, value or accepted, gauge}, judged exactly as a first-article row (see
    `measurement_check`). All readings or none: the first refusal names its balloon and piece.
    A failing reading raises a nonconformance, its number written back on the reading, that holds
    the operation until dispositioned."""
    require_perm(user, "inspection.add_inspectionrecord")
    if kind not in InspectionKind.values:
        raise ApplicationError("Choose an in-process or a final inspection.", field="kind")
    operation = JobOperation.objects.select_related("job").filter(pk=operation_id).first()
    if operation is None:
        raise NotFound(f"There is no operation {operation_id}.")
    if operation.status in NOTHING_MADE_YET:
        raise Conflict(f"Operation {operation} is {operation.get_status_display().lower()}: no piece has been made "
                       "there yet.", code="wrong_state")
    allowed = {c.pk: c for c in record_characteristics(operation, kind=kind)}
    if not allowed:
        raise Conflict(f"The inspection plan of {operation.job.part_revision} has no characteristic to check at "
                       f"operation {operation.operation_number}; add the plan first.", code="no_plan")
    if not readings:
        raise ApplicationError("Enter at least one reading.", field="readings")
    today = timezone.localdate()
    checked: list[tuple[str, Measurement]] = []
    seen: set[tuple[int, str]] = set()
    for reading in readings:
        characteristic = allowed.get(_whole_number(reading.get("characteristic")))
        if characteristic is None:
            raise ApplicationError(f"Characteristic {reading.get('characteristic')} is not in the inspection plan "
                                   f"checked at operation {operation.operation_number}.", field="characteristic")
        piece = str(reading.get("piece") or "").strip()
        where = f"Balloon {characteristic.balloon_number}" + (f", piece {piece}" if piece else "")
        if len(piece) > 20:
            raise ApplicationError(f"{where}: a piece is named in 20 characters at most.", field="piece")
        if (characteristic.pk, piece) in seen:
            raise ApplicationError(f"{where} is entered twice.", field="readings", code="duplicate_reading")
        seen.add((characteristic.pk, piece))
        try:
            measurement = measurement_check(characteristic, value=reading.get("value"),
                                            accepted=reading.get("accepted"),
                                            gauge_id=_whole_number(reading.get("gauge")), today=today)
        except ApplicationError as err:
            err.message = f"{where}: {err.message}"  # which row of the form refused
            err.args = (err.message,)
            raise
        checked.append((piece, measurement))
    sampled = list(dict.fromkeys(piece for piece, _ in checked if piece))
    if sample_size in (None, ""):
        size = max(1, len(sampled))
    else:
        size = _whole_number(sample_size)
        if not size:
            raise ApplicationError(f"The sample size “{sample_size}” is not a whole number of at least 1.",
                                   field="sample_size")
        if size < len(sampled):
            raise ApplicationError(f"The sample size is {size} but readings name {len(sampled)} pieces.",
                                   field="sample_size")
    record = InspectionRecord(job=operation.job, operation=operation, kind=kind, sample_size=size,
                              pieces=(pieces.strip() or ", ".join(sampled))[:200], inspector=user,
                              inspected_at=timezone.now(),
                              accepted=all(m.verdict == Verdict.PASS for _, m in checked))
    record.full_clean()
    record._history_user = user
    record.save()
    source = NCSource.IN_PROCESS if kind == InspectionKind.IN_PROCESS else NCSource.FINAL
    for piece, measurement in checked:
        reading = InspectionReading(record=record, characteristic=measurement.characteristic, piece=piece,
                                    measured_value=measurement.value, attribute_accepted=measurement.accepted,
                                    gauge=measurement.gauge, verdict=measurement.verdict)
        if measurement.verdict == Verdict.FAIL:
            where = f"piece {piece} " if piece else ""
            reading.nonconformance = _nc_create(
                job=operation.job, operation=operation, source=source, quantity=1, user=user,
                description=f"{record.label} ({record.get_kind_display().lower()} check) {where}balloon "
                            f"{measurement.characteristic.balloon_number}: {measurement.failure()}.")
        reading.full_clean()
        reading._history_user = user
        reading.save()
    return record


def last_good_calibration_on(gauge: Gauge, *, before: dt.date) -> dt.date | None:
    return (gauge.calibrations.filter(calibrated_on__lt=before, as_left_in_tolerance=True)
            .aggregate(last=Max("calibrated_on"))["last"])


# --- Inspection plans -----------------------------------------------------------------------------

PLAN_CSV_COLUMNS = ("balloon", "sheet", "zone", "designator", "description", "nominal", "lower", "upper",
                    "attribute_note", "unit", "method", "gauge_type", "operation_number")
PLAN_COMPARED = ("sheet", "zone", "designator", "description", "requirement_kind", "nominal", "lower_limit",
                 "upper_limit", "attribute_note", "unit", "method", "gauge_type_id", "operation_number")


class PlanImportRefused(ApplicationError):
    """A balloon list refused as a whole, with every bad line: `lines` is [(line number, message)]."""

    def __init__(self, lines: list[tuple[int, str]], *, code: str):
        shown = " ".join(f"Line {line}: {message}" for line, message in lines[:20])
        more = f" And {len(lines) - 20} more." if len(lines) > 20 else ""
        count = f"{len(lines)} lines are" if len(lines) > 1 else "1 line is"
        super().__init__(f"Nothing was imported: {count} refused. {shown}{more}", code=code, field="file")
        self.lines = lines


def _plan_row(row: dict, *, plan: InspectionPlan, gauge_types: dict, seen: set) -> Characteristic:
    """One CSV line as an unsaved characteristic, or the refusal of that line."""
    balloon = row.get("balloon", "")
    if not balloon:
        raise ApplicationError("the balloon number is missing.", code="missing_balloon")
    if balloon in seen:
        raise ApplicationError(f"balloon {balloon} appears twice.", code="duplicate_balloon")
    seen.add(balloon)
    limits = []
    for name in ("nominal", "lower", "upper"):
        text = row.get(name, "")
        try:
            limits.append(Decimal(text) if text else None)
        except InvalidOperation:
            raise ApplicationError(f"{name} “{text}” of balloon {balloon} is not a number.",
                                   code="not_a_number") from None
    attribute = row.get("attribute_note", "")
    if all(limit is not None for limit in limits):
        nominal, lower, upper = limits
        if lower > upper or not lower <= nominal <= upper:
            raise ApplicationError(f"balloon {balloon} has its limits upside down (lower {lower}, nominal {nominal}, "
                                   f"upper {upper}).", code="limits_upside_down")
        kind = RequirementKind.VARIABLE
    elif attribute and not any(limit is not None for limit in limits):
        kind = RequirementKind.ATTRIBUTE
    else:
        raise ApplicationError(f"balloon {balloon} needs nominal, lower and upper, or an attribute note.",
                               code="incomplete_requirement")
    gauge_type = None
    if row.get("gauge_type"):
        gauge_type = gauge_types.get(row["gauge_type"].lower())
        if gauge_type is None:
            raise ApplicationError(f"there is no gauge type “{row['gauge_type']}”.", code="unknown_gauge_type")
    operation_number = row.get("operation_number", "")
    if operation_number and not operation_number.isdigit():
        raise ApplicationError(f"operation number “{operation_number}” is not a number.", code="not_a_number")
    characteristic = Characteristic(
        plan=plan, balloon_number=balloon, sheet=row.get("sheet", ""), zone=row.get("zone", ""),
        designator=(row.get("designator") or "none").lower(), description=row.get("description", ""),
        requirement_kind=kind, nominal=limits[0], lower_limit=limits[1], upper_limit=limits[2],
        attribute_note=attribute, unit=row.get("unit") or ("mm" if kind == RequirementKind.VARIABLE else ""),
        method=row.get("method", ""), gauge_type=gauge_type,
        operation_number=int(operation_number) if operation_number else None)
    try:
        characteristic.full_clean()
    except ValidationError as exc:
        raise ApplicationError(f"balloon {balloon}: {' '.join(exc.messages)}", code="invalid") from None
    return characteristic


@transaction.atomic
def plan_import_csv(*, part_revision_id: int, text: str, user) -> InspectionPlan:
    """Add the balloon list of a CSV file to the revision's plan (created if missing).
    Columns (header row, any order, only `balloon` required): balloon, sheet, zone, designator
    (none/key/critical), description, nominal, lower, upper (a variable requirement needs all three),
    attribute_note (an attribute requirement), unit, method, gauge_type (a gauge type code),
    operation_number. All lines or none: every bad line is refused with its number."""
    import csv
    import io

    from inspection.models import GaugeType

    require_perm(user, "inspection.add_characteristic")
    if not PartRevision.objects.filter(pk=part_revision_id).exists():
        raise NotFound(f"There is no part revision {part_revision_id}.")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        fieldnames = [name.strip().lower() for name in reader.fieldnames or () if name]
    except csv.Error as exc:
        raise ApplicationError(f"The file is not readable as CSV: {exc}.", field="file") from None
    reader.fieldnames = fieldnames
    unknown = set(fieldnames) - set(PLAN_CSV_COLUMNS)
    if not fieldnames or "balloon" not in fieldnames or unknown:
        raise ApplicationError(f"The header must name the columns {', '.join(PLAN_CSV_COLUMNS)}"
                               + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else "") + ".", field="file",
                               code="bad_header")
    plan, _ = InspectionPlan.objects.get_or_create(part_revision_id=part_revision_id)
    seen = set(plan.characteristics.values_list("balloon_number", flat=True))
    gauge_types = {g.code.lower(): g for g in GaugeType.objects.all()}
    characteristics, refused, codes = [], [], []
    try:
        for row in reader:
            line = reader.line_num  # the file's own line number, blank lines counted
            row = {key: (value or "").strip() for key, value in row.items() if key}
            if not any(row.values()):
                continue  # a blank line
            try:
                characteristics.append(_plan_row(row, plan=plan, gauge_types=gauge_types, seen=seen))
            except ApplicationError as err:
                refused.append((line, err.message))
                codes.append(err.code)
    except csv.Error as exc:
        raise ApplicationError(f"The file is not readable as CSV: {exc}.", field="file") from None
    if refused:
        raise PlanImportRefused(refused, code=codes[0])
    if not characteristics:
        raise ApplicationError("The file has a header but no balloon lines.", field="file", code="empty")
    for characteristic in characteristics:
        characteristic._history_user = user
        characteristic.save()
    return plan


@transaction.atomic
def plan_copy_forward(*, from_revision_id: int, to_revision_id: int, user) -> tuple[InspectionPlan, dict]:
    """Copy a plan to another revision of the same part that has none yet. Returns the plan and what
    differs from the copied one once edited: see `plan_compare`."""
    require_perm(user, "inspection.add_inspectionplan")
    source = InspectionPlan.objects.select_related("part_revision").filter(part_revision_id=from_revision_id).first()
    if source is None:
        raise NotFound("The revision to copy from has no inspection plan.")
    target = PartRevision.objects.filter(pk=to_revision_id).first()
    if target is None:
        raise NotFound(f"There is no part revision {to_revision_id}.")
    if target.pk == source.part_revision_id or target.part_id != source.part_revision.part_id:
        raise ApplicationError(f"A plan is copied forward to another revision of {source.part_revision.part.number}.",
                               field="to_revision", code="wrong_revision")
    if InspectionPlan.objects.filter(part_revision_id=to_revision_id).exists():
        raise Conflict(f"{target} has an inspection plan already.", code="plan_exists")
    plan = InspectionPlan(part_revision_id=to_revision_id, notes=f"Copied from {source.part_revision}.")
    plan._history_user = user
    plan.save()
    for characteristic in source.characteristics.all():
        characteristic.pk = None
        characteristic._state.adding = True
        characteristic.plan = plan
        characteristic._history_user = user
        characteristic.save()
    return plan, plan_compare(old=source, new=plan)


def plan_compare(*, old: InspectionPlan, new: InspectionPlan) -> dict:
    """What changed between two plans, by balloon: added, removed, and changed with old and new values."""
    before = {c.balloon_number: c for c in old.characteristics.all()}
    after = {c.balloon_number: c for c in new.characteristics.all()}
    changed = {}
    for balloon in sorted(before.keys() & after.keys()):
        fields = {name: (getattr(before[balloon], name), getattr(after[balloon], name)) for name in PLAN_COMPARED
                  if getattr(before[balloon], name) != getattr(after[balloon], name)}
        if fields:
            changed[balloon] = fields
    return {"added": sorted(after.keys() - before.keys()), "removed": sorted(before.keys() - after.keys()),
            "changed": changed}
