"""The inspector's pages: the first-article queue, a report row by row, in-process and final checks, gauges,
nonconformances, inspection plans.

Each form calls one inspection service; a refusal re-renders the same fragment with its message and
status (base.html has htmx swap 4xx answers too)."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.errors import ApplicationError
from inspection import selectors
from inspection.as9102 import fair_pdf, fair_xlsx
from inspection.choices import Disposition, InspectionKind, NCStatus, ReportStatus, RequirementKind
from inspection.inputs import plan_file_text
from inspection.models import Characteristic, FirstArticleReport, Gauge, NonConformance
from inspection.recall import gauge_recall_csv
from inspection.services.first_articles import (
    fai_approve,
    fai_form_two_line_add,
    fai_open_for_operation,
    fai_reject,
    fai_result_record,
    fai_submit,
)
from inspection.services.gauges import gauge_calibrate
from inspection.services.measurements import measured_value_parse, verdict_of
from inspection.services.nonconformances import nc_close, nc_disposition, nc_raise
from inspection.services.plans import PLAN_CSV_COLUMNS, plan_copy_forward, plan_import_csv
from inspection.services.records import inspection_record_create
from jobs.models import Job, JobOperation, PartRevision

VIEW = "inspection.view_firstarticlereport"


def _accepted(choice: str) -> bool | None:
    """An attribute's pass/fail buttons; None when neither was pressed."""
    return {"pass": True, "fail": False}.get(choice)


