from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from core.roles import user_is_device


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, where a device's token (the role 'device') opens only the views made for devices
    (`device_view = True`, such as machines.api.views.MachineSignalsView): anywhere else it is refused with a 403
    rather than taken for an anonymous caller."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        view = request.parser_context.get("view")
        if result is not None and not getattr(view, "device_view", False) and user_is_device(result[0]):
            raise exceptions.PermissionDenied("A device's token only posts its machines' signals.")
        return result
