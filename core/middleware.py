from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.http import HttpRequest, HttpResponseBase


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Every page needs a logged-in user. The API is left to DRF, which also accepts tokens
    (this middleware runs before DRF authenticates them) and answers 401/403 instead of a redirect."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[Any, ...],
        view_kwargs: dict[Any, Any],
    ) -> HttpResponseBase | None:
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
