from django.shortcuts import get_object_or_404
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.schemas.utils import get_pk_description

from core.api.viewsets import RecordViewSet
from jobs.actions import ACTIONS
from jobs.api import serializers
from jobs.filters import JobFilterSet, OperationFilterSet
from jobs.inputs import ScheduleRunInput
from jobs.models import (
    Customer,
    JobOperation,
    MaterialLot,
    NCProgram,
    Part,
    PartRevision,
    Routing,
    RoutingStep,
    RoutingStepMachine,
    SalesOrder,
    SalesOrderLine,
    ScheduleRun,
    ScrapReason,
)
from jobs.selectors import dispatch_list, job_list, operation_list
from jobs.services.release import job_create, job_release, part_revision_release
from jobs.services.schedule import schedule_run_cancel, schedule_run_publish, schedule_run_request
from machines.choices import StateSource
from machines.models import Machine


class CustomerViewSet(RecordViewSet):
    queryset = Customer.objects.all()
    serializer_class = serializers.CustomerSerializer
    filterset_fields = ["active"]
    search_fields = ["code", "name"]


class SalesOrderViewSet(RecordViewSet):
    queryset = SalesOrder.objects.prefetch_related("lines")
    serializer_class = serializers.SalesOrderSerializer
    filterset_fields = ["customer"]
    search_fields = ["number", "po_number"]


class SalesOrderLineViewSet(RecordViewSet):
    queryset = SalesOrderLine.objects.all()
    serializer_class = serializers.SalesOrderLineSerializer
    filterset_fields = ["order", "part_revision"]


class PartViewSet(RecordViewSet):
    queryset = Part.objects.all()
    serializer_class = serializers.PartSerializer
    filterset_fields = ["customer"]
    search_fields = ["number", "description"]


class PartRevisionViewSet(RecordViewSet):
    queryset = PartRevision.objects.select_related("part")
    serializer_class = serializers.PartRevisionSerializer
    filterset_fields = ["part", "status", "serialized"]
    search_fields = ["part__number", "drawing_number"]

    @extend_schema(request=None, responses=serializers.PartRevisionSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def release(self, request, pk=None):
        revision = part_revision_release(part_revision_id=self.get_object().pk, user=request.user)
        return Response(self.get_serializer(revision).data)


class RoutingViewSet(RecordViewSet):
    queryset = Routing.objects.prefetch_related("steps")
    serializer_class = serializers.RoutingSerializer
    filterset_fields = ["part_revision", "version"]


class RoutingStepViewSet(RecordViewSet):
    queryset = RoutingStep.objects.all()
    serializer_class = serializers.RoutingStepSerializer
    filterset_fields = ["routing", "work_center", "kind"]


class RoutingStepMachineViewSet(RecordViewSet):
    queryset = RoutingStepMachine.objects.all()
    serializer_class = serializers.RoutingStepMachineSerializer
    filterset_fields = ["step", "machine"]


class NCProgramViewSet(RecordViewSet):
    queryset = NCProgram.objects.all()
    serializer_class = serializers.NCProgramSerializer
    filterset_fields = ["part_revision", "machine", "work_center", "status"]
    search_fields = ["program_number"]


class ScrapReasonViewSet(RecordViewSet):
    queryset = ScrapReason.objects.all()
    serializer_class = serializers.ScrapReasonSerializer
    filterset_fields = ["active"]


class MaterialLotViewSet(RecordViewSet):
    queryset = MaterialLot.objects.all()
    serializer_class = serializers.MaterialLotSerializer
    filterset_fields = ["job"]
    search_fields = ["heat_number", "certificate_number"]


class JobViewSet(RecordViewSet):
    """Jobs (work orders). Search matches the job number ("WO…"), the part and the customer PO."""

    queryset = job_list()
    serializer_class = serializers.JobSerializer
    filterset_class = JobFilterSet
    search_fields = ["number", "part_revision__part__number", "order_line__order__po_number"]
    ordering_fields = ["due_date", "priority", "number", "created_at"]

    def perform_create(self, serializer):
        serializer.instance = job_create(user=self.request.user, **serializer.validated_data)

    @extend_schema(request=None, responses=serializers.JobSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def release(self, request, pk=None):
        """Freeze the routing into operations. 409 when the job is not in a state to be released."""
        job = job_release(job_id=self.get_object().pk, user=request.user)
        return Response(self.get_serializer(job).data)


class OperationViewSet(viewsets.ReadOnlyModelViewSet):
    """Operations change only through these actions, each one service. A retried request that
    carries the same `Idempotency-Key` header returns the operation without applying it twice."""

    # The actions are OperationActionView's routes, one per entry of jobs.actions.ACTIONS (see jobs/api/urls.py).
    queryset = operation_list().prefetch_related("machine_options")
    serializer_class = serializers.OperationSerializer
    filterset_class = OperationFilterSet
    ordering_fields = ["operation_number", "job__due_date"]


class OperationActionSchema(AutoSchema):
    """Each action's route documented with its own input and the operation it answers, its id as the operations'
    other routes document it."""

    def get_request_serializer(self):
        return ACTIONS[self.view.action_name].input

    def get_response_serializers(self):
        return serializers.OperationSerializer

    def get_override_parameters(self):
        description = get_pk_description(JobOperation, JobOperation._meta.pk)
        return [OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description=description)]


class OperationActionView(generics.GenericAPIView):
    """Operations change only through these actions, each one service. A retried request that
    carries the same `Idempotency-Key` header returns the operation without applying it twice."""

    queryset = operation_list().prefetch_related("machine_options")
    serializer_class = serializers.OperationSerializer
    permission_classes = [IsAuthenticated]  # each service checks its own permission
    schema = OperationActionSchema()
    action_name = ""  # the route's, one of jobs.actions.ACTIONS

    def post(self, request, pk: int):
        action = ACTIONS[self.action_name]
        operation = action.service(
            operation_id=pk, user=request.user, source=StateSource.API,
            terminal=request.headers.get("X-Terminal", "api"),
            idempotency_key=request.headers.get("Idempotency-Key"),
            **action.arguments(request.data),
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=operation.pk)).data)


