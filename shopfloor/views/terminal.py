"""The operator terminal: a station of one or more machines, their work, one big button per action."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event
from rest_framework.exceptions import ValidationError as InputError

from core.api.errors import django_validation_fields
from core.cache import cache_get, cache_set
from core.errors import ApplicationError
from jobs.actions import OperationAction, action_on_floor, actions_offered
from jobs.inputs import refusal
from jobs.models import JobOperation, ScrapReason
from jobs.selectors import (
    Stamp,
    TerminalVersion,
    dispatch_list_brief,
    machine_reading,
    operation_detail,
    operation_detail_list,
    operation_minutes_worked,
    operation_stamp,
    terminal_stops,
    terminal_version,
    with_quantities,
)
from jobs.traveler import parse_scan_code
from machines.connectivity.services import stop_explain
from machines.models import DowntimeReason, Machine, MachineStateEvent
from machines.selectors import machine_list

STATION = "terminal_station"  # session key: the machine ids this terminal serves
DISPATCH_LENGTH = 12
DISPATCH_CACHE_SECONDS = 60
REASONS_CACHE_SECONDS = 60
OPERATION_CACHE_SECONDS = 60
ACTION_TEMPLATES = ("shopfloor/partials/terminal_actions/{}.html", "shopfloor/partials/terminal_actions/_button.html")


def _station_ids(request) -> list[int]:
    return request.session.get(STATION, [])


@require_http_methods(["GET", "POST"])
def terminal_choose(request):
    """Choose the station: one machine, or a bench of several run by one operator."""
    if request.method == "POST":
        ids = [int(value) for value in request.POST.getlist("machines") if value.isdigit()]
        ids = list(Machine.objects.filter(pk__in=ids, active=True).order_by("code").values_list("pk", flat=True))
        if not ids:
            messages.error(request, "Choose at least one machine.")
            return redirect("terminal-choose")
        request.session[STATION] = ids
        return redirect("terminal", machine_id=ids[0])
    return render(request, "shopfloor/terminal_choose.html", {"machines": machine_list().filter(active=True)})


def terminal_context(request, machine: Machine, live: TerminalVersion, operation: JobOperation | None,
                     error: ApplicationError | None = None, fields: dict | None = None, *,
                     station_changed: bool = False) -> dict:
    """What the terminal's templates show, each part with its version (`live`, read before it); `station_changed`:
    the station's tabs changed (an action changed its machine's state, a poll found them changed), so the panel's
    answer redraws them too (out of band)."""
    now = timezone.now()
    context: dict[str, Any] = {
        "stop": _stop_prompt(machine, live),
        "machine": machine,
        "live": live,
        "station": machine_list().filter(pk__in=_station_ids(request) or [machine.pk]),
        "station_changed": station_changed,
        "operation": operation,
        "error": error,
        "fields": fields or {},
        "nonce": uuid.uuid4().hex,  # one per rendering: a double tap posts the same key twice
        "dispatch": _dispatch_html(machine, operation.pk if operation else None, live.dispatch),
    }
    if operation is not None:
        context |= {
            "actions": [ActionButton.of(action) for action in actions_offered(operation, request.user)],
            "worked": operation_minutes_worked(operation, now=now),
            "remaining": max(operation.job.quantity - operation.good_quantity - operation.scrap_quantity, 0),
            "reading": machine_reading(operation, machine, live),
            **_reasons(),
        }
    return context


@dataclass(frozen=True)
class StopPrompt:
    """The oldest of the machine's stops that wait for the operator's reason, as the panel asks for it."""

    stop: MachineStateEvent
    seconds: float  # its length, so far while it goes on
    waiting: int  # stops waiting, this one included
    reasons: list[DowntimeReason]  # the unplanned ones: a machine that stops by itself is not planned down time

    @property
    def minutes(self) -> int:
        return max(1, round(self.seconds / 60))


def _stop_prompt(machine: Machine, live: TerminalVersion) -> StopPrompt | None:
    """The stops the panel asks about are those its version counted (read at the same time, `live.at`)."""
    stops = list(terminal_stops(machine_id=machine.pk, now=live.at)) if live.stops_waiting else []
    if not stops:
        return None
    stop = stops[0]
    return StopPrompt(stop=stop, seconds=((stop.ended_at or live.at) - stop.started_at).total_seconds(),
                      waiting=len(stops),
                      reasons=[reason for reason in _reasons()["downtime_reasons"] if not reason.planned])


@dataclass(frozen=True)
class ActionButton:
    """An action as the panel draws it: with its own template where it asks for input, else a plain button."""

    name: str
    label: str
    templates: tuple[str, ...]

    @classmethod
    def of(cls, action: OperationAction) -> "ActionButton":
        return cls(action.name, action.label, tuple(template.format(action.name) for template in ACTION_TEMPLATES))


def _reasons() -> dict[str, list]:
    """The active downtime and scrap reasons, read once a minute rather than twice per panel: they change a few
    times a year, and a reason added or retired shows on the terminals within REASONS_CACHE_SECONDS."""
    reasons = cache_get("shopfloor:terminal-reasons")
    if reasons is None:
        reasons = {
            "downtime_reasons": list(DowntimeReason.objects.filter(active=True).order_by("planned", "label")),
            "scrap_reasons": list(ScrapReason.objects.filter(active=True)),
        }
        cache_set("shopfloor:terminal-reasons", reasons, REASONS_CACHE_SECONDS)
    return reasons


def _dispatch_html(machine: Machine, operation_id: int | None, version: str) -> SafeString:
    """The machine's dispatch list, drawn once per dispatch version (and operation shown, which it marks) for
    every terminal that shows it: the list changes when an operation's status, a job or the published schedule
    does, not with each report, and reading it costs more than the rest of the panel. What the version does not
    see (a part renamed) shows within DISPATCH_CACHE_SECONDS."""
    key = f"shopfloor:dispatch:{machine.pk}:{operation_id or 0}:{version}:{translation.get_language()}"
    html = cache_get(key)
    if html is None:
        html = render_to_string("shopfloor/partials/terminal_dispatch.html", {
            "machine": machine, "operation_id": operation_id, "version": version,
            "dispatch": dispatch_list_brief(machine_id=machine.pk)[:DISPATCH_LENGTH],
        })
        cache_set(key, html, DISPATCH_CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 (our own template's output)


def _operation(stamp: Stamp | None, machine: Machine) -> JobOperation:
    """The operation with what the panel shows of it (job, part, customer and PO, fixture, program, and its setup
    and cycle standards on its machine or else this one), kept per version of its row and its job's: every action
    that changes the operation saves its row and a report does not, and reading all this costs ~10 ms of
    compiling and planning a seven-table query. Its quantities are read fresh every time. What the stamp does not
    see (a fixture renamed) shows within OPERATION_CACHE_SECONDS."""
    if stamp is None:
        raise Http404("No such operation.")
    pk, updated_at, job_updated_at = stamp
    key = f"shopfloor:operation:{pk}:{machine.pk}:{updated_at.isoformat()}:{job_updated_at.isoformat()}"
    operation = cache_get(key)
    if operation is None:
        operation = operation_detail(operation_id=pk, machine_id=machine.pk)
        if operation is None:
            raise Http404("No such operation.")
        cache_set(key, operation, OPERATION_CACHE_SECONDS)
    return with_quantities([operation])[0]


def _live(request, machine_id: int, operation_id: int | None) -> TerminalVersion:
    live = terminal_version(machine_id=machine_id, operation_id=operation_id,
                            station_ids=_station_ids(request) or [machine_id])
    if live is None:
        raise Http404("No such machine.")
    return live


def _opened(request) -> int | None:
    opened = request.GET.get("op", "")
    return int(opened) if opened.isdigit() else None


def _shown(live: TerminalVersion, machine: Machine, opened: int | None) -> JobOperation | None:
    """The operation on the panel: the one opened (404 if there is none such), else the machine's current one."""
    return None if opened is None and live.operation is None else _operation(live.operation, machine)


