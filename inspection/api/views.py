
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.viewsets import RecordViewSet
from core.errors import NotFound
from inspection import inputs, selectors
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
from inspection.recall import gauge_recall_csv
from inspection.services.first_articles import (
    fai_approve,
    fai_form_two_line_add,
    fai_open_for_operation,
    fai_reject,
    fai_result_record,
    fai_submit,
)
from inspection.services.gauges import gauge_calibrate, gauge_status_set
from inspection.services.nonconformances import nc_close, nc_disposition, nc_raise
from inspection.services.plans import plan_copy_forward, plan_import_csv
from inspection.services.records import inspection_record_create


class GaugeTypeViewSet(RecordViewSet):
    queryset = GaugeType.objects.all()
    serializer_class = serializers.GaugeTypeSerializer
    search_fields = ["code", "name"]


def _input(serializer_class, request) -> dict:
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


class GaugeViewSet(RecordViewSet):
    queryset = Gauge.objects.all()
    serializer_class = serializers.GaugeSerializer
    filterset_fields = {"gauge_type": ["exact"], "status": ["exact"], "next_due_on": ["lte", "gte"]}
    search_fields = ["asset_id", "description", "location"]
    ordering_fields = ["asset_id", "next_due_on"]

    @action(detail=True, methods=["post"])
    @extend_schema(request=inputs.CalibrateInput, responses=serializers.CalibrationSerializer)
    def calibrate(self, request, pk=None):
        """Record a calibration with its as-found and as-left results; sets the next due date."""
        data = _input(inputs.CalibrateInput, request)
        calibration = gauge_calibrate(gauge_id=int(pk), user=request.user, **data)
        return Response(serializers.CalibrationSerializer(calibration).data, status=201)

    @action(detail=True, methods=["post"], url_path="set-status")
    @extend_schema(request=inputs.GaugeStatusInput, responses=serializers.GaugeSerializer)
    def set_status(self, request, pk=None):
        """Out for calibration, quarantined, retired, or back in service."""
        data = _input(inputs.GaugeStatusInput, request)
        gauge = gauge_status_set(gauge_id=int(pk), user=request.user, status=data["status"])
        return Response(serializers.GaugeSerializer(gauge).data)

    @action(detail=True, methods=["get"])
    @extend_schema(responses=serializers.RecallEntrySerializer(many=True))
    def recall(self, request, pk=None):
        """Every first-article result and in-process or final reading measured with the gauge since its
        last good calibration before the latest out-of-tolerance one, with jobs and records.
        `?export=csv` for a spreadsheet."""
        gauge = self.get_object()
        if request.query_params.get("export") == "csv":
            return gauge_recall_csv(gauge)
        entries = selectors.gauge_recall_entries(gauge_id=gauge.pk)
        return Response(serializers.RecallEntrySerializer(entries, many=True).data)


