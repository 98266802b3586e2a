from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.viewsets import RecordViewSet
from machines.api import serializers
from machines.connectivity.services import machine_signals_record
from machines.inputs import SignalSerializer, signal_batch
from machines.models import (
    Calendar,
    CalendarException,
    ChangeoverRule,
    DowntimeReason,
    Fixture,
    MachineStateEvent,
    ShiftWindow,
    WorkCenter,
)
from machines.selectors import machine_list


class WorkCenterViewSet(RecordViewSet):
    queryset = WorkCenter.objects.all()
    serializer_class = serializers.WorkCenterSerializer
    filterset_fields = ["code"]
    search_fields = ["code", "name"]


class MachineViewSet(RecordViewSet):
    queryset = machine_list().select_related("connection")
    serializer_class = serializers.MachineSerializer
    filterset_fields = ["work_center", "kind", "active", "calendar"]
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "hourly_rate"]


class CalendarViewSet(RecordViewSet):
    queryset = Calendar.objects.prefetch_related("windows")
    serializer_class = serializers.CalendarSerializer
    search_fields = ["name"]


class ShiftWindowViewSet(RecordViewSet):
    queryset = ShiftWindow.objects.all()
    serializer_class = serializers.ShiftWindowSerializer
    filterset_fields = ["calendar", "weekday", "attended"]


class CalendarExceptionViewSet(RecordViewSet):
    queryset = CalendarException.objects.all()
    serializer_class = serializers.CalendarExceptionSerializer
    filterset_fields = ["calendar", "kind"]


class FixtureViewSet(RecordViewSet):
    queryset = Fixture.objects.prefetch_related("compatible_work_centers")
    serializer_class = serializers.FixtureSerializer
    filterset_fields = ["kind", "status", "mounted_on", "compatible_work_centers"]
    search_fields = ["code", "name", "storage_location"]


class ChangeoverRuleViewSet(RecordViewSet):
    queryset = ChangeoverRule.objects.all()
    serializer_class = serializers.ChangeoverRuleSerializer
    filterset_fields = ["work_center", "attribute"]


class DowntimeReasonViewSet(RecordViewSet):
    queryset = DowntimeReason.objects.all()
    serializer_class = serializers.DowntimeReasonSerializer
    filterset_fields = ["planned", "loss_category", "active"]
    search_fields = ["code", "label"]


class MachineStateEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The machine status log; states change through the shop-floor actions and machine monitoring."""

    queryset = MachineStateEvent.objects.all()
    serializer_class = serializers.MachineStateEventSerializer
    filterset_fields = {"machine": ["exact"], "state": ["exact"], "started_at": ["gte", "lt"]}


class MachineSignalsView(APIView):
    """An edge device posts its machine's signals: a JSON list of {timestamp, signal, value}, signal one of
    running, alarm, part_count, program. Only a device bound to the machine may (its token); the whole batch is
    applied or, with one bad row, nothing. The answer counts the rows applied and the duplicates skipped."""

    device_view = True  # the one view a device's token opens (core.api.authentication)
    permission_classes = [IsAuthenticated]

    @extend_schema(request=SignalSerializer(many=True), responses=serializers.SignalsRecordedSerializer)
    def post(self, request, machine_id: int):
        observations = signal_batch(request.data)
        recorded = machine_signals_record(machine_id=machine_id, user=request.user, observations=observations)
        return Response(serializers.SignalsRecordedSerializer(recorded).data)
