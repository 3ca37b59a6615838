"""The application's error types, the one handler that turns them into API responses, and the error
answers of the whole portal: JSON under /api/, pages in the portal's layout elsewhere.

Services raise these; views and the API never build error bodies themselves.
"""

import logging
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


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


def is_api_request(request: HttpRequest) -> bool:
    """Whether `request` is the API's: its clients parse every answer as JSON."""
    return request.path_info.startswith(API_PREFIX)


def too_large_message() -> str:
    return _("The request body is too large (at most %(limit)d bytes).") % {
        "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    }


def malformed_message() -> str:
    return _("The request was refused as malformed.")


def server_error_message() -> str:
    return _("The portal met an error. It has been recorded; please try again in a moment.")


def exception_handler(exc, context):
    """DRF exception handler: application and Django validation errors become JSON 4xx bodies."""
    if isinstance(exc, ApplicationError):
        body = {"detail": exc.message, **exc.fields}
        return Response(body, status=exc.http_status)
    if isinstance(exc, RequestDataTooBig):
        # Raised when the view first reads a body above DATA_UPLOAD_MAX_MEMORY_SIZE.
        return Response({"detail": too_large_message()}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        return Response({"detail": malformed_message()}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        )
    # DRF would pass Django's own messages on ("No Grant matches the given query."): English only,
    # and naming models. The API's own (translated) ones say the same.
    elif isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)


# --- error answers outside DRF's views: Django's handlers, middleware refusals ----------------------


def _api_message(request: HttpRequest, status_code: int) -> str:
    """The API's message for a status it answers without a DRF exception (DRF's wording, translated)."""
    messages = {
        400: malformed_message,
        401: lambda: str(drf_exceptions.NotAuthenticated.default_detail),
        403: lambda: str(drf_exceptions.PermissionDenied.default_detail),
        404: lambda: str(drf_exceptions.NotFound.default_detail),
        405: lambda: str(drf_exceptions.MethodNotAllowed(request.method).detail),
        413: too_large_message,
        500: server_error_message,
    }
    if status_code in messages:
        return messages[status_code]()
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return malformed_message()


def error_response(
    request: HttpRequest, *, status_code: int, message: str | None = None, fields: dict | None = None
) -> HttpResponse:
    """An error answer to `request`: `{"detail", **fields}` under /api/, else the status's page
    (templates/<status>.html in the portal's layout, 400.html for any other 4xx) showing `message`."""
    message = message or _api_message(request, status_code)
    if is_api_request(request):
        return JsonResponse({"detail": message, **(fields or {})}, status=status_code)
    template = f"{status_code}.html" if status_code in (403, 404) else "400.html"
    return render(request, template, {"message": message, "fields": fields or {}}, status=status_code)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a malformed request (SuspiciousOperation, BadRequest, too many fields)."""
    if isinstance(exception, RequestDataTooBig):
        return error_response(request, status_code=413 if is_api_request(request) else 400, message=too_large_message())
    return error_response(request, status_code=400, message=malformed_message())


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: the role may not do this."""
    return error_response(request, status_code=403)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: no route matches, or the object does not exist (or is outside the user's scope)."""
    return error_response(request, status_code=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. The page is rendered without the request (no context processor, so no query: the
    database may be what failed), in the portal's layout; if even that fails, a line of text."""
    if is_api_request(request):
        return JsonResponse({"detail": server_error_message()}, status=500)
    try:
        return HttpResponse(render_to_string("500.html", {"message": server_error_message()}), status=500)
    except Exception:  # the error page must answer whatever broke the request
        logger.exception("The 500 page could not be rendered")
        return HttpResponse(server_error_message(), content_type="text/plain; charset=utf-8", status=500)


# DRF's Indonesian catalogue leaves these of its API messages untranslated. Named here, they are in
# locale/id (which takes precedence over DRF's own), so the API answers them in Indonesian too;
# tests/smartvillage/test_error_answers.py walks DRF's messages for any still untranslated.
DRF_MESSAGES_TRANSLATED_HERE = (
    gettext_noop("Invalid input."),
    gettext_noop("Malformed request."),
    gettext_noop('Method "{method}" not allowed.'),
    gettext_noop('Unsupported media type "{media_type}" in request.'),
    gettext_noop("Invalid token."),
    gettext_noop("Invalid token header. No credentials provided."),
    gettext_noop("Invalid token header. Token string should not contain spaces."),
    gettext_noop("Invalid token header. Token string should not contain invalid characters."),
    gettext_noop("Invalid page."),
    gettext_noop("Expected available in {wait} second."),
    gettext_noop("Expected available in {wait} seconds."),
    gettext_noop('"{input}" is not a valid choice.'),
    gettext_noop("A valid number is required."),
    gettext_noop("Must be a valid boolean."),
    gettext_noop("Not a valid string."),
    gettext_noop("String value too large."),
    gettext_noop("Expected a date but got a datetime."),
    gettext_noop("Expected a datetime but got a date."),
    gettext_noop('Expected a list of items but got type "{input_type}".'),
    gettext_noop('Expected a dictionary of items but got type "{input_type}".'),
    gettext_noop("This list may not be empty."),
    gettext_noop("This dictionary may not be empty."),
    gettext_noop("Ensure this field has at least {min_length} elements."),
    gettext_noop("Ensure this field has no more than {max_length} elements."),
    gettext_noop("Invalid data. Expected a dictionary, but got {datatype}."),
    gettext_noop("This value does not match the required pattern."),
    gettext_noop("Datetime value out of range."),
    gettext_noop('Invalid datetime for the timezone "{timezone}".'),
    gettext_noop("Integer value too large to convert to float"),
    gettext_noop("A valid biginteger is required."),
    gettext_noop("Must be a valid UUID."),
    gettext_noop("Incorrect type. Expected pk value, received {data_type}."),
    gettext_noop("Object with {slug_name}={value} does not exist."),
    gettext_noop("Invalid value."),
)
