"""Error answers. The API's are JSON in every mode, DEBUG on (`make run`) too and whatever the client
accepts, in the request's language (Indonesian unless it asks for English); the pages' are in the
portal's layout, in Bahasa Indonesia; the 500 page is rendered without a query."""

import inspect
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext
from rest_framework import exceptions as drf_exceptions
from rest_framework import fields as drf_fields
from rest_framework import relations as drf_relations
from rest_framework import serializers as drf_serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.test import APIClient

from accounts.models import User
from smartvillage import errors

pytestmark = pytest.mark.django_db

ERROR_URLS = "tests.smartvillage.error_urls"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@dataclass(frozen=True)
class ApiError:
    name: str
    role: str | None  # a user fixture, or None for an anonymous client
    method: str
    path: str
    status: int
    message: Callable[[], str]  # the expected message in the active language
    body: str | None = None
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)
    key: str = "detail"  # where the body carries the message


def drf(exception: type[drf_exceptions.APIException], **params) -> Callable[[], str]:
    return lambda: str(exception.default_detail).format(**params)


API_ERRORS = [
    ApiError("unknown path", "province_staff", "get", "/api/v1/nothing/", 404, drf(drf_exceptions.NotFound)),
    ApiError("unknown id", "province_staff", "get", "/api/v1/grants/999999999/", 404, drf(drf_exceptions.NotFound)),
    ApiError("malformed id", "province_staff", "get", "/api/v1/grants/abc/", 404, drf(drf_exceptions.NotFound)),
    ApiError(
        "page past the end",
        "province_staff",
        "get",
        "/api/v1/villages/?page=99",
        404,
        lambda: str(PageNumberPagination.invalid_page_message),
    ),
    ApiError("anonymous", None, "get", "/api/v1/villages/", 401, drf(drf_exceptions.NotAuthenticated)),
    ApiError(
        "unknown token",
        None,
        "get",
        "/api/v1/villages/",
        401,
        lambda: gettext("Invalid token."),
        headers={"HTTP_AUTHORIZATION": "Token 0000000000000000000000000000000000000000"},
    ),
    ApiError(
        "role refused",
        "auditor",
        "post",
        "/api/v1/allocations/",
        403,
        lambda: gettext("Your role does not allow this action."),
        body="{}",
    ),
    ApiError(
        "method not allowed",
        "province_staff",
        "delete",
        "/api/v1/villages/",
        405,
        drf(drf_exceptions.MethodNotAllowed, method="DELETE"),
    ),
    ApiError(
        "field errors",
        "province_admin",
        "post",
        "/api/v1/allocations/",
        400,
        lambda: str(drf_fields.Field.default_error_messages["required"]),
        body="{}",
        key="province",
    ),
    ApiError(
        "not JSON",
        None,
        "post",
        "/api/v1/auth/token/",
        400,
        lambda: gettext("The body is not valid JSON (line %(line)d, column %(column)d).") % {"line": 1, "column": 2},
        body="{",
    ),
    ApiError(
        "nested too deeply",
        None,
        "post",
        "/api/v1/auth/token/",
        400,
        lambda: gettext("The body is nested too deeply (at most %(depth)d levels).") % {"depth": 32},
        body="[" * 100_000 + "]" * 100_000,
    ),
    ApiError(
        "unsupported media type",
        None,
        "post",
        "/api/v1/auth/token/",
        415,
        drf(drf_exceptions.UnsupportedMediaType, media_type="text/csv"),
        body="username,password",
        content_type="text/csv",
    ),
    ApiError(
        "malformed host",
        "province_staff",
        "get",
        "/api/v1/villages/",
        400,
        lambda: gettext("The request was refused as malformed."),
        headers={"HTTP_HOST": "not a host"},
    ),
    ApiError(
        "too many fields",
        "province_staff",
        "get",
        "/api/v1/villages/?" + "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)),
        400,
        lambda: gettext("The request was refused as malformed."),
    ),
    ApiError(
        "digits other than 0-9",
        "province_staff",
        "get",
        "/api/v1/villages/?page=%D9%A2",
        400,
        lambda: "page: " + gettext("Write numbers and dates with the digits 0-9."),
    ),
    ApiError(
        "server error",
        "province_staff",
        "get",
        "/api/v1/fails/",
        500,
        lambda: gettext("The portal met an error. It has been recorded; please try again in a moment."),
    ),
]

