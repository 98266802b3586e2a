from rest_framework import viewsets

from core.api.viewsets import RecordViewSet
from inspection.api import serializers
from inspection.models import (
    Calibration,
    Characteristic,
    FirstArticleReport,
    Gauge,
    GaugeType,
    InspectionPlan,
    NonConformance,
)


class GaugeTypeViewSet(RecordViewSet):
    queryset = GaugeType.objects.all()
    serializer_class = serializers.GaugeTypeSerializer
    search_fields = ["code", "name"]


class GaugeViewSet(RecordViewSet):
    queryset = Gauge.objects.all()
    serializer_class = serializers.GaugeSerializer
    filterset_fields = {"gauge_type": ["exact"], "status": ["exact"], "next_due_on": ["lte", "gte"]}
    search_fields = ["asset_id", "description", "location"]
    ordering_fields = ["asset_id", "next_due_on"]


class InspectionPlanViewSet(RecordViewSet):
    queryset = InspectionPlan.objects.prefetch_related("characteristics")
    serializer_class = serializers.InspectionPlanSerializer
    filterset_fields = ["part_revision"]


class CharacteristicViewSet(RecordViewSet):
    queryset = Characteristic.objects.all()
    serializer_class = serializers.CharacteristicSerializer
    filterset_fields = ["plan", "designator", "requirement_kind", "gauge_type", "operation_number"]


# Calibrations, first-article reports and nonconformances change state through their own
# workflows (status, signatures, write-backs); the API reads them here.
class CalibrationViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Calibration.objects.all()
    serializer_class = serializers.CalibrationSerializer
    filterset_fields = ["gauge"]


class FirstArticleReportViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = FirstArticleReport.objects.all()
    serializer_class = serializers.FirstArticleReportSerializer
    filterset_fields = ["status", "job", "operation"]
    search_fields = ["fair_id"]


class NonConformanceViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = NonConformance.objects.all()
    serializer_class = serializers.NonConformanceSerializer
    filterset_fields = ["status", "job", "disposition", "source"]
    search_fields = ["number"]
