from rest_framework import serializers

from jobs.models import (
    Customer,
    Job,
    JobOperation,
    JobOperationMachine,
    MaterialLot,
    NCProgram,
    Part,
    PartRevision,
    Routing,
    RoutingStep,
    RoutingStepMachine,
    SalesOrder,
    SalesOrderLine,
    ScheduleEntry,
    ScheduleRun,
    ScrapReason,
)
from jobs.scheduling.engine import AUTO, SOLVERS
from machines.models import DowntimeReason, Machine

STAMPS = ["created_at", "updated_at"]


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "code", "name", "active", *STAMPS]


class SalesOrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = SalesOrderLine
        fields = ["id", "order", "line_number", "part_revision", "quantity", "due_date", *STAMPS]


class SalesOrderSerializer(serializers.ModelSerializer):
    lines = SalesOrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = SalesOrder
        fields = ["id", "number", "customer", "po_number", "order_date", "notes", "lines", *STAMPS]


class PartSerializer(serializers.ModelSerializer):
    class Meta:
        model = Part
        fields = ["id", "number", "description", "customer", *STAMPS]


class PartRevisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartRevision
        fields = ["id", "part", "revision", "drawing_number", "drawing_revision", "status", "serialized",
                  "material", *STAMPS]
        read_only_fields = ["status"]  # changed by the release action only


class RoutingStepMachineSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoutingStepMachine
        fields = ["id", "step", "machine", "rank", "setup_minutes", "cycle_minutes"]


class RoutingStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoutingStep
        fields = [
            "id", "routing", "operation_number", "name", "work_center", "kind", "setup_minutes", "cycle_minutes",
            "parts_per_cycle", "min_wait_minutes", "fixture", "material", "tool_kit", "nc_program",
            "needs_first_article", "instructions", "vendor", "lead_days", "outside_cost", *STAMPS,
        ]


class RoutingSerializer(serializers.ModelSerializer):
    steps = RoutingStepSerializer(many=True, read_only=True)

    class Meta:
        model = Routing
        fields = ["id", "part_revision", "version", "notes", "steps", *STAMPS]


class NCProgramSerializer(serializers.ModelSerializer):
    class Meta:
        model = NCProgram
        fields = ["id", "part_revision", "operation_number", "machine", "work_center", "program_number", "version",
                  "checksum", "file", "status", *STAMPS]


class ScrapReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScrapReason
        fields = ["id", "code", "label", "active"]


class MaterialLotSerializer(serializers.ModelSerializer):
    class Meta:
        model = MaterialLot
        fields = ["id", "job", "material", "heat_number", "certificate_number", "supplier", *STAMPS]


class JobSerializer(serializers.ModelSerializer):
    number = serializers.CharField(max_length=30, required=False, allow_blank=True,
                                   help_text="Left empty, the next WO number is given.")

    class Meta:
        model = Job
        fields = [
            "id", "number", "order_line", "part_revision", "routing", "quantity", "due_date", "priority",
            "material_status", "material_expected_on", "status", "released_at", "released_by", "notes", *STAMPS,
        ]
        read_only_fields = ["routing", "status", "released_at", "released_by"]


class OperationMachineSerializer(serializers.ModelSerializer):
    class Meta:
        model = JobOperationMachine
        fields = ["machine", "rank", "setup_minutes", "cycle_minutes", "hourly_rate"]


class OperationSerializer(serializers.ModelSerializer):
    eligible_machines = OperationMachineSerializer(source="machine_options", many=True, read_only=True)
    good_quantity = serializers.IntegerField(read_only=True)
    scrap_quantity = serializers.IntegerField(read_only=True)
    rework_quantity = serializers.IntegerField(read_only=True)

    class Meta:
        model = JobOperation
        fields = [
            "id", "job", "operation_number", "name", "work_center", "kind", "setup_minutes", "cycle_minutes",
            "parts_per_cycle", "min_wait_minutes", "fixture", "material", "tool_kit", "nc_program", "instructions",
            "vendor", "lead_days", "outside_cost", "eligible_machines", "machine", "status", "first_article",
            "first_article_reason", "production_gate_open", "good_quantity", "scrap_quantity", "rework_quantity",
            "closed_short_reason", "sent_on", "vendor_certificate_number", *STAMPS,
        ]