LANGUAGES = {"no Accept-Language": (None, "id"), "Indonesian": ("id", "id"), "English": ("en-GB,en;q=0.9", "en")}


def _message(body: dict, key: str) -> str:
    value = body[key]
    return value[0] if isinstance(value, list) else value


@pytest.mark.parametrize("debug", [False, True], ids=["DEBUG off", "DEBUG on"])
@pytest.mark.parametrize("case", API_ERRORS, ids=lambda case: case.name)
def test_the_api_answers_every_error_in_json_in_the_requests_language(request, registry, case, debug):
    client = APIClient()
    client.raise_request_exception = False
    if case.role:
        client.force_login(request.getfixturevalue(case.role))
    send = getattr(client, case.method)

    for accept in ("application/json", BROWSER_ACCEPT):
        for label, (accept_language, language) in LANGUAGES.items():
            headers = {"HTTP_ACCEPT": accept, **case.headers}
            if accept_language:
                headers["HTTP_ACCEPT_LANGUAGE"] = accept_language
            with override_settings(DEBUG=debug, ROOT_URLCONF=ERROR_URLS):
                response = send(case.path, case.body, content_type=case.content_type, **headers)
            with translation.override(language):
                expected = case.message()
            shown = f"{label}, Accept {accept}: {response.status_code} {response.content[:200]!r}"

            assert response.status_code == case.status, shown
            assert response["Content-Type"] == "application/json", shown
            assert _message(response.json(), case.key) == expected, shown
    with translation.override("en"):
        english = case.message()
    with translation.override("id"):
        assert case.message() != english, "no Indonesian translation"


def _drf_messages() -> dict[str, str]:
    """Every message DRF can answer an API request with: its exceptions' details, its fields',
    relations' and serializers' validation messages, the pagination's and the token check's."""
    messages = {}
    for module in (drf_exceptions, drf_fields, drf_relations, drf_serializers):
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, drf_exceptions.APIException) and cls.__module__ == module.__name__:
                messages[f"{name}"] = cls.default_detail
            for key, message in getattr(cls, "default_error_messages", {}).items():
                messages[f"{name}.{key}"] = message
    messages["PageNumberPagination.invalid_page_message"] = PageNumberPagination.invalid_page_message
    for message in ("Invalid token.", "Invalid token header. No credentials provided."):
        messages[message] = message
    with translation.override(None):  # the message ids, untranslated
        return {name: str(message) for name, message in messages.items()}


# Messages of DRF features the portal does not use (no file, image, UUID, IP, duration, JSON or
# hyperlinked fields, no cursor pagination, no basic authentication).
UNUSED = {
    "APIException",  # a generic base: the portal raises its subclasses
    "FileField.invalid",
    "FileField.missing",
    "FileField.empty",
    "FileField.no_name",
    "FileField.max_length",
    "ImageField.invalid_image",
    "UUIDField.invalid",
    "IPAddressField.invalid",
    "DurationField.invalid",
    "DurationField.overflow",
    "JSONField.invalid",
    "HyperlinkedRelatedField.required",
    "HyperlinkedRelatedField.no_match",
    "HyperlinkedRelatedField.incorrect_match",
    "HyperlinkedRelatedField.does_not_exist",
    "HyperlinkedRelatedField.incorrect_type",
    "HyperlinkedIdentityField.required",
    "HyperlinkedIdentityField.no_match",
    "HyperlinkedIdentityField.incorrect_match",
    "HyperlinkedIdentityField.does_not_exist",
    "HyperlinkedIdentityField.incorrect_type",
    "FilePathField.invalid_choice",
    "SlugField.invalid",
    "SlugField.invalid_unicode",
    "RegexField.invalid",
}


def test_every_drf_message_the_api_can_give_has_an_indonesian_translation():
    messages = {name: message for name, message in _drf_messages().items() if name not in UNUSED}
    with translation.override("id"):
        untranslated = {name: message for name, message in messages.items() if gettext(message) == message}

    assert untranslated == {}