@never_cache
def terminal(request, machine_id: int):
    """The terminal page; with htmx it answers the operation panel only, or the panel's poll. `?op=` opens an
    operation (from the dispatch list or a scanned traveler); otherwise the machine's current one is shown."""
    if request.htmx and "panel" in request.GET:
        return _poll(request, machine_id, _opened(request))
    machine = get_object_or_404(Machine, pk=machine_id, active=True)
    if machine.pk not in _station_ids(request):
        request.session[STATION] = [*_station_ids(request), machine.pk]
    opened = _opened(request)
    live = _live(request, machine.pk, opened)  # read first: a change made while the page is drawn shows next poll
    context = terminal_context(request, machine, live, _shown(live, machine, opened))
    if request.htmx and not request.htmx.boosted:
        return render(request, "shopfloor/partials/terminal_panel.html", context)
    return render(request, "shopfloor/terminal.html", context)


def _poll(request, machine_id: int, operation_id: int | None) -> HttpResponse:
    """The panel's poll, carrying the version of each part the terminal shows (its operation, if any, as `op`):
    204 No Content when none changed; else the panel if it changed (with the station's tabs out of band if they
    did too, as an action's answer), or else the dispatch list in its place and/or the tabs out of band."""
    live = _live(request, machine_id, operation_id)
    changed = {part for part in ("panel", "dispatch", "station") if request.GET.get(part) != getattr(live, part)}
    if not changed:
        return HttpResponse(status=204)
    machine = get_object_or_404(Machine, pk=machine_id)
    if "panel" in changed:
        return render(request, "shopfloor/partials/terminal_panel.html",
                      terminal_context(request, machine, live, _shown(live, machine, operation_id),
                                       station_changed="station" in changed))
    response = render(request, "shopfloor/partials/terminal_parts.html", {
        "machine": machine, "live": live, "station_changed": "station" in changed,
        "station": machine_list().filter(pk__in=_station_ids(request) or [machine.pk]),
        "dispatch": _dispatch_html(machine, operation_id, live.dispatch) if "dispatch" in changed else "",
    })
    return retarget(response, "#terminal-dispatch") if "dispatch" in changed else reswap(response, "none")


