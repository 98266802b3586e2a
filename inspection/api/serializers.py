from rest_framework import serializers

from inspection.models import (
    Calibration,
    Characteristic,
    CharacteristicResult,
    FirstArticleReport,
    FormTwoLine,
    Gauge,
    GaugeType,
    InspectionPlan,
    InspectionReading,
    InspectionRecord,
    NonConformance,
)

STAMPS = ["created_at", "updated_at"]


class GaugeTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = GaugeType
        fields = ["id", "code", "name"]


class GaugeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Gauge
        fields = ["id", "asset_id", "gauge_type", "description", "range_low", "range_high", "resolution", "unit",
                  "location", "calibration_interval_days", "last_calibrated_on", "next_due_on", "status", *STAMPS]


class CalibrationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Calibration
        fields = ["id", "gauge", "calibrated_on", "as_found_in_tolerance", "as_found_notes", "as_left_in_tolerance",
                  "as_left_notes", "certificate_number", "performed_by", "next_due_on", *STAMPS]


class CharacteristicSerializer(serializers.ModelSerializer):
    class Meta:
        model = Characteristic
        fields = ["id", "plan", "balloon_number", "sheet", "zone", "designator", "description", "requirement_kind",
                  "nominal", "lower_limit", "upper_limit", "attribute_note", "unit", "method", "gauge_type",
                  "operation_number", "sampling", "sample_every", *STAMPS]


class InspectionPlanSerializer(serializers.ModelSerializer):
    characteristics = CharacteristicSerializer(many=True, read_only=True)

    class Meta:
        model = InspectionPlan
        fields = ["id", "part_revision", "notes", "characteristics", *STAMPS]


class FirstArticleReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = FirstArticleReport
        fields = ["id", "fair_id", "job", "operation", "serial_number", "fai_type", "reason", "partial_reason",
                  "status", "prepared_by", "submitted_at", "decided_by", "decided_at", "decision_note", *STAMPS]


class NonConformanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = NonConformance
        fields = ["id", "number", "source", "job", "operation", "quantity", "description", "root_cause",
                  "corrective_action", "disposition", "status", "rework_operation", "raised_by", "holds_operation",
                  "dispositioned_by", "dispositioned_at", "disposition_note", "closed_at",
                  *STAMPS]


class CharacteristicResultSerializer(serializers.ModelSerializer):
    balloon_number = serializers.CharField(source="characteristic.balloon_number", read_only=True)
    nonconformance_number = serializers.CharField(source="nonconformance.number", read_only=True, default=None)

    class Meta:
        model = CharacteristicResult
        fields = ["id", "report", "characteristic", "balloon_number", "measured_value", "attribute_accepted", "gauge",
                  "verdict", "nonconformance", "nonconformance_number", "measured_by", "measured_at", "notes"]


class FormTwoLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = FormTwoLine
        fields = ["id", "report", "kind", "designation", "specification", "code", "supplier", "certificate_number",
                  "functional_test_procedure", "acceptance_report_number"]


class FirstArticleReportDetailSerializer(FirstArticleReportSerializer):
    results = CharacteristicResultSerializer(many=True, read_only=True)
    form_two_lines = FormTwoLineSerializer(many=True, read_only=True)

    class Meta(FirstArticleReportSerializer.Meta):
        fields = [*FirstArticleReportSerializer.Meta.fields, "covered_characteristics", "results", "form_two_lines"]


class InspectionReadingSerializer(serializers.ModelSerializer):
    balloon_number = serializers.CharField(source="characteristic.balloon_number", read_only=True)
    unit = serializers.CharField(source="characteristic.unit", read_only=True)
    nonconformance_number = serializers.CharField(source="nonconformance.number", read_only=True, default=None)

    class Meta:
        model = InspectionReading
        fields = ["id", "characteristic", "balloon_number", "piece", "measured_value", "unit", "attribute_accepted",
                  "gauge", "verdict", "nonconformance", "nonconformance_number"]


class InspectionRecordSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)
    readings = InspectionReadingSerializer(many=True, read_only=True)

    class Meta:
        model = InspectionRecord
        fields = ["id", "label", "job", "operation", "kind", "sample_size", "pieces", "inspector", "inspected_at",
                  "accepted", "readings", *STAMPS]


class RecallEntrySerializer(serializers.Serializer):
    gauge = serializers.CharField()
    measured_at = serializers.DateTimeField()
    job = serializers.CharField()
    operation = serializers.CharField()
    part = serializers.CharField()
    inspection = serializers.CharField(help_text="First article, In-process or Final.")
    record = serializers.CharField(help_text="The FAIR identifier or the inspection record.")
    record_status = serializers.CharField()
    balloon = serializers.CharField()
    piece = serializers.CharField()
    measured_value = serializers.CharField()
    unit = serializers.CharField()
    verdict = serializers.CharField()
    measured_by = serializers.CharField()
    nonconformance = serializers.CharField()
