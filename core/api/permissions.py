from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import DjangoModelPermissions, IsAuthenticated

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ModelPermissions(DjangoModelPermissions):
    """Any logged-in user may read; writing needs the model's add/change permission.
    Domain verbs (release, start setup…) are checked again by their service."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return IsAuthenticated().has_permission(request, view)
        return super().has_permission(request, view)
