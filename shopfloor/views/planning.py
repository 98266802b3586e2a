"""The planner board: schedule runs side by side with the EDD baseline, a Gantt per machine of one run,
lock, move, publish. Each view parses its input, calls one jobs service and renders; reads come from
jobs.selectors, so a page costs the same few queries whatever the number of entries.

Planners run, lock, move and publish (the services check it); managers read. HTMX requests get the
fragment they swap, refusals included (with their 4xx status); plain requests are redirected back
with the outcome as a message, so the buttons work without JavaScript too."""

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from core.errors import ApplicationError
from jobs.choices import ScheduleRunStatus
from jobs.inputs import ScheduleRunInput, refusal
from jobs.models import ScheduleEntry, ScheduleRun
from jobs.scheduling.engine import SOLVERS
from jobs.selectors import schedule_entry_list, schedule_run_list
from jobs.services.schedule import (
    schedule_entry_lock,
    schedule_entry_move,
    schedule_run_cancel,
    schedule_run_publish,
    schedule_run_request,
)
from shopfloor.views.gantt import entry_rows, gantt_build, when

READERS = ("jobs.run_schedule", "reporting.view_reports")  # planners work here; managers read
RUNS_SHOWN = 30
POLL = "every 2s"


def _require_reader(user) -> None:
    if not any(user.has_perm(perm) for perm in READERS):
        raise PermissionDenied("The planner board is for planners and managers.")


# Figures: a run next to the EDD baseline computed on the same problem.

@dataclass
class Figure:
    label: str
    value: str
    baseline: str
    saving: str = ""
    better: bool | None = None  # None: the same as EDD


def _minutes_text(minutes: float) -> str:
    minutes = round(minutes)
    if abs(minutes) < 60:
        return f"{minutes} min"
    hours, rest = divmod(abs(minutes), 60)
    return f"{'-' if minutes < 0 else ''}{hours} h {rest:02d} min"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _saving(value: float, baseline: float, *, minutes: bool, better: str = "saves {}",
            worse: str = "{} more") -> tuple[str, bool | None]:
    difference = baseline - value
    if not difference:
        return "same as EDD", None
    amount = _minutes_text(abs(difference)) if minutes else _number(abs(difference))
    if baseline:
        share = abs(difference) / baseline
        amount += f" ({share:.0%})" if share >= .005 else " (<1%)"
    return (better.format(amount), True) if difference > 0 else (worse.format(amount), False)


def run_starts_at(run: ScheduleRun) -> dt.datetime | None:
    """Minute 0 of the run's problem (recorded once the run succeeded)."""
    value = run.parameters.get("starts_at")
    try:
        return dt.datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


FIGURE_KEYS = ("changeover_minutes", "tardy_jobs", "weighted_tardiness", "makespan_minutes")


def run_figures(run: ScheduleRun) -> list[Figure]:
    """Changeover minutes, tardy jobs, weighted tardiness and the end date (makespan), each against EDD."""
    mine, edd = run.figures or {}, run.baseline_figures or {}
    if run.status != ScheduleRunStatus.SUCCEEDED or any(key not in mine or key not in edd for key in FIGURE_KEYS):
        return []
    figures = []
    for key, label, minutes in (("changeover_minutes", "Changeover", True), ("tardy_jobs", "Tardy jobs", False),
                                ("weighted_tardiness", "Weighted tardiness", False)):
        def shown(value, minutes=minutes):
            return _minutes_text(value) if minutes else _number(value)
        figures.append(Figure(label, shown(mine[key]), shown(edd[key]),
                              *_saving(mine[key], edd[key], minutes=minutes)))
    saving = _saving(mine["makespan_minutes"], edd["makespan_minutes"], minutes=True,
                     better="ends {} earlier", worse="ends {} later")
    start = run_starts_at(run)
    if start is None:
        figures.append(Figure("Makespan", _minutes_text(mine["makespan_minutes"]),
                              _minutes_text(edd["makespan_minutes"]), *saving))
    else:
        def end(minutes: int) -> str:
            return when(start + dt.timedelta(minutes=minutes))
        figures.append(Figure("Ends (makespan)", end(mine["makespan_minutes"]), end(edd["makespan_minutes"]), *saving))
    return figures


@dataclass
class RunView:
    run: ScheduleRun
    figures: list[Figure]
    unfinished: bool
    percent: int


def run_view(run: ScheduleRun) -> RunView:
    return RunView(run=run, figures=run_figures(run), unfinished=run.status in ScheduleRunStatus.unfinished(),
                   percent=round(100 * min(max(run.progress, 0), 1)))