class InspectionPlanViewSet(RecordViewSet):
    queryset = InspectionPlan.objects.prefetch_related("characteristics")
    serializer_class = serializers.InspectionPlanSerializer
    filterset_fields = ["part_revision"]

    @action(detail=False, methods=["post"], url_path="import-csv")
    @extend_schema(request=inputs.PlanImportInput, responses=serializers.InspectionPlanSerializer)
    def import_csv(self, request):
        """Add a balloon list from CSV to a revision's plan; all lines or none. Columns: balloon, sheet,
        zone, designator, description, nominal, lower, upper, attribute_note, unit, method, gauge_type,
        operation_number."""
        data = _input(inputs.PlanImportInput, request)
        upload = data.get("file")
        text = inputs.plan_file_text(upload) if upload else data.get("text", "")
        plan = plan_import_csv(part_revision_id=data["part_revision"], text=text, user=request.user)
        plan = InspectionPlan.objects.prefetch_related("characteristics").get(pk=plan.pk)
        return Response(serializers.InspectionPlanSerializer(plan).data, status=201)

    @action(detail=True, methods=["post"], url_path="copy-forward")
    @extend_schema(request=inputs.PlanCopyInput, responses=serializers.InspectionPlanSerializer)
    def copy_forward(self, request, pk=None):
        """Copy this plan to a new revision; answers the new plan."""
        data = _input(inputs.PlanCopyInput, request)
        source = self.get_object()
        plan, _ = plan_copy_forward(from_revision_id=source.part_revision_id,
                                    to_revision_id=data["to_revision"], user=request.user)
        plan = InspectionPlan.objects.prefetch_related("characteristics").get(pk=plan.pk)
        return Response(serializers.InspectionPlanSerializer(plan).data, status=201)

    @action(detail=True, methods=["get"])
    def compare(self, request, pk=None):
        """What changed from plan `?with=<id>` (the older one) to this one, by balloon."""
        new = self.get_object()
        old = InspectionPlan.objects.filter(pk=request.query_params.get("with") or 0).first()
        if old is None:
            raise NotFound("Give the plan to compare with as ?with=<id>.")
        diff = selectors.plan_compare(old=old, new=new)
        changed = {balloon: {name: [str(a) if a is not None else None, str(b) if b is not None else None]
                             for name, (a, b) in fields.items()} for balloon, fields in diff["changed"].items()}
        return Response({"added": diff["added"], "removed": diff["removed"], "changed": changed})


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

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.FirstArticleReportSerializer
        return serializers.FirstArticleReportDetailSerializer

    def _answer(self, report, status=200):
        report = FirstArticleReport.objects.prefetch_related("results", "form_two_lines").get(pk=report.pk)
        return Response(serializers.FirstArticleReportDetailSerializer(report).data, status=status)

    @action(detail=False, methods=["post"])
    @extend_schema(request=inputs.ReportOpenInput, responses=serializers.FirstArticleReportDetailSerializer)
    def open(self, request):
        """The report of an operation waiting for its first article: the open one, or a new one."""
        data = _input(inputs.ReportOpenInput, request)
        return self._answer(fai_open_for_operation(operation_id=data["operation"], user=request.user))

    @action(detail=True, methods=["post"])
    @extend_schema(request=inputs.ResultInput, responses=serializers.CharacteristicResultSerializer)
    def results(self, request, pk=None):
        """Record (or measure again) one Form 3 row; a failing row raises a nonconformance."""
        data = _input(inputs.ResultInput, request)
        result = fai_result_record(
            report_id=int(pk), user=request.user, characteristic_id=data["characteristic"], value=data["value"],
            accepted=data["accepted"], gauge_id=data["gauge"], notes=data["notes"])
        return Response(serializers.CharacteristicResultSerializer(result).data, status=201)

    @action(detail=True, methods=["post"], url_path="form-two-lines")
    @extend_schema(request=inputs.FormTwoLineInput, responses=serializers.FormTwoLineSerializer)
    def form_two_lines(self, request, pk=None):
        data = _input(inputs.FormTwoLineInput, request)
        line = fai_form_two_line_add(report_id=int(pk), user=request.user, **data)
        return Response(serializers.FormTwoLineSerializer(line).data, status=201)

    @action(detail=True, methods=["post"])
    @extend_schema(request=None, responses=serializers.FirstArticleReportDetailSerializer)
    def submit(self, request, pk=None):
        return self._answer(fai_submit(report_id=int(pk), user=request.user))

    @action(detail=True, methods=["post"])
    @extend_schema(request=inputs.SignatureInput, responses=serializers.FirstArticleReportDetailSerializer)
    def approve(self, request, pk=None):
        """Sign off with the password: opens the operation's production gate."""
        data = _input(inputs.SignatureInput, request)
        return self._answer(fai_approve(report_id=int(pk), user=request.user, **data))

    @action(detail=True, methods=["post"])
    @extend_schema(request=inputs.SignatureInput, responses=serializers.FirstArticleReportDetailSerializer)
    def reject(self, request, pk=None):
        """Reject with the password and a reason: the operation goes back to setup for a new first piece."""
        data = _input(inputs.SignatureInput, request)
        return self._answer(fai_reject(report_id=int(pk), user=request.user, **data))


class NonConformanceViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = NonConformance.objects.all()
    serializer_class = serializers.NonConformanceSerializer
    filterset_fields = ["status", "job", "disposition", "source"]
    search_fields = ["number"]

    @action(detail=False, methods=["post"], url_path="raise")
    @extend_schema(request=inputs.NCRaiseInput, responses=serializers.NonConformanceSerializer)
    def raise_(self, request):
        """Raise a nonconformance; it holds its operation until dispositioned."""
        data = _input(inputs.NCRaiseInput, request)
        nc = nc_raise(user=request.user, job_id=data["job"], operation_id=data["operation"],
                      quantity=data["quantity"], description=data["description"], source=data["source"])
        return Response(serializers.NonConformanceSerializer(nc).data, status=201)

    @action(detail=True, methods=["post"])
    @extend_schema(request=inputs.NCDispositionInput, responses=serializers.NonConformanceSerializer)
    def disposition(self, request, pk=None):
        data = _input(inputs.NCDispositionInput, request)
        nc = nc_disposition(nc_id=int(pk), user=request.user, **data)
        return Response(serializers.NonConformanceSerializer(nc).data)

    @action(detail=True, methods=["post"])
    @extend_schema(request=inputs.NCCloseInput, responses=serializers.NonConformanceSerializer)
    def close(self, request, pk=None):
        data = _input(inputs.NCCloseInput, request)
        nc = nc_close(nc_id=int(pk), user=request.user, **data)
        return Response(serializers.NonConformanceSerializer(nc).data)


class InspectionRecordViewSet(viewsets.ReadOnlyModelViewSet):
    """In-process and final inspections. POST records one with its readings; a failing reading raises
    a nonconformance that holds the operation."""

    queryset = selectors.inspection_records()
    serializer_class = serializers.InspectionRecordSerializer
    filterset_fields = ["job", "operation", "kind", "accepted"]

    @extend_schema(request=inputs.InspectionRecordInput, responses=serializers.InspectionRecordSerializer)
    def create(self, request):
        data = _input(inputs.InspectionRecordInput, request)
        record = inspection_record_create(
            operation_id=data["operation"], user=request.user, kind=data["kind"], pieces=data["pieces"],
            sample_size=data["sample_size"], readings=[dict(reading) for reading in data["readings"]])
        record = selectors.inspection_records().get(pk=record.pk)
        return Response(serializers.InspectionRecordSerializer(record).data, status=201)