def test_an_unknown_path_under_the_api_is_json_in_a_debug_server_process(tmp_path):
    """`make run`'s settings, imported with DEBUG=1 (not overridden in a test): no technical HTML page
    and no browsable API for a browser's Accept header, whatever the error."""
    script = """
import json, django
django.setup()
from django.test import Client
client = Client(SERVER_NAME="localhost", HTTP_ACCEPT="text/html,*/*;q=0.8", raise_request_exception=False)
answers = {
    "unknown path": client.get("/api/v1/nothing/"),
    "anonymous": client.get("/api/v1/villages/"),
    "method": client.get("/api/v1/auth/token/"),
    "deep body": client.post("/api/v1/auth/token/", "[" * 100000 + "]" * 100000, content_type="application/json"),
    "digits": client.get("/api/v1/villages/%D9%A2/"),
}
print(json.dumps({name: [r.status_code, r["Content-Type"], r.content.decode()] for name, r in answers.items()}))
"""
    env = {
        **os.environ,
        "DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "smartvillage.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",  # none of these requests reads it
        "CELERY_BROKER_URL": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr

    answers = json.loads(result.stdout.splitlines()[-1])
    assert {name: status for name, (status, _type, _body) in answers.items()} == {
        "unknown path": 404,
        "anonymous": 401,
        "method": 405,
        "deep body": 400,
        "digits": 400,
    }
    for name, (_status, content_type, body) in answers.items():
        assert content_type == "application/json", (name, body[:200])
        assert json.loads(body)["detail"], name


# --- pages ----------------------------------------------------------------------------------------


def _layout(html: str) -> bool:
    """The portal's layout: its navigation bar and footer."""
    return 'class="navbar' in html and "Dinas Pemberdayaan Masyarakat Desa dan Transmigrasi" in html


def test_a_refused_page_is_the_portals_403_in_indonesian(client, officer_a):
    client.force_login(officer_a)

    response = client.get("/accounts/users/")

    html = response.content.decode()
    assert response.status_code == 403
    assert _layout(html) and officer_a.username in html  # the navigation of the signed-in user
    assert "Akses ditolak" in html


def test_an_unknown_page_is_the_portals_404_in_indonesian(client, province_staff):
    client.force_login(province_staff)

    for path in ("/no-such-page/", "/registry/regencies/99.99/"):
        response = client.get(path)

        html = response.content.decode()
        assert response.status_code == 404, path
        assert _layout(html) and "Halaman tidak ditemukan" in html, path


def test_the_error_pages_follow_the_language_the_user_chose(client, officer_a):
    client.force_login(officer_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    assert "Access refused" in client.get("/accounts/users/").content.decode()
    assert "Page not found" in client.get("/no-such-page/").content.decode()


@override_settings(ROOT_URLCONF=ERROR_URLS)
def test_a_failing_page_is_the_portals_500_in_indonesian(client, province_staff):
    client.force_login(province_staff)
    client.raise_request_exception = False

    response = client.get("/fails/")

    html = response.content.decode()
    assert response.status_code == 500
    assert _layout(html) and "Kesalahan server" in html
    assert province_staff.username not in html  # rendered without the request: no user, no query


def test_the_500_page_is_rendered_without_a_query(rf, province_staff, django_assert_num_queries):
    request = rf.get("/fails/")
    request.user = SimpleLazyObject(lambda: User.objects.get(pk=province_staff.pk))  # a query if touched

    with translation.override("id"), django_assert_num_queries(0):
        response = errors.server_error(request)

    assert response.status_code == 500 and "Kesalahan server" in response.content.decode()


def test_a_refused_value_on_a_page_is_the_portals_400_naming_the_parameter(client, province_staff):
    client.force_login(province_staff)

    response = client.get("/registry/", {"q": "Natar\x00"})

    html = response.content.decode()
    assert response.status_code == 400
    assert _layout(html) and "Permintaan ditolak" in html
    assert "q: Karakter null tidak diizinkan." in html


def test_a_form_sent_without_its_security_token_is_the_portals_403_in_indonesian(province_staff):
    client = Client(enforce_csrf_checks=True)
    client.force_login(province_staff)

    response = client.post(reverse("logout"))

    html = response.content.decode()
    assert response.status_code == 403
    assert _layout(html) and "Formulir kedaluwarsa" in html
