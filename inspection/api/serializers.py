from rest_framework import serializers

from inspection.models import (
    Calibration,
    Characteristic,
    FirstArticleReport,
    Gauge,
    GaugeType,
    InspectionPlan,
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
                  "corrective_action", "disposition", "status", "rework_operation", "raised_by", "closed_at",
                  *STAMPS]