class DispatchEntrySerializer(OperationSerializer):
    scheduled_start = serializers.DateTimeField(read_only=True, allow_null=True,
                                                help_text="Start on this machine in the published schedule.")

    class Meta(OperationSerializer.Meta):
        fields = [*OperationSerializer.Meta.fields, "scheduled_start"]


# Inputs of the operation actions: each names what its service needs, nothing more.
class StartSetupInput(serializers.Serializer):
    machine = serializers.PrimaryKeyRelatedField(queryset=Machine.objects.filter(active=True))


class ReportInput(serializers.Serializer):
    good = serializers.IntegerField(min_value=0, default=0)
    scrap = serializers.IntegerField(min_value=0, default=0)
    rework = serializers.IntegerField(min_value=0, default=0)
    scrap_reason = serializers.PrimaryKeyRelatedField(queryset=ScrapReason.objects.filter(active=True),
                                                      required=False, allow_null=True)
    confirm_overrun = serializers.BooleanField(default=False)


class PauseInput(serializers.Serializer):
    reason = serializers.PrimaryKeyRelatedField(queryset=DowntimeReason.objects.filter(active=True))


class CompleteInput(serializers.Serializer):
    short_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class HoldInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class SendInput(serializers.Serializer):
    vendor = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    sent_on = serializers.DateField(required=False, allow_null=True, default=None)


class ReceiveInput(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)
    certificate_number = serializers.CharField(max_length=50)


# What each operation action reads from a request (the API's JSON or a terminal's form).
ACTION_INPUTS: dict[str, type[serializers.Serializer] | None] = {
    "start_setup": StartSetupInput,
    "first_piece": None,
    "start_run": None,
    "report": ReportInput,
    "pause": PauseInput,
    "resume": None,
    "complete": CompleteInput,
    "hold": HoldInput,
    "release_hold": None,
    "send": SendInput,
    "receive": ReceiveInput,
}


def action_arguments(action: str, data) -> dict:
    """The validated arguments of `action` (raises DRF's ValidationError on bad input)."""
    input_class = ACTION_INPUTS[action]
    if input_class is None:
        return {}
    parsed = input_class(data=data)
    parsed.is_valid(raise_exception=True)
    arguments = dict(parsed.validated_data)
    if "machine" in arguments:
        arguments["machine_id"] = arguments.pop("machine").pk
    return arguments


class ScheduleRunSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    published_by = serializers.CharField(source="published_by.username", read_only=True, default=None)

    class Meta:
        model = ScheduleRun
        fields = ["id", "status", "progress", "message", "parameters", "figures", "baseline_figures", "published",
                  "published_at", "published_by", "edited", "requested_by", "created_at", "started_at",
                  "finished_at", "heartbeat_at"]
        read_only_fields = fields


class ScheduleRunInput(serializers.Serializer):
    """Ranges are the service's to check, so that the page and the API refuse alike."""

    time_limit = serializers.IntegerField(required=False, help_text="Seconds the solver may use (1-3600).")
    solver = serializers.CharField(required=False, help_text=f"One of {', '.join(SOLVERS)} (default {AUTO}).")
    horizon_days = serializers.IntegerField(required=False, help_text="Days of calendar to plan into (1-365).")
    weights = serializers.ListField(child=serializers.IntegerField(), required=False, allow_null=True,
                                    help_text="[tardiness, changeover, makespan]; omitted: in that order.")
    base_run = serializers.IntegerField(required=False, allow_null=True, source="base_run_id",
                                        help_text="Keep the locked entries of this run (default: the published).")


class ScheduleEntrySerializer(serializers.ModelSerializer):
    job = serializers.CharField(source="operation.job.number", read_only=True)
    operation_number = serializers.IntegerField(source="operation.operation_number", read_only=True)
    machine = serializers.CharField(source="machine.code", read_only=True, default=None)

    class Meta:
        model = ScheduleEntry
        fields = ["id", "operation", "job", "operation_number", "machine", "starts_at", "ends_at",
                  "changeover_minutes", "sequence", "locked"]
        read_only_fields = fields
