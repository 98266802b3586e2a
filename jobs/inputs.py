"""What a write reads from a request, parsed once for the API's JSON and a page's form alike: DRF serializers, so
that the API documents each. `arguments()` gives the service's keyword arguments; `refusal` turns a parse failure
into what a page shows next to its field."""

from typing import Any

from django.http import QueryDict
from rest_framework import serializers

from core.errors import ApplicationError
from jobs.models import ScrapReason
from jobs.scheduling.engine import AUTO, SOLVERS
from machines.models import DowntimeReason, Machine

SCHEDULE_MAX_SECONDS = 3600
MAX_ID = 2**63 - 1  # ids are 64-bit: beyond, the database refuses the lookup


class Input(serializers.Serializer):
    def arguments(self) -> dict[str, Any]:
        """The service's keyword arguments (once valid)."""
        return dict(self.validated_data)


def refusal(errors: dict) -> tuple[ApplicationError, dict[str, list[str]]]:
    """A parse failure's errors as a page shows them: the first message on its field, and every field's messages."""
    fields = {name: [str(text) for text in texts] for name, texts in errors.items()}
    name, texts = next(iter(fields.items()))
    return ApplicationError(texts[0], field=name), fields


# The operation actions' inputs (jobs.actions names each action's): each names what its service needs, nothing more.
class StartSetupInput(Input):
    machine = serializers.PrimaryKeyRelatedField(queryset=Machine.objects.filter(active=True))

    def arguments(self) -> dict[str, Any]:
        return {"machine_id": self.validated_data["machine"].pk}


class ReportInput(Input):
    good = serializers.IntegerField(min_value=0, default=0)
    scrap = serializers.IntegerField(min_value=0, default=0)
    rework = serializers.IntegerField(min_value=0, default=0)
    scrap_reason = serializers.PrimaryKeyRelatedField(queryset=ScrapReason.objects.filter(active=True),
                                                      required=False, allow_null=True)
    confirm_overrun = serializers.BooleanField(default=False)


class PauseInput(Input):
    reason = serializers.PrimaryKeyRelatedField(queryset=DowntimeReason.objects.filter(active=True))


class CompleteInput(Input):
    short_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class HoldInput(Input):
    reason = serializers.CharField(max_length=200)


class SendInput(Input):
    vendor = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    sent_on = serializers.DateField(required=False, allow_null=True, default=None)


class ReceiveInput(Input):
    quantity = serializers.IntegerField(min_value=1)
    certificate_number = serializers.CharField(max_length=50)


def _says(message: str) -> dict[str, str]:
    """The same message however a field is wrong (not a number, out of range, not a choice, not a list...)."""
    return dict.fromkeys(("invalid", "null", "min_value", "max_value", "max_string_length", "invalid_choice",
                          "not_a_list", "empty", "min_length", "max_length"), message)


class WeightsField(serializers.ListField):
    """The objective's weights: tardiness, changeover, makespan."""

    child = serializers.IntegerField()
    default_error_messages = {"weights": "Give three whole weights ≥ 0 (tardiness, changeover, makespan), not all 0."}

    def to_internal_value(self, data: Any) -> list[int]:
        try:
            weights = super().to_internal_value(data)
        except serializers.ValidationError:
            self.fail("weights")
        if len(weights) != 3 or min(weights) < 0 or not any(weights):
            self.fail("weights")
        return weights


class ScheduleRunInput(Input):
    """A request for a schedule run; what it leaves out takes its default."""

    BOARD_WEIGHTS = ("weight_tardiness", "weight_changeover", "weight_makespan")  # the planner board's form's

    time_limit = serializers.IntegerField(
        required=False, min_value=1, max_value=SCHEDULE_MAX_SECONDS, help_text="Seconds the solver may use (1-3600).",
        error_messages=_says(f"Give the time limit in whole seconds, 1 to {SCHEDULE_MAX_SECONDS}."))
    solver = serializers.ChoiceField(
        choices=[(s.name, s.label) for s in SOLVERS.values()], required=False,
        help_text=f"One of {', '.join(SOLVERS)} (default {AUTO}: the best for the problem).",
        error_messages=_says(f"Choose a solver among {', '.join(SOLVERS)}."))
    horizon_days = serializers.IntegerField(
        required=False, min_value=1, max_value=365, help_text="Days of calendar to plan into (1-365).",
        error_messages=_says("Give the horizon in whole days, 1 to 365."))
    weights = WeightsField(required=False, allow_null=True,
                           help_text="[tardiness, changeover, makespan]; omitted: in that order.")
    base_run = serializers.IntegerField(
        required=False, allow_null=True, source="base_run_id", min_value=1, max_value=MAX_ID,
        help_text="Keep the locked entries of this run (default: the published).",
        error_messages=_says("Choose a run to start from."))

    @classmethod
    def from_form(cls, form: QueryDict) -> "ScheduleRunInput":
        """The board's form: its fields as typed, the weights as three fields (all empty: none), the base run
        empty when none is chosen."""
        data = {name: form[name].strip() for name in ("time_limit", "solver", "horizon_days", "base_run")
                if name in form}
        if not data.get("base_run"):
            data.pop("base_run", None)
        weights = [form.get(name, "").strip() for name in cls.BOARD_WEIGHTS]
        if any(weights):
            data["weights"] = weights
        return cls(data=data)