class DispatchListView(generics.ListAPIView):
    """A machine's dispatch list: its ready operations, then those still waiting, in the published
    schedule's order (else by priority and due date)."""

    serializer_class = serializers.DispatchEntrySerializer
    permission_classes = [IsAuthenticated]
    queryset = JobOperation.objects.none()  # for the schema; the list comes from get_queryset

    def get_queryset(self):
        machine = get_object_or_404(Machine, pk=self.kwargs["machine_id"])
        return dispatch_list(machine_id=machine.pk).prefetch_related("machine_options")


class ScheduleRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Scheduler runs. POST queues one and answers 202 with its id; poll GET for status, progress
    (0-1) and figures beside the EDD baseline; publish makes it drive every dispatch list."""

    queryset = ScheduleRun.objects.select_related("requested_by", "published_by")
    serializer_class = serializers.ScheduleRunSerializer
    filterset_fields = ["status", "published"]

    def get_permissions(self):
        if self.action in ("create", "publish", "cancel"):
            return [IsAuthenticated()]  # the services check run_schedule / publish_schedule
        return super().get_permissions()

    @extend_schema(request=ScheduleRunInput, responses={202: serializers.ScheduleRunSerializer})
    def create(self, request):
        data = ScheduleRunInput(data=request.data)
        data.is_valid(raise_exception=True)
        run = schedule_run_request(user=request.user, **data.arguments())
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """409 unless the run succeeded (and was not edited since)."""
        run = schedule_run_publish(user=request.user, run_id=int(pk))
        return Response(self.get_serializer(run).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """A queued run stops at once, a running one within seconds; nothing of it is kept."""
        run = schedule_run_cancel(user=request.user, run_id=int(pk))
        return Response(self.get_serializer(run).data)

    @extend_schema(responses=serializers.ScheduleEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def entries(self, request, pk=None):
        run = self.get_object()
        entries = run.entries.select_related("operation__job", "machine").order_by("machine__code", "sequence")
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(serializers.ScheduleEntrySerializer(page, many=True).data)