# Contexts and answers.

def _form_values(data=None) -> dict:
    data = data or {}
    return {
        "time_limit": data.get("time_limit", "30"),
        "solver": data.get("solver", "auto"),
        "horizon_days": data.get("horizon_days", "42"),
        "weights": [data.get(name, "") for name in ScheduleRunInput.BOARD_WEIGHTS],
        "base_run": data.get("base_run", ""),
    }


def _rerun_values(run: ScheduleRun) -> dict:
    """The re-run form: this run's own parameters, started from it (its locks and moves stay)."""
    parameters = run.parameters
    return {
        "time_limit": parameters.get("time_limit", 30),
        "solver": parameters.get("solver", "auto"),
        "horizon_days": parameters.get("horizon_days", 42),
        "weights": [str(w) for w in parameters.get("weights") or ("", "", "")],
    }


def board_context(request, *, error: ApplicationError | None = None, form_error: ApplicationError | None = None,
                  values: dict | None = None) -> dict:
    runs = [run_view(run) for run in schedule_run_list()[:RUNS_SHOWN]]
    return {
        "runs": runs,
        "error": error,  # a refused cancel or publish
        "form_error": form_error,  # a refused request for a run
        "values": values or _form_values(),
        "solvers": SOLVERS.values(),
        "base_runs": [view.run for view in runs if view.run.status == ScheduleRunStatus.SUCCEEDED],
        "poll": POLL,
    }


def run_context(request, run: ScheduleRun, *, error: ApplicationError | None = None,
                error_entry_id: int | None = None) -> dict:
    rows = entry_rows(list(schedule_entry_list(run_id=run.pk))) if run.status == ScheduleRunStatus.SUCCEEDED else []
    return {
        "view": run_view(run),
        "run": run,
        "rows": rows,
        "gantt": gantt_build(rows, run_starts_at(run)),
        "late_count": sum(row.late for row in rows),
        # the published run drives the floor: moves happen in a run started from it
        "movable": (request.user.has_perm("jobs.change_scheduleentry") and run.status == ScheduleRunStatus.SUCCEEDED
                    and not run.published),
        "error": None if error_entry_id else error,
        "entry_error": error if error_entry_id else None,
        "error_entry_id": error_entry_id,
        "rerun": _rerun_values(run),
        "poll": POLL,
    }


def _board_answer(request, *, error: ApplicationError | None = None, form_error: ApplicationError | None = None,
                  values: dict | None = None, notice: str = "") -> HttpResponse:
    refusal = error or form_error
    if not request.htmx:
        if refusal:
            messages.error(request, refusal.message)
        elif notice:
            messages.success(request, notice)
        return redirect("planning")
    context = board_context(request, error=error, form_error=form_error, values=values) | {"notice": notice}
    return render(request, "shopfloor/planning/_body.html", context, status=refusal.status if refusal else 200)


def _run_answer(request, run_id: int, *, error: ApplicationError | None = None, error_entry_id: int | None = None,
                notice: str = "") -> HttpResponse:
    if not request.htmx:
        if error:
            messages.error(request, error.message)
        elif notice:
            messages.success(request, notice)
        return redirect("planning-run", run_id=run_id)
    run = get_object_or_404(schedule_run_list(), pk=run_id)
    context = run_context(request, run, error=error, error_entry_id=error_entry_id) | {"notice": notice}
    return render(request, "shopfloor/planning/_run_detail.html", context, status=error.status if error else 200)


# Views.

@require_safe
def planning(request):
    _require_reader(request.user)
    return render(request, "shopfloor/planning/board.html", board_context(request))


