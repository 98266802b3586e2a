from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from shopfloor.api.serializers import BoardSerializer
from shopfloor.selectors import board_version, machine_board


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