def _gauge_id(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _report(report_id: int) -> FirstArticleReport:
    try:
        return selectors.report_detail(report_id)
    except FirstArticleReport.DoesNotExist:
        raise Http404("No such report.") from None


@require_safe
@permission_required(VIEW, raise_exception=True)
def quality_queue(request):
    """First articles waiting, oldest first; open the report of one to inspect it."""
    return render(request, "shopfloor/quality/queue.html", {
        "waiting": selectors.first_article_queue(),
        "gauges_due": selectors.gauges_due(today=timezone.localdate()),
        "open_ncs": selectors.nonconformances_open()[:20],
    })


@require_POST
def quality_open(request, operation_id: int):
    try:
        report = fai_open_for_operation(operation_id=operation_id, user=request.user)
    except ApplicationError as err:
        messages.error(request, err.message)
        return redirect("quality-queue")
    return redirect("quality-report", report_id=report.pk)


def _counts(rows: list[dict]) -> dict:
    """The "measured X of Y" counter of Form 3."""
    return {"measured": sum(1 for row in rows if row["result"]), "total": len(rows),
            "failed": sum(1 for row in rows if row["result"] and row["result"].verdict == "fail")}


def report_context(report: FirstArticleReport, *, error: ApplicationError | None = None) -> dict:
    rows = selectors.report_rows(report)
    return {
        "report": report, "rows": rows, "error": error, "editable": report.status == ReportStatus.OPEN,
        **_counts(rows), "lines": list(report.form_two_lines.all()),
    }


@require_safe
@permission_required(VIEW, raise_exception=True)
def quality_report(request, report_id: int):
    report = _report(report_id)
    return render(request, "shopfloor/quality/report.html", report_context(report))


def _row_context(report: FirstArticleReport, characteristic_id: int, **extra) -> dict:
    rows = selectors.report_rows(report)
    row = next((row for row in rows if row["characteristic"].pk == characteristic_id), None)
    if row is None:
        raise ApplicationError("That characteristic is not part of this report.")
    # The counter in the heading follows each saved row (out-of-band swap).
    return {"report": report, "row": row, "editable": report.status == ReportStatus.OPEN, "oob": True,
            **_counts(rows), **extra}


@require_POST
def quality_row(request, report_id: int, characteristic_id: int):
    """One Form 3 row, measured: answers the row, with pass/fail at once, or the refusal."""
    report = _report(report_id)
    characteristic = get_object_or_404(Characteristic, pk=characteristic_id)
    try:
        fai_result_record(
            report_id=report.pk, characteristic_id=characteristic.pk, user=request.user,
            value=request.POST.get("value") if characteristic.requirement_kind == RequirementKind.VARIABLE else None,
            accepted=_accepted(request.POST.get("accepted", "")), gauge_id=_gauge_id(request.POST.get("gauge", "")),
            notes=request.POST.get("notes", ""))
    except ApplicationError as err:
        context = _row_context(report, characteristic.pk, row_error=err, typed=request.POST.get("value", ""))
        return render(request, "shopfloor/quality/partials/row.html", context, status=err.status)
    response = render(request, "shopfloor/quality/partials/row.html", _row_context(report, characteristic.pk))
    response["HX-Trigger"] = "fai-row-saved"
    return response


@require_POST
def quality_report_action(request, report_id: int, action: str):
    """Submit, approve or reject (the last two signed with the password)."""
    report = _report(report_id)
    try:
        if action == "submit":
            fai_submit(report_id=report.pk, user=request.user)
        elif action == "approve":
            fai_approve(report_id=report.pk, user=request.user, password=request.POST.get("password", ""),
                        note=request.POST.get("note", ""))
        elif action == "reject":
            fai_reject(report_id=report.pk, user=request.user, password=request.POST.get("password", ""),
                       note=request.POST.get("note", ""))
        elif action == "form-two":
            fai_form_two_line_add(
                report_id=report.pk, user=request.user, kind=request.POST.get("kind", ""),
                designation=request.POST.get("designation", ""), specification=request.POST.get("specification", ""),
                code=request.POST.get("code", ""), certificate_number=request.POST.get("certificate_number", ""),
                functional_test_procedure=request.POST.get("functional_test_procedure", ""))
        else:
            raise ApplicationError(f"“{action}” is not something a report does.")
    except ApplicationError as err:
        report = _report(report_id)
        return render(request, "shopfloor/quality/report.html", report_context(report, error=err), status=err.status)
    labels = {"submit": "submitted", "approve": "approved: production may start",
              "reject": "rejected: the operation is back in setup", "form-two": "updated"}
    messages.success(request, f"{report.fair_id} {labels[action]}.")
    return redirect("quality-report", report_id=report.pk)


@require_safe
@permission_required(VIEW, raise_exception=True)
def quality_report_document(request, report_id: int, kind: str):
    """AS9102 Forms 1–3 as PDF or XLSX."""
    report = _report(report_id)
    if kind == "pdf":
        response = HttpResponse(fair_pdf(report), content_type="application/pdf")
    else:
        response = HttpResponse(fair_xlsx(report),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = content_disposition_header(kind == "xlsx", f"{report.fair_id}.{kind}")
    return response


@require_safe
@permission_required("inspection.view_gauge", raise_exception=True)
def quality_gauges(request):
    return render(request, "shopfloor/quality/gauges.html", {"gauges": selectors.gauge_list()})


@require_POST
def quality_gauge_calibrate(request, gauge_id: int):
    """Record a calibration from the gauges page; answers the gauge's row."""
    gauge = get_object_or_404(Gauge, pk=gauge_id)
    error = None
    try:
        calibrated_on = _date(request.POST.get("calibrated_on", ""), field="calibrated_on")
        gauge_calibrate(
            gauge_id=gauge.pk, user=request.user, calibrated_on=calibrated_on,
            as_found_in_tolerance=request.POST.get("as_found") == "in",
            as_left_in_tolerance=request.POST.get("as_left") == "in",
            certificate_number=request.POST.get("certificate_number", ""),
            performed_by=request.POST.get("performed_by", ""))
    except ApplicationError as err:
        error = err
    gauge = selectors.gauge_list().get(pk=gauge.pk)
    return render(request, "shopfloor/quality/partials/gauge_row.html", {"gauge": gauge, "error": error},
                  status=error.status if error else 200)


def _date(text: str, *, field: str):
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ApplicationError(f"“{text.strip()}” is not a date (YYYY-MM-DD).", field=field) from None


@require_safe
@permission_required("inspection.view_gauge", raise_exception=True)
def quality_gauge_recall(request, gauge_id: int):
    return gauge_recall_csv(get_object_or_404(Gauge, pk=gauge_id))


@require_safe
@permission_required("inspection.view_nonconformance", raise_exception=True)
def quality_nonconformances(request):
    show_all = request.GET.get("all") == "1"
    ncs = selectors.nonconformance_list() if show_all else selectors.nonconformances_open()
    return render(request, "shopfloor/quality/nonconformances.html", {
        "ncs": ncs[:200], "show_all": show_all, "dispositions": [d for d in Disposition if d != Disposition.PENDING],
    })


@require_POST
def quality_nc_raise(request):
    """Raise a nonconformance from an in-process or final check: job number, operation number."""
    number = request.POST.get("job", "").strip()
    try:
        job = Job.objects.filter(number__iexact=number).first()
        if job is None:
            raise ApplicationError(f"There is no job “{number}”.", field="job")
        operation_number = request.POST.get("operation", "").strip()
        operation = None
        if operation_number:
            operation = JobOperation.objects.filter(job=job, operation_number=int(operation_number)
                                                    if operation_number.isdigit() else -1).first()
            if operation is None:
                raise ApplicationError(f"{job.number} has no operation {operation_number}.", field="operation")
        quantity = request.POST.get("quantity", "1").strip()
        nc = nc_raise(user=request.user, job_id=job.pk, operation_id=operation.pk if operation else None,
                      quantity=int(quantity) if quantity.isdigit() else 0,
                      description=request.POST.get("description", ""),
                      source=request.POST.get("source", "in_process"))
    except ApplicationError as err:
        messages.error(request, err.message)
        return redirect("quality-nonconformances")
    messages.success(request, f"{nc.number} raised" + (" and its operation is on hold." if nc.holds_operation
                                                       else "."))
    return redirect("quality-nonconformances")


@require_POST
def quality_nc_action(request, nc_id: int, action: str):
    nc = get_object_or_404(NonConformance, pk=nc_id)
    error = None
    try:
        if action == "disposition":
            nc = nc_disposition(nc_id=nc.pk, user=request.user,
                                disposition=request.POST.get("disposition", ""),
                                note=request.POST.get("note", ""))
        elif action == "close":
            nc = nc_close(nc_id=nc.pk, user=request.user, root_cause=request.POST.get("root_cause", ""),
                          corrective_action=request.POST.get("corrective_action", ""))
        else:
            raise ApplicationError(f"“{action}” is not something a nonconformance does.")
    except ApplicationError as err:
        error = err
    nc = selectors.nonconformance_list().get(pk=nc.pk)
    context = {"nc": nc, "error": error, "dispositions": [d for d in Disposition if d != Disposition.PENDING],
               "open": NCStatus.OPEN}
    return render(request, "shopfloor/quality/partials/nc_row.html", context, status=error.status if error else 200)


# --- In-process and final checks ------------------------------------------------------------------


def _operation(operation_id: int) -> JobOperation:
    operation = (JobOperation.objects.select_related("job__part_revision__part", "machine")
                 .filter(pk=operation_id).first())
    if operation is None:
        raise Http404("No such operation.")
    return operation


def _kind(value: str) -> str:
    return value if value in InspectionKind.values else InspectionKind.IN_PROCESS


def check_context(operation: JobOperation, *, kind: str, error: ApplicationError | None = None,
                  typed: dict | None = None, recorded=None) -> dict:
    """The check form: each characteristic the check may measure with its requirement, unit and the
    gauges that may measure it (of its type, in calibration today)."""
    rows = selectors.check_rows(operation, kind=kind)
    for row in rows:  # what was typed stays in the form after a refusal
        row["typed"] = (typed or {}).get(row["characteristic"].pk, {})
    return {"operation": operation, "kind": kind, "kinds": InspectionKind.choices, "rows": rows, "error": error,
            "typed": typed or {}, "recorded": recorded,
            "records": selectors.inspection_records(operation_id=operation.pk)[:10]}


def _typed_readings(request, rows: list[dict]) -> tuple[list[dict], dict]:
    """The rows the inspector filled in; a row left blank is not measured this time."""
    piece = request.POST.get("piece", "").strip()
    readings, typed = [], {}
    for row in rows:
        c = row["characteristic"]
        value = request.POST.get(f"value-{c.pk}", "").strip()
        accepted = request.POST.get(f"accepted-{c.pk}", "")
        gauge = request.POST.get(f"gauge-{c.pk}", "")
        typed[c.pk] = {"value": value, "accepted": accepted, "gauge": gauge}
        if c.requirement_kind == RequirementKind.VARIABLE and not value:
            continue
        if c.requirement_kind == RequirementKind.ATTRIBUTE and accepted not in ("pass", "fail"):
            continue
        readings.append({"characteristic": c.pk, "piece": piece, "value": value or None,
                         "accepted": _accepted(accepted), "gauge": _gauge_id(gauge)})
    return readings, typed


@require_http_methods(["GET", "HEAD", "POST"])
@permission_required("inspection.view_inspectionrecord", raise_exception=True)
def quality_check(request, operation_id: int):
    """An in-process or final check of an operation: fill in the rows measured, pass/fail is shown as
    each value is typed; saving records every reading or none."""
    operation = _operation(operation_id)
    kind = _kind(request.POST.get("kind") or request.GET.get("kind", ""))
    template = ("shopfloor/quality/partials/check_panel.html" if request.htmx and not request.htmx.boosted
                else "shopfloor/quality/check.html")
    if request.method != "POST":
        return render(request, template, check_context(operation, kind=kind))
    readings, typed = _typed_readings(request, selectors.check_rows(operation, kind=kind))
    typed["piece"] = request.POST.get("piece", "")
    try:
        record = inspection_record_create(operation_id=operation.pk, user=request.user, kind=kind,
                                          readings=readings, pieces=request.POST.get("piece", ""))
    except ApplicationError as err:
        return render(request, template, check_context(operation, kind=kind, error=err, typed=typed),
                      status=err.status)
    operation = _operation(operation.pk)  # its status may have changed (a failing reading holds it)
    record = selectors.inspection_records().get(pk=record.pk)
    context = check_context(operation, kind=kind, recorded=record)
    context["oob"] = bool(request.htmx)  # the header's status follows: a failing reading holds the operation
    response = render(request, template, context)
    response["HX-Trigger"] = "inspection-recorded"
    return response


@require_POST
@permission_required("inspection.view_inspectionrecord", raise_exception=True)
def quality_check_verdict(request, operation_id: int, characteristic_id: int):
    """Pass or fail of one typed value, before anything is saved: the same parsing and limits as the
    saved reading. Writes nothing."""
    characteristic = get_object_or_404(Characteristic.objects.select_related("gauge_type"), pk=characteristic_id)
    verdict, message = "", ""
    try:
        if characteristic.requirement_kind == RequirementKind.VARIABLE:
            text = request.POST.get(f"value-{characteristic.pk}", "").strip()
            if text:
                value = measured_value_parse(text, unit=characteristic.unit)
                verdict = verdict_of(characteristic, value=value)
        else:
            accepted = _accepted(request.POST.get(f"accepted-{characteristic.pk}", ""))
            if accepted is not None:
                verdict = verdict_of(characteristic, accepted=accepted)
    except ApplicationError as err:
        message = err.message
    return render(request, "shopfloor/quality/partials/check_verdict.html",
                  {"c": characteristic, "verdict": verdict, "message": message})


@require_safe
@permission_required("inspection.view_inspectionrecord", raise_exception=True)
def quality_checks(request):
    """Where in-process and final checks start: operations in work, or any operation by job and number."""
    number, operation_number = request.GET.get("job", "").strip(), request.GET.get("operation", "").strip()
    error = None
    if number:
        operation = JobOperation.objects.filter(
            job__number__iexact=number,
            operation_number=int(operation_number) if operation_number.isdigit() else -1).first()
        if operation is not None:
            kind = _kind(request.GET.get("kind", ""))
            return redirect(f"{reverse('quality-check', args=[operation.pk])}?kind={kind}")
        error = f"There is no operation {operation_number or '(number missing)'} on job “{number}”."
    return render(request, "shopfloor/quality/checks.html", {
        "operations": selectors.operations_to_inspect(), "error": error, "job": number,
        "operation_number": operation_number, "records": selectors.inspection_records()[:20],
    }, status=404 if error else 200)


# --- Inspection plans -----------------------------------------------------------------------------

MAX_PLAN_FILE = 2 * 1024 * 1024


@require_safe
@permission_required("inspection.view_inspectionplan", raise_exception=True)
def quality_plans(request):
    search = request.GET.get("q", "").strip()
    return render(request, "shopfloor/quality/plans.html",
                  {"revisions": selectors.plan_revisions(search=search)[:200], "q": search})


def _revision(revision_id: int) -> PartRevision:
    revision = PartRevision.objects.select_related("part").filter(pk=revision_id).first()
    if revision is None:
        raise Http404("No such part revision.")
    return revision


def plan_context(revision: PartRevision, *, error: ApplicationError | None = None, notice: str = "") -> dict:
    plan = selectors.plan_for_revision(revision.pk)
    others = list(selectors.plan_revisions().filter(part_id=revision.part_id).exclude(pk=revision.pk))
    return {
        "revision": revision, "plan": plan, "error": error, "notice": notice,
        "rows": [{"characteristic": c, "requirement": selectors.requirement_text(c)}
                 for c in (plan.characteristics.all() if plan else [])],
        "copy_targets": [r for r in others if not r.has_plan] if plan else [],
        "with_plan": [r for r in others if r.has_plan],
        "columns": PLAN_CSV_COLUMNS,
    }


def _plan_template(request) -> str:
    return ("shopfloor/quality/partials/plan_panel.html" if request.htmx and not request.htmx.boosted
            else "shopfloor/quality/plan.html")


@require_safe
@permission_required("inspection.view_inspectionplan", raise_exception=True)
def quality_plan(request, revision_id: int):
    """A part revision's inspection plan: its characteristics, the CSV import, copy forward, compare."""
    return render(request, _plan_template(request), plan_context(_revision(revision_id)))


@require_POST
def quality_plan_import(request, revision_id: int):
    """Add a balloon list from a CSV file: every line or none; a refusal lists each bad line."""
    revision = _revision(revision_id)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ApplicationError("Choose the CSV file of the balloon list.", field="file")
        if upload.size > MAX_PLAN_FILE:
            raise ApplicationError("The file is larger than 2 MB; a balloon list is much smaller.", field="file")
        text = plan_file_text(upload)
        before = selectors.plan_for_revision(revision.pk)
        count = len(before.characteristics.all()) if before else 0
        plan = plan_import_csv(part_revision_id=revision.pk, text=text, user=request.user)
    except ApplicationError as err:
        return render(request, _plan_template(request), plan_context(revision, error=err), status=err.status)
    added = plan.characteristics.count() - count
    return render(request, _plan_template(request),
                  plan_context(revision, notice=f"{added} characteristic{'s' if added != 1 else ''} imported from "
                                                f"{upload.name}."))


@require_POST
def quality_plan_copy(request, revision_id: int):
    """Copy this revision's plan forward to another revision of the part; then show what differs."""
    revision = _revision(revision_id)
    target = request.POST.get("to_revision", "")
    try:
        if not target.isdigit():
            raise ApplicationError("Choose the revision to copy the plan to.", field="to_revision")
        plan, _ = plan_copy_forward(from_revision_id=revision.pk, to_revision_id=int(target),
                                    user=request.user)
    except ApplicationError as err:
        messages.error(request, err.message)
        return redirect("quality-plan", revision_id=revision.pk)
    messages.success(request, f"The plan of {revision} was copied to {plan.part_revision}; edit it there, then "
                              "compare again.")
    return redirect("quality-plan-compare", revision_id=plan.part_revision_id, other_id=revision.pk)


@require_safe
@permission_required("inspection.view_inspectionplan", raise_exception=True)
def quality_plan_compare(request, revision_id: int, other_id: int):
    """What changed from the plan of `other_id` (the older revision) to this revision's plan."""
    new, old = selectors.plan_for_revision(revision_id), selectors.plan_for_revision(other_id)
    if new is None or old is None:
        raise Http404("Both revisions need an inspection plan to compare.")
    return render(request, "shopfloor/quality/plan_compare.html",
                  {"new": new, "old": old, **selectors.plan_compare_rows(old=old, new=new)})