def _optional_id(value: str, *, field_name: str, message: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:  # ids are 64-bit: beyond, the database refuses the lookup
        raise ApplicationError(message, field=field_name)
    return int(value)


@require_POST
def planning_run_request(request):
    """Start a run from the board's form, or re-run from a run's page (origin=run, base_run=that run)."""
    _require_reader(request.user)
    data = request.POST
    from_run = data.get("origin") == "run"
    form = ScheduleRunInput.from_form(data)
    try:
        if not form.is_valid():
            raise refusal(form.errors)[0]
        run = schedule_run_request(user=request.user, **form.arguments())
    except ApplicationError as error:
        if from_run and (data.get("base_run") or "").isdigit():
            return _run_answer(request, int(data["base_run"]), error=error)
        return _board_answer(request, form_error=error, values=_form_values(data))
    notice = f"Run {run.pk} queued."
    if from_run:  # the new run's progress shows on the board
        if request.htmx:
            return HttpResponseClientRedirect(reverse("planning"))
        messages.success(request, notice)
        return redirect("planning")
    return _board_answer(request, notice=notice)


@require_safe
@never_cache
def planning_run(request, run_id: int):
    _require_reader(request.user)
    run = get_object_or_404(schedule_run_list(), pk=run_id)
    return render(request, "shopfloor/planning/run.html", run_context(request, run))


@require_safe
@never_cache
def planning_run_progress(request, run_id: int):
    """What the progress poll swaps: the run's row on the board (which stops polling once the run has
    finished), or on the run's page its head, and there a reload once the run finished (its Gantt)."""
    _require_reader(request.user)
    run = get_object_or_404(schedule_run_list(), pk=run_id)
    view = run_view(run)
    if request.GET.get("view") == "head":
        if not view.unfinished:
            return HttpResponseClientRefresh()
        return render(request, "shopfloor/planning/_run_head.html", {"view": view, "run": run, "poll": POLL})
    return render(request, "shopfloor/planning/_run_row.html", {"view": view, "poll": POLL})


RUN_ACTIONS = {"cancel": (schedule_run_cancel, "Run {} cancelled."), "publish": (schedule_run_publish,
                                                                                   "Run {} published.")}


@require_POST
def planning_run_action(request, run_id: int, action: str):
    """Cancel or publish, from the board or from the run's page (origin=run)."""
    _require_reader(request.user)
    if action not in RUN_ACTIONS or not ScheduleRun.objects.filter(pk=run_id).exists():
        raise Http404("No such run or action.")
    service, done = RUN_ACTIONS[action]
    error, notice = None, ""
    try:
        service(user=request.user, run_id=run_id)
        notice = done.format(run_id)
    except ApplicationError as exc:
        error = exc
    if request.POST.get("origin") == "run":
        return _run_answer(request, run_id, error=error, notice=notice)
    return _board_answer(request, error=error, notice=notice)


def _entry_run_id(entry_id: int) -> int:
    run_id = ScheduleEntry.objects.filter(pk=entry_id).values_list("run_id", flat=True).first()
    if run_id is None:
        raise Http404("No such schedule entry.")
    return run_id


@require_POST
def planning_entry_lock(request, entry_id: int):
    _require_reader(request.user)
    run_id = _entry_run_id(entry_id)
    locked = request.POST.get("locked", "") in ("1", "true", "on")
    try:
        schedule_entry_lock(user=request.user, entry_id=entry_id, locked=locked)
    except ApplicationError as error:
        return _run_answer(request, run_id, error=error, error_entry_id=entry_id)
    return _run_answer(request, run_id)


def parse_local_datetime(value: str) -> dt.datetime:
    """A datetime-local value, read in the shop's time zone."""
    try:
        moment = dt.datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise ApplicationError("Give the start as a date and a time, for example 2026-12-01 07:00.",
                               field="starts_at") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if abs(moment - timezone.now()) > dt.timedelta(days=3653):  # a typo in the year, not a plan
        raise ApplicationError("Give a start within ten years of today.", field="starts_at")
    return moment


@require_POST
def planning_entry_move(request, entry_id: int):
    _require_reader(request.user)
    run_id = _entry_run_id(entry_id)
    try:
        machine_id = _optional_id(request.POST.get("machine", ""), field_name="machine", message="Choose a machine.")
        if machine_id is None:
            raise ApplicationError("Choose a machine.", field="machine")
        starts_at = parse_local_datetime(request.POST.get("starts_at", ""))
        schedule_entry_move(user=request.user, entry_id=entry_id, machine_id=machine_id, starts_at=starts_at)
    except ApplicationError as error:
        return _run_answer(request, run_id, error=error, error_entry_id=entry_id)
    return _run_answer(request, run_id, notice="Moved and locked there: re-run from this run to schedule around it.")


@require_safe
def planning_run_problem(request, run_id: int):
    """The problem the run solved, as the engine's JSON file (bench.scheduler replays it)."""
    _require_reader(request.user)
    run = get_object_or_404(ScheduleRun.objects.only("pk", "problem"), pk=run_id)
    if not run.problem:
        raise Http404("This run has no problem yet: it has not finished.")
    response = JsonResponse(run.problem, json_dumps_params={"indent": 1})
    response["Content-Disposition"] = content_disposition_header(True, f"spindle-problem-{run.pk}.json")
    return response
