"""The application's error types and the one handler that turns them into API responses.

Services raise these; views and the API never build error bodies themselves.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApplicationError(Exception):
    """A request the programme's rules refuse. `fields` maps input names to messages
    (or, for a list input such as bulk rows, row indexes to such mappings)."""

    http_status = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class TransitionRefused(ApplicationError):
    """The object is not in a state that allows this action (e.g. paying a cancelled grant)."""

    http_status = status.HTTP_409_CONFLICT


def exception_handler(exc, context):
    """DRF exception handler: application and Django validation errors become JSON 4xx bodies."""
    if isinstance(exc, ApplicationError):
        body = {"detail": exc.message, **exc.fields}
        return Response(body, status=exc.http_status)
    if isinstance(exc, RequestDataTooBig):
        # Raised when the view first reads a body above DATA_UPLOAD_MAX_MEMORY_SIZE.
        detail = _("The request body is too large (at most %(limit)d bytes).") % {
            "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        }
        return Response({"detail": detail}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        return Response({"detail": _("The request was refused as malformed.")}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    return drf_exception_handler(exc, context)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404 for a path no route matches: JSON under /api/ (its clients parse every answer), HTML elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return page_not_found(request, exception)
