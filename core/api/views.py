from django.contrib.auth.models import User
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.roles import user_roles


class MeView(APIView):
    """Who the caller is and which roles they hold: terminals and scripts check it after logging in."""

    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        user = request.user
        assert isinstance(user, User)  # IsAuthenticated lets only signed-in users in
        return Response({"username": user.username, "name": user.get_full_name(), "roles": user_roles(user)})
