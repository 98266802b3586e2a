from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from reporting.api.serializers import BoardSerializer, ReportSerializer
from reporting.board import board_version, machine_board
from reporting.filters import ReportFilterForm
from reporting.models import VIEW_REPORTS
from reporting.registry import TABLES


class BoardView(APIView):
    """The live machine board's data: header counts and every active machine's tile. Read-only, for any
    logged-in user. Send the last `version` in If-None-Match to get 304 when nothing changed."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: BoardSerializer, 304: None},
        parameters=[OpenApiParameter("If-None-Match", OpenApiTypes.STR, OpenApiParameter.HEADER,
                                     description="The ETag of the board the client has.")],
    )
    def get(self, request):
        today = timezone.localdate()
        version = board_version(today=today)
        etag = f'"{version}"'
        if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
            return Response(status=304, headers={"ETag": etag})
        board = machine_board(today=today, now=timezone.now(), version=version)
        return Response(BoardSerializer(board).data, headers={"ETag": etag})


class CanViewReports(BasePermission):
    def has_permission(self, request, view):
        return request.user.has_perm(VIEW_REPORTS)


# The API's report names; scrap and downtime take `by` (reason, part or machine; reason or machine).
API_REPORTS = {"utilization": "utilization", "oee": "oee", "delivery": "delivery", "scrap": "scrap-{by}",
               "downtime": "downtime-{by}", "job-costs": "job-costs", "run-comparison": "run-comparison"}
REPORT_FILTERS = [
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="First day (default: 6 days before date_to)."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Last day, inclusive (default: today)."),
    OpenApiParameter("machine", OpenApiTypes.INT), OpenApiParameter("work_center", OpenApiTypes.INT),
    OpenApiParameter("shift", OpenApiTypes.STR, description="A shift window's name."),
    OpenApiParameter("group", OpenApiTypes.STR, enum=["machine", "work_center", "shop"]),
    OpenApiParameter("bucket", OpenApiTypes.STR, enum=["total", "day", "week", "month", "shift"]),
    OpenApiParameter("by", OpenApiTypes.STR, description="scrap: reason, part or machine; downtime: reason or "
                                                         "machine."),
]


class ReportView(APIView):
    """A manager report as rows: the same table as its page and its CSV/XLSX export. Needs reporting.view_reports."""

    permission_classes = [IsAuthenticated, CanViewReports]

    @extend_schema(responses={200: ReportSerializer}, parameters=REPORT_FILTERS)
    def get(self, request, name: str):
        if name not in API_REPORTS:
            raise NotFound(f"No report {name!r}; choose one of {', '.join(API_REPORTS)}.")
        by = request.query_params.get("by") or ("reason")
        table_name = API_REPORTS[name].format(by=by)
        if table_name not in TABLES:
            raise ValidationError({"by": f"{by!r} is not a grouping of {name}."})
        form = ReportFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        table = TABLES[table_name](form.report_filter(), form)
        return Response(ReportSerializer(table).data)
