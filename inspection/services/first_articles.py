"""First-article reports (AS9102): opened for an operation waiting for its first piece, measured row by row,
submitted, then approved or rejected with the inspector's signature.

Locks: the report first, then the jobs services lock machine and operation."""

from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError, Conflict, Forbidden, NotFound
from core.permissions import require_perm
from inspection.choices import Disposition, FAIType, FormTwoKind, NCSource, ReportStatus, Verdict
from inspection.models import CharacteristicResult, FirstArticleReport, FormTwoLine, InspectionPlan
from inspection.selectors import report_characteristics
from inspection.services.measurements import measurement_check
from inspection.services.nonconformances import nc_create
from jobs.choices import FirstArticleRequirement, OperationStatus
from jobs.models import JobOperation
from jobs.services.first_articles import nc_program_mark_proven
from jobs.services.operations import operation_production_gate_set


def _lock_report(report_id: int) -> FirstArticleReport:
    report = FirstArticleReport.objects.select_for_update().filter(pk=report_id).first()
    if report is None:
        raise NotFound(f"There is no first-article report {report_id}.")
    return report


def _fair_id(operation: JobOperation) -> str:
    base = f"FAIR-{operation.job.number}-{operation.operation_number}"
    taken = FirstArticleReport.objects.filter(fair_id__startswith=base).count()
    return base if not taken else f"{base}-{taken + 1}"


@transaction.atomic
def fai_open_for_operation(*, operation_id: int, user: User) -> FirstArticleReport:
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
def fai_result_record(*, report_id: int, characteristic_id: int, user: User, value: str | Decimal | None = None,
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
        result.nonconformance = nc_create(
            job=report.job, operation=report.operation, source=NCSource.FIRST_ARTICLE, quantity=1, user=user,
            description=f"{report.fair_id} balloon {characteristic.balloon_number}: {measurement.failure()}.")
    result.full_clean()
    result._history_user = user
    result.save()
    return result


@transaction.atomic
def fai_form_two_line_add(*, report_id: int, user: User, kind: str, designation: str, specification: str,
                          code: str = "", supplier: str = "", certificate_number: str = "",
                          functional_test_procedure: str = "", acceptance_report_number: str = "") -> FormTwoLine:
    """One Form 2 line: a material, special process or functional test with its paperwork."""
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
def fai_submit(*, report_id: int, user: User) -> FirstArticleReport:
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


def _signature(user: User, password: str) -> None:
    require_perm(user, "inspection.approve_firstarticlereport")
    if not password or not user.check_password(password):
        raise Forbidden("The password is not correct: the signature was not applied.", code="bad_signature")


@transaction.atomic
def fai_approve(*, report_id: int, user: User, password: str, note: str = "") -> FirstArticleReport:
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
def fai_reject(*, report_id: int, user: User, password: str, note: str) -> FirstArticleReport:
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

