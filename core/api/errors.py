"""One error format for the whole API: {"error": {"code", "message", "fields"}}."""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError


def error_response(*, code: str, message: str, http_status: int, fields: dict[str, Any] | None = None) -> Response:
    return Response({"error": {"code": code, "message": message, "fields": fields or {}}}, status=http_status)


def django_validation_fields(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == NON_FIELD_ERRORS else field): messages
            for field, messages in exc.message_dict.items()
        }
    return {"non_field_errors": exc.messages}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, ApplicationError):
        fields = {exc.field: [exc.message]} if exc.field else None
        return error_response(code=exc.code, message=exc.message, http_status=exc.status, fields=fields)
    if isinstance(exc, DjangoValidationError):
        fields = django_validation_fields(exc)
        message = next(iter(fields.values()))[0] if fields else "Invalid input."
        return error_response(code="invalid", message=message, http_status=400, fields=fields)
    if isinstance(exc, ProtectedError):
        return error_response(code="protected", message="This record is still in use.", http_status=409)
    if isinstance(exc, IntegrityError):
        # Services validate first; this is a concurrent write that got there first.
        message = "This conflicts with a record saved meanwhile; reload and retry."
        return error_response(code="conflict", message=message, http_status=409)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = response.data if isinstance(response.data, dict) else {"non_field_errors": response.data}
        return error_response(code="invalid", message="Invalid input.", http_status=status.HTTP_400_BAD_REQUEST,
                              fields=data)
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else str(response.data)
    code = getattr(exc, "default_code", "error")
    out = error_response(code=code, message=str(detail), http_status=response.status_code)
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            out[header] = response[header]
    return out
