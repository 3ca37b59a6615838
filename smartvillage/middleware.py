import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.middleware.locale import LocaleMiddleware
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from smartvillage.errors import error_response, is_api_request, malformed_message, too_large_message
from smartvillage.input import InputRefused, check_fields, check_json_body

logger = logging.getLogger(__name__)

# How long a client is asked to wait before retrying after a database outage.
DATABASE_RETRY_AFTER_SECONDS = 30


class PortalLocaleMiddleware(LocaleMiddleware):
    """Bahasa Indonesia unless the user chose another language with the switch.

    On pages the browser's Accept-Language is ignored on purpose: staff on English-language
    browsers still get the portal in the province's working language by default. An API client
    has no switch: it says its language the HTTP way (Accept-Language), Indonesian by default.
    """

    def process_request(self, request):
        if is_api_request(request):
            language = translation.get_language_from_request(request)
        else:
            language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        # A view that chose its language itself (the public pages: from the URL) says so with
        # Content-Language, and its page varies with nothing a shared cache does not see in the URL.
        if response.has_header("Content-Language"):
            return response
        return super().process_response(request, response)


class ApiErrorsAsJsonMiddleware:
    """Every error answer under /api/ is JSON `{"detail": ...}`, in every mode.

    The API's views answer JSON themselves; what they do not answer is Django's: the resolver's 404
    for an unknown path, a 400 for a malformed request, an uncaught exception, and with DEBUG on
    (`make run`) the technical 404/500 pages that replace the handlers. Those bodies are replaced here,
    with the same status and the headers a client acts on.
    """

    KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400 or not is_api_request(request):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        replaced = error_response(request, status_code=response.status_code)
        for header in self.KEPT_HEADERS:
            if response.has_header(header):
                replaced[header] = response[header]
        return replaced


class InputGuardMiddleware:
    """Refuses with a 400 naming the parameter any request whose path, query string, form fields or
    JSON body hold what smartvillage.input refuses (NUL, a lone surrogate, a number written in other
    digits than 0-9, JSON nested too deeply), before any view, form or query meets it. Every view:
    an API endpoint that ignores its body refuses a hostile one as those that read it do.
    """

    FORM = "application/x-www-form-urlencoded"
    JSON = "application/json"
    MULTIPART = "multipart/form-data"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        try:
            if request.content_type == self.MULTIPART and is_api_request(request) and not _takes_files(view_func):
                # Read whole first (within the body size limit): DRF then parses the body itself, with the view's
                # parsers, and refuses multipart (415) after authentication. Parsed from the stream below, it would
                # reach any API view as a form; only the views that take files read it so (the files on disk).
                request.body  # noqa: B018 (reading caches it)
            check_fields((str(index), value) for index, value in enumerate(view_args))
            check_fields(view_kwargs.items())
            check_fields(self._pairs(request.GET))
            # Django parses a POST's form body (here, once, rather than in the view); the other
            # methods' form bodies are DRF's to parse, and are checked the same.
            if request.method == "POST":
                check_fields(self._pairs(request.POST))
            elif request.content_type == self.FORM and request.body:
                check_fields(self._pairs(QueryDict(request.body, encoding=request.encoding)))
            if request.content_type == self.JSON and request.body:
                check_json_body(request.body, request.encoding or settings.DEFAULT_CHARSET)
        except InputRefused as refused:
            fields = {refused.name: [refused.problem]} if refused.name else {}
            return error_response(request, status_code=400, message=refused.message, fields=fields)
        except RequestDataTooBig:
            status_code = 413 if is_api_request(request) else 400
            return error_response(request, status_code=status_code, message=too_large_message())
        except (SuspiciousOperation, MultiPartParserError):  # too many fields, a broken multipart body
            return error_response(request, status_code=400, message=malformed_message())
        return None

    @staticmethod
    def _pairs(query: QueryDict):
        return ((key, value) for key, values in query.lists() for value in values)


def _takes_files(view_func) -> bool:
    """Whether an API view parses multipart bodies (the parsers of its action, else of its class)."""
    parsers = getattr(view_func, "initkwargs", {}).get("parser_classes")
    if parsers is None:
        view_class = getattr(view_func, "cls", None)
        parsers = getattr(view_class, "parser_classes", ())
    return any(parser.media_type == InputGuardMiddleware.MULTIPART for parser in parsers)


class PrivateCacheMiddleware:
    """Answers to a signed-in request (session or API token) are `Cache-Control: private, no-store`,
    so a shared computer's browser (or a proxy) keeps no copy of one officer's pages, exports or
    API answers for the next person. A view that sets its own Cache-Control keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if _signed_in(request) and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


def _signed_in(request) -> bool:
    """Whether `request` carries a user's credentials, decided without a query (the answer may be the
    503 of a lost database): a session cookie, an Authorization header, or a user an API view
    authenticated (DRF sets it on the request; forcing the lazy session user would query)."""
    if settings.SESSION_COOKIE_NAME in request.COOKIES or "HTTP_AUTHORIZATION" in request.META:
        return True
    user = getattr(request, "user", None)
    return user is not None and not isinstance(user, SimpleLazyObject) and user.is_authenticated


class DatabaseUnavailableMiddleware:
    """A database that cannot be reached (connection lost, refused, reset) answers 503 with
    Retry-After instead of a bare 500.

    API paths get JSON `{"detail": ...}`; pages get templates/503.html, rendered without the
    request so that no context processor queries the database. The failure is logged with its
    traceback. A service's writes share one transaction, which the database rolls back when its
    connection dies, so the request wrote nothing; Django then closes the broken connection (at
    the failed rollback, or at the end of the request) and the next request connects afresh.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.error("Database unavailable: %s %s answered 503", request.method, request.path, exc_info=exception)
        message = _("The portal cannot reach its database right now. Please try again in a moment.")
        if is_api_request(request):
            response = JsonResponse({"detail": message}, status=503)
        else:
            response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
