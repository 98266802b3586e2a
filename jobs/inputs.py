"""What a write reads from a request, parsed once for the API's JSON and a page's form alike: DRF serializers, so
that the API documents each. `arguments()` gives the service's keyword arguments; `refusal` turns a parse failure
into what a page shows next to its field."""

from typing import Any

from rest_framework import serializers

from core.errors import ApplicationError
from jobs.models import ScrapReason
from machines.models import DowntimeReason, Machine


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
