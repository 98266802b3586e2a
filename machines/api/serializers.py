from rest_framework import serializers

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


class SignalsRecordedSerializer(serializers.Serializer):
    applied = serializers.IntegerField(help_text="Rows applied.")
    duplicates = serializers.IntegerField(help_text="Rows at or before the last applied time of their signal.")
    state = serializers.CharField(help_text="The machine's state after the batch.")