def terminal_scan(request, machine_id: int):
    """A traveler's QR code (typed by a keyboard-wedge scanner) or a typed job number opens its operation."""
    machine = get_object_or_404(Machine, pk=machine_id, active=True)
    text = request.GET.get("code", "")
    try:
        job_number, operation_number = parse_scan_code(text)
    except ValueError:
        error = ApplicationError(f"“{text.strip()}” is not a job number or a traveler code.", field="code")
        return render(request, "shopfloor/partials/terminal_panel.html",
                      terminal_context(request, machine, _live(request, machine.pk, None), None, error), status=400)
    candidates = operation_detail_list().filter(job__number__iexact=job_number)
    if operation_number is not None:
        candidates = candidates.filter(operation_number=operation_number)
    else:  # a job number alone: the operation of this job this machine can do next
        candidates = candidates.filter(machine_options__machine=machine).exclude(status="done")
    stamp = operation_stamp(candidates)
    if stamp is None:
        error = ApplicationError(f"No open operation of {job_number} for {machine.code}.", code="not_found")
        return render(request, "shopfloor/partials/terminal_panel.html",
                      terminal_context(request, machine, _live(request, machine.pk, None), None, error), status=404)
    live = _live(request, machine.pk, stamp[0])
    return render(request, "shopfloor/partials/terminal_panel.html",
                  terminal_context(request, machine, live, _operation(live.operation, machine)))


def _refusal(exc: Exception) -> tuple[ApplicationError, dict]:
    """A refusal or bad input as one message and its field errors, for the panel to show."""
    if isinstance(exc, ApplicationError):
        return exc, ({exc.field: [exc.message]} if exc.field else {})
    return refusal(exc.detail if isinstance(exc, InputError) else django_validation_fields(exc))


@require_POST
def terminal_action(request, machine_id: int, operation_id: int, action: str):
    machine = get_object_or_404(Machine, pk=machine_id, active=True)
    performed = action_on_floor(action)
    if performed is None:
        raise Http404("Unknown action.")
    data = request.POST.copy()
    data["machine"] = str(machine.pk)  # an action that asks for a machine is done on this one
    started = timezone.now()
    try:
        operation = performed.service(
            operation_id=operation_id, user=request.user, terminal=f"terminal {machine.code}",
            idempotency_key=request.POST.get("nonce"), **performed.arguments(data),
        )
    except (ApplicationError, InputError, DjangoValidationError) as exc:
        error, fields = _refusal(exc)
        live = _live(request, machine.pk, operation_id)
        context = terminal_context(request, machine, live, _operation(live.operation, machine), error, fields)
        return render(request, "shopfloor/partials/terminal_panel.html", context, status=error.status)
    # An action that changes the operation (its status, and mostly its machine's state with it) saves its row; a
    # report that does not finish it leaves the row alone, and the station's tabs as they are.
    station_changed = operation.updated_at >= started
    live = _live(request, machine.pk, operation_id)
    response = render(request, "shopfloor/partials/terminal_panel.html",
                      terminal_context(request, machine, live, _operation(live.operation, machine),
                                       station_changed=station_changed))
    return trigger_client_event(response, "machine-changed")


@require_POST
def terminal_stop_explain(request, machine_id: int, event_id: int):
    """The operator's reason for one of the machine's stops, one tap: it applies to the whole interval. Explaining
    is idempotent by value (the same reason again changes nothing), so a double tap applies once."""
    machine = get_object_or_404(Machine, pk=machine_id, active=True)
    reason = request.POST.get("reason", "")
    error = fields = None
    try:
        stop_explain(machine_id=machine.pk, event_id=event_id, reason_id=int(reason) if reason.isdigit() else 0,
                     user=request.user)
    except ApplicationError as exc:
        error, fields = _refusal(exc)
    opened = _opened(request)
    live = _live(request, machine.pk, opened)
    context = terminal_context(request, machine, live, _shown(live, machine, opened), error, fields)
    return render(request, "shopfloor/partials/terminal_panel.html", context, status=error.status if error else 200)
