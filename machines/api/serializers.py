import datetime as dt

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from core.errors import ApplicationError
from machines.connectivity.observations import Kind, Observation
from machines.models import (
    Calendar,
    CalendarException,
    ChangeoverRule,
    DowntimeReason,
    Fixture,
    Machine,
    MachineConnection,
    MachineStateEvent,
    ShiftWindow,
    WorkCenter,
)


class WorkCenterSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkCenter
        fields = ["id", "code", "name", "description", "created_at", "updated_at"]


class ShiftWindowSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShiftWindow
        fields = ["id", "calendar", "name", "weekday", "start_time", "end_time", "attended"]


class CalendarExceptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarException
        fields = ["id", "calendar", "kind", "starts_at", "ends_at", "attended", "priority", "note"]


class CalendarSerializer(serializers.ModelSerializer):
    windows = ShiftWindowSerializer(many=True, read_only=True)

    class Meta:
        model = Calendar
        fields = ["id", "name", "description", "windows", "created_at", "updated_at"]


class MachineConnectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = MachineConnection
        fields = ["connected", "last_observation_at", "last_error", "last_error_at"]
        read_only_fields = fields


class MachineSerializer(serializers.ModelSerializer):
    current_state = serializers.CharField(read_only=True, allow_null=True)
    state_since = serializers.DateTimeField(read_only=True, allow_null=True)
    connection = MachineConnectionSerializer(
        read_only=True, allow_null=True,
        help_text="The connection of its signals (an MTConnect agent or an edge device): connected now or not, "
                  "the last observation, the last error and when. Null until its first signal or error.")

    class Meta:
        model = Machine
        fields = [
            "id", "code", "name", "work_center", "kind", "hourly_rate", "active", "calendar",
            "mtconnect_agent_url", "mtconnect_device", "unexplained_stop_seconds", "part_counter_counts_good",
            "setup_fixture", "setup_material", "setup_tool_kit", "setup_program", "current_state", "state_since",
            "connection", "created_at", "updated_at",
        ]


class FixtureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Fixture
        fields = [
            "id", "code", "name", "kind", "status", "compatible_work_centers", "mounted_on", "storage_location",
            "created_at", "updated_at",
        ]


class ChangeoverRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChangeoverRule
        fields = ["id", "work_center", "attribute", "from_value", "to_value", "minutes", "cost", "priority"]


class DowntimeReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = DowntimeReason
        fields = ["id", "code", "label", "planned", "loss_category", "active"]


class MachineStateEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = MachineStateEvent
        fields = ["id", "machine", "state", "reason", "started_at", "ended_at", "source", "note"]


# What an edge device may post, and the observation kind each one is read into.
EDGE_SIGNALS = {"running": Kind.RUNNING, "alarm": Kind.ALARM, "part_count": Kind.PART_COUNT, "program": Kind.PROGRAM}
SIGNAL_BATCH_MAX = 1000


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time with its offset; a time without one is refused, not guessed in the shop's zone."""

    default_error_messages = {"naive": "Give the time zone (Z or +hh:mm): a time without one is ambiguous."}

    def to_internal_value(self, value):
        if isinstance(value, str) and (parsed := parse_datetime(value)) is not None and parsed.tzinfo is None:
            self.fail("naive")
        return super().to_internal_value(value).astimezone(dt.UTC)


class SignalSerializer(serializers.Serializer):
    """One row of an edge device's batch: running and alarm are true/false, part_count a count, program a name."""

    timestamp = AwareDateTimeField()
    signal = serializers.ChoiceField(choices=list(EDGE_SIGNALS))
    value = serializers.JSONField()

    def validate(self, attrs) -> Observation:
        signal, value = attrs["signal"], attrs["value"]
        if signal in ("running", "alarm"):
            if not isinstance(value, bool):
                raise serializers.ValidationError({"value": f"{signal} is true or false."})
            text = "true" if value else "false"
        elif signal == "part_count":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise serializers.ValidationError({"value": "part_count is a whole number, 0 or more."})
            text = str(value)
        else:
            if not isinstance(value, str) or not 0 < len(value) <= 100:
                raise serializers.ValidationError({"value": "program is a name of 1 to 100 characters."})
            text = value
        return Observation(kind=EDGE_SIGNALS[signal], value=text, timestamp=attrs["timestamp"])


def signal_batch(rows) -> list[Observation]:
    """A batch of signal rows, all valid, or a 400 naming the first bad row (counted from 0)."""
    if not isinstance(rows, list) or not rows:
        raise ApplicationError("Send a JSON list of signals: [{timestamp, signal, value}, …].")
    if len(rows) > SIGNAL_BATCH_MAX:
        raise ApplicationError(f"At most {SIGNAL_BATCH_MAX} signals in one batch.")
    observations = []
    for row, data in enumerate(rows):
        serializer = SignalSerializer(data=data)
        if not serializer.is_valid():
            field, messages = next(iter(serializer.errors.items()))
            raise ApplicationError(f"Row {row}: {field}: {messages[0]}", field=f"[{row}].{field}")
        observations.append(serializer.validated_data)
    return observations


class SignalsRecordedSerializer(serializers.Serializer):
    applied = serializers.IntegerField(help_text="Rows applied.")
    duplicates = serializers.IntegerField(help_text="Rows at or before the last applied time of their signal.")
    state = serializers.CharField(help_text="The machine's state after the batch.")
