import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# How long a client is asked to wait before retrying after a database outage.
DATABASE_RETRY_AFTER_SECONDS = 30


class PortalLocaleMiddleware(LocaleMiddleware):
    """Bahasa Indonesia unless the user chose another language with the switch.

    The browser's Accept-Language is ignored on purpose: staff on English-language
    browsers still get the portal in the province's working language by default.
    """

    def process_request(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


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
        if request.path_info.startswith("/api/"):
            response = JsonResponse({"detail": message}, status=503)
        else:
            response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response
