"""Every action on an operation, declared once: its name, its button's label, the statuses it starts from, the
permission it needs, the step kinds it applies to, whether it waits for the production gate, its input and its
service. From this table the services refuse (and say why), the API answers
`POST /api/v1/operations/{id}/<slug>/` and documents its input, and the terminal shows a button where the action
applies. A new action is one entry here and its service in jobs.services.operations."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured

from core.errors import Conflict
from jobs.choices import OperationStatus, StepKind
from jobs.inputs import (
    CompleteInput,
    HoldInput,
    Input,
    PauseInput,
    ReceiveInput,
    ReportInput,
    SendInput,
    StartSetupInput,
)
from jobs.models import JobOperation
from jobs.services import operations

RUN, HOLD, APPROVE = "jobs.run_operation", "jobs.hold_operation", "inspection.approve_firstarticlereport"
INTERNAL, OUTSIDE = (StepKind.INTERNAL,), (StepKind.OUTSIDE,)
ANY_KIND = INTERNAL + OUTSIDE
INTERRUPTED = (OperationStatus.PAUSED, OperationStatus.ON_HOLD)  # where resume_status says where it was
# Why an action of the other kind of step does not apply, by the operation's kind.
WRONG_KIND = {
    StepKind.OUTSIDE: "{operation} is outside processing: send it to the vendor instead.",
    StepKind.INTERNAL: "{operation} is done in house; only outside processing is sent.",
}


@dataclass(frozen=True)
class OperationAction:
    name: str  # its OperationEvent's action and the terminal's URL; the API's is `slug`
    label: str  # the terminal's button
    from_statuses: tuple[str, ...]
    service: operations.OperationService
    input: type[Input] | None = None  # what it reads from a request; None: nothing
    perm: str = RUN
    kinds: tuple[str, ...] = INTERNAL  # the step kinds it applies to
    gated: bool = False  # refused while the production gate is closed (a first article waits for approval)
    while_interrupted: bool = False  # applies too while paused or on hold from one of `from_statuses`
    on_floor: bool = True  # offered by the API and the terminal; False: another app's service calls it
    wrong_status: str = "Operation {operation} is {status}: “{label}” does not apply now."

    def __post_init__(self) -> None:
        if self.service.action not in (None, self):
            raise ImproperlyConfigured(f"{self.service.__name__} serves “{self.service.action.name}” already.")
        self.service.action = self

    @property
    def slug(self) -> str:
        return self.name.replace("_", "-")

    def refusal(self, operation: JobOperation) -> Conflict | None:
        """Why the action does not apply to `operation` as it is now (its status, its kind of step, its production
        gate), or None. Its service raises it; the terminal offers the action only where there is none."""
        status = operation.status
        if self.while_interrupted and status in INTERRUPTED:
            status = operation.resume_status
        if status not in self.from_statuses:
            return Conflict(self.wrong_status.format(operation=operation, label=self.label,
                                                     status=operation.get_status_display().lower()),
                            code="wrong_state")
        if operation.kind not in self.kinds:
            return Conflict(WRONG_KIND[operation.kind].format(operation=operation), code="wrong_state")
        if self.gated and not operation.production_gate_open:
            return Conflict(f"{operation} waits for its first article to be approved.", code="first_article_pending")
        return None

    def offered(self, operation: JobOperation, user: User) -> bool:
        """Whether the terminal shows this action's button for `operation` to `user`."""
        return self.on_floor and user.has_perm(self.perm) and self.refusal(operation) is None

    def arguments(self, data: Any) -> dict[str, Any]:
        """The service's keyword arguments read from a request's data (raises DRF's ValidationError on bad input)."""
        if self.input is None:
            return {}
        parsed = self.input(data=data)
        parsed.is_valid(raise_exception=True)
        return parsed.arguments()


_S = OperationStatus
ACTIONS: dict[str, OperationAction] = {action.name: action for action in (
    OperationAction("start_setup", "Start setup", (_S.READY,), operations.operation_start_setup, StartSetupInput),
    OperationAction("first_piece", "First piece made", (_S.SETUP,), operations.operation_first_piece),
    OperationAction("start_run", "Start run", (_S.SETUP, _S.FIRST_ARTICLE), operations.operation_start_run,
                    gated=True),
    OperationAction("report", "Report parts", (_S.RUNNING, _S.PAUSED), operations.operation_report, ReportInput,
                    gated=True),
    OperationAction("pause", "Pause", (_S.SETUP, _S.FIRST_ARTICLE, _S.RUNNING), operations.operation_pause,
                    PauseInput),
    OperationAction("resume", "Resume", (_S.PAUSED,), operations.operation_resume),
    OperationAction("complete", "Complete", (_S.SETUP, _S.FIRST_ARTICLE, _S.RUNNING, _S.PAUSED),
                    operations.operation_complete, CompleteInput),
    OperationAction("hold", "Hold", (_S.PENDING, _S.READY, _S.SETUP, _S.FIRST_ARTICLE, _S.RUNNING, _S.PAUSED, _S.SENT),
                    operations.operation_hold, HoldInput, perm=HOLD, kinds=ANY_KIND),
    OperationAction("release_hold", "Release hold", (_S.ON_HOLD,), operations.operation_release_hold, perm=HOLD,
                    kinds=ANY_KIND),
    OperationAction("send", "Send to vendor", (_S.READY,), operations.operation_send, SendInput, kinds=OUTSIDE),
    OperationAction("receive", "Receive from vendor", (_S.SENT,), operations.operation_receive, ReceiveInput,
                    kinds=OUTSIDE),
    # Opened when the inspector approves the first article, closed (back to setup) when they reject it.
    OperationAction("production_gate", "Production gate", (_S.FIRST_ARTICLE,),
                    operations.operation_production_gate_set, perm=APPROVE, while_interrupted=True, on_floor=False,
                    wrong_status="Operation {operation} is not waiting for a first article."),
)}


def actions_offered(operation: JobOperation, user: User) -> list[OperationAction]:
    """The actions the terminal offers `user` for `operation` now, in the table's order."""
    return [action for action in ACTIONS.values() if action.offered(operation, user)]


def action_on_floor(name: str) -> OperationAction | None:
    """The action of that name that the API and the terminal answer, if there is one."""
    action = ACTIONS.get(name)
    return action if action is not None and action.on_floor else None
