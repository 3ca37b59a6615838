"""No 500, whatever the input: every route of the resolver, every parameter it reads, hostile values.

For each route of the permission matrix's TABLE (tests/smartvillage/test_access_matrix.py, which holds
every route of the URL resolver) a valid request is sent first with request.GET and request.POST
replaced by dictionaries that record which keys the view reads (a test middleware). Then the same
request is sent again once per read parameter and hostile value, the value replacing the valid one:
in the query string for GET, in the form body for POST (the JSON body's fields for the API's writes),
and in each text segment of the path. As province staff, a regency officer and a province
administrator. Every answer must be below 500; a refusal (400) must say what was wrong.

Values written with digits other than 0-9 (superscripts, Arabic-Indic, full-width) and NUL characters
are refused outright (400) wherever they appear: see smartvillage/input.py. Then, on their own: hostile
JSON bodies (100,000 levels deep, lone surrogates, NUL names) on every API endpoint that takes a body,
amounts and page numbers in other digits, and hostile Idempotency-Key headers.
"""

import json
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.core.signals import got_request_exception
from django.db import transaction
from django.http import QueryDict
from django.test import Client, override_settings
from django.urls import reverse

from smartvillage.input import MAX_BODY_DEPTH
from tests.smartvillage.conftest import World
from tests.smartvillage.test_access_matrix import (
    RESOLVED,
    TABLE,
    Route,
    Variant,
    _client,
    _dated,
    _written_state,
    expected_status,
)

pytestmark = pytest.mark.django_db

ROLES = ("province_staff", "officer_a", "province_admin")


@dataclass(frozen=True)
class Hostile:
    name: str
    value: str  # as the client types it; `raw` values are sent percent-encoded as they are
    refused: bool = False  # refused with a 400 wherever it appears
    raw: bool = False


SURROGATE = "%ED%A0%80"  # a lone UTF-16 surrogate in UTF-8: not valid UTF-8 at all
FULL_WIDTH = "\uff11\uff12\uff13"  # 123 in full-width digits

HOSTILE = (
    Hostile("nul", "18.01\x00", refused=True),
    Hostile("superscript", "²", refused=True),
    Hostile("arabic-indic digits", "١٢٣", refused=True),
    Hostile("full-width digits", FULL_WIDTH, refused=True),
    Hostile("long text", "x" * 10_000),
    Hostile("long number", "9" * 10_000),
    Hostile("negative", "-1"),
    Hostile("huge", "99999999999999999999999"),
    Hostile("invalid date", "2026-02-30"),
    Hostile("surrogate", SURROGATE, raw=True),
)


# --- recording what a view reads ------------------------------------------------------------------


class RecordingQueryDict(QueryDict):
    """A QueryDict that notes every key looked up (present or not) in `reads`."""

    reads: set[str]

    @classmethod
    def wrapping(cls, source: QueryDict, reads: set[str]) -> "RecordingQueryDict":
        copy = cls("", mutable=True, encoding=source.encoding)
        for key, values in source.lists():
            copy.setlist(key, values)
        copy._mutable = False
        copy.reads = reads
        return copy

    def __getitem__(self, key):
        self.reads.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.reads.add(key)
        return super().__contains__(key)

    def get(self, key, default=None):
        self.reads.add(key)
        return super().get(key, default)

    def getlist(self, key, default=None):
        self.reads.add(key)
        return super().getlist(key, default)


READS: dict[str, set[str]] = {"GET": set(), "POST": set()}


class RecordingMiddleware:
    """Test middleware: request.GET and request.POST record the keys read into READS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.GET = RecordingQueryDict.wrapping(request.GET, READS["GET"])
        request.POST = RecordingQueryDict.wrapping(request.POST, READS["POST"])
        return self.get_response(request)


@contextmanager
def recording() -> Iterator[dict[str, set[str]]]:
    for reads in READS.values():
        reads.clear()
    middleware = [f"{__name__}.RecordingMiddleware", *settings.MIDDLEWARE]
    with override_settings(MIDDLEWARE=middleware):
        yield READS


@pytest.fixture
def server_errors() -> Iterator[list[str]]:
    """Tracebacks of the exceptions that became a 500, for the failure message."""
    tracebacks = []

    def record(sender, **kwargs):
        tracebacks.append(traceback.format_exc())

    got_request_exception.connect(record)
    yield tracebacks
    got_request_exception.disconnect(record)


# --- the requests ---------------------------------------------------------------------------------


def _variants(route: Route) -> list[Variant]:
    """The route's variants on objects of regency A (an officer's own): each may read other parameters."""
    return [variant for variant in route.variants if variant.side != "B"]


PLACEHOLDER = "HOSTILEPLACEHOLDER"


def _path(route: Route, kwargs: dict, hostile: tuple[str, str] | None = None) -> str:
    """The route's path, with `hostile` (name, value) in the path parameter `name`."""
    if hostile is None:
        return reverse(route.name, kwargs=kwargs or None)
    name, value = hostile
    placeholder = 10**30 if isinstance(kwargs[name], int) else PLACEHOLDER
    path = reverse(route.name, kwargs={**kwargs, name: placeholder})
    return path.replace(str(placeholder), value if value == SURROGATE else quote(value, safe=""))


def _encoded(params: dict, key: str | None = None, hostile: Hostile | None = None) -> str:
    """`params` form-encoded, with `key` set to the hostile value (a raw one appended as it is)."""
    if key is None:
        return urlencode(params, doseq=True)
    if hostile.raw:
        rest = urlencode({name: value for name, value in params.items() if name != key}, doseq=True)
        return f"{rest}&{quote(key)}={hostile.value}" if rest else f"{quote(key)}={hostile.value}"
    return urlencode({**params, key: hostile.value}, doseq=True)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    body: str | dict | None  # a form body (encoded) or a JSON body (dict)


def _send(client, route: Route, request: Request):
    url = f"{request.path}?{request.query}" if request.query else request.path
    if request.method == "get":
        return client.get(url)
    if route.api:
        if request.body is None:
            return getattr(client, request.method)(url)
        return getattr(client, request.method)(url, request.body, format="json")
    return getattr(client, request.method)(url, request.body or "", content_type="application/x-www-form-urlencoded")


def _sent(client, route: Route, request: Request):
    """The answer to `request`, in a savepoint rolled back after it: every request meets the same world."""
    with transaction.atomic():
        response = _send(client, route, request)
        transaction.set_rollback(True)
    return response


def _message(response) -> str:
    """What a refusal says: the JSON body of the API, the text of a page."""
    if response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        return str(body) if body else ""
    return response.content.decode(errors="replace")


@dataclass(frozen=True)
class Case:
    route: str
    variant: str
    method: str
    role: str


def _cases() -> list[Case]:
    cases = []
    for route in TABLE.values():
        for variant in _variants(route):
            for method in route.expect:
                cases += [Case(route.name, variant.name, method, role) for role in ROLES]
    return cases


def _base_request(world: World, route: Route, variant: Variant, method: str) -> tuple[Request, dict, dict]:
    kwargs = variant.kwargs(world)
    query = variant.query(world) if variant.query else {}
    body = variant.body(world) if variant.body is not None and method != "get" else None
    if body is not None and not route.api:
        body = _dated(body)
    form = _encoded(body) if isinstance(body, dict) and not route.api else body
    request = Request(method, _path(route, kwargs), _encoded(query), form)
    return request, query, body or {}


def _hostile_requests(route: Route, base: Request, kwargs: dict, query: dict, body: dict, reads: dict):
    """(what, request) for every parameter read and every hostile value."""
    api_body = route.api and base.method not in ("get", "delete")
    for hostile in HOSTILE:
        for name in kwargs:
            if isinstance(kwargs[name], int) and hostile.name not in ("huge",):
                continue  # an <int:...> path parameter matches digits only: anything else is the resolver's 404
            yield (
                f"path {name}={hostile.name}",
                Request(base.method, _path(route, kwargs, (name, hostile.value)), base.query, base.body),
            )
        for key in sorted(reads["GET"]):
            yield f"?{key}={hostile.name}", Request(base.method, base.path, _encoded(query, key, hostile), base.body)
        if base.method == "get":
            continue
        if api_body:
            if hostile.raw:
                continue  # a JSON string cannot carry invalid UTF-8; the JSON tests send lone surrogates
            for key in sorted(body):
                hostile_body = {**body, key: hostile.value}
                yield f"body {key}={hostile.name}", Request(base.method, base.path, base.query, hostile_body)
        elif not route.api:
            for key in sorted(reads["POST"]):
                yield (
                    f"form {key}={hostile.name}",
                    Request(base.method, base.path, base.query, _encoded(body, key, hostile)),
                )


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c.method.upper()} {c.route}[{c.variant}] {c.role}")
def test_hostile_values_in_every_parameter_read_never_give_a_500(matrix_world, server_errors, case):
    route = TABLE[case.route]
    variant = next(v for v in route.variants if v.name == case.variant)
    client = _client(matrix_world, case.role)
    base, query, body = _base_request(matrix_world, route, variant, case.method)
    kwargs = variant.kwargs(matrix_world)
    with recording() as reads:
        baseline = _sent(client, route, base)
    reads = {source: set(keys) for source, keys in reads.items()}
    assert baseline.status_code < 500, server_errors

    failures = []
    for what, request in _hostile_requests(route, base, kwargs, query, body, reads):
        response = _sent(client, route, request)
        hostile = next(h for h in HOSTILE if what.endswith(f"={h.name}"))
        if response.status_code >= 500:
            failures.append(f"{what}: {response.status_code}\n{server_errors[-1] if server_errors else ''}")
        elif hostile.refused and response.status_code != 400:
            failures.append(f"{what}: {response.status_code}, expected a 400 refusal")
        elif response.status_code == 400 and not _message(response).strip():
            failures.append(f"{what}: a 400 that says nothing")

    assert failures == [], "\n".join(failures)


def test_every_route_of_the_resolver_is_walked():
    walked = {case.route for case in _cases()}

    assert set(RESOLVED) - walked == set()


# --- API bodies: too deep, lone surrogates, NUL in names, on every endpoint that takes one ----------

BODY_METHODS = ("post", "put", "patch")
# Who sends the body: the first role the matrix lets past the permission check (the body is read).
BODY_SENDERS = ("anonymous", "province_admin", "province_staff", "officer_a")


def _api_routes() -> list[Route]:
    """The API's routes, the public ones (the token endpoint, the schema) included."""
    return [route for route in TABLE.values() if route.api or route.name.startswith("api-")]


def _nested(depth: int) -> dict:
    body: dict = {}
    for _level in range(depth - 1):
        body = {"a": body}
    return body


HOSTILE_BODIES = {
    "100,000 levels": "[" * 100_000 + "]" * 100_000,
    f"{MAX_BODY_DEPTH + 1} levels": json.dumps(_nested(MAX_BODY_DEPTH + 1)),
    "a lone surrogate": '{"note": "\\ud800", "reason": "\\udfff", "reference": "\\ud800"}',
    "NUL in a name": '{"\\u0000": 1}',
    "a list of NULs": '["\\u0000"]',
}


def _body_cases() -> list[tuple[str, str, str, str]]:
    cases = []
    for route in _api_routes():
        for method in (m for m in route.expect if m in BODY_METHODS):
            variant = _variants(route)[0]
            sender = next(
                role
                for role in BODY_SENDERS
                if expected_status(route, variant, role, method) not in (401, 403, 404, 405)
            )
            cases += [(route.name, method, sender, body) for body in HOSTILE_BODIES]
    return cases


@pytest.mark.parametrize("route_name, method, role, body", _body_cases())
def test_a_hostile_json_body_is_refused_with_a_json_400_on_every_endpoint(
    matrix_world, server_errors, route_name, method, role, body
):
    route = TABLE[route_name]
    variant = _variants(route)[0]
    client = _client(matrix_world, role)
    url = reverse(route.name, kwargs=variant.kwargs(matrix_world) or None)
    before = _written_state()

    response = getattr(client, method)(url, HOSTILE_BODIES[body], content_type="application/json")

    assert response.status_code == 400, (response.status_code, response.content[:300], server_errors)
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]
    assert _written_state() == before


def test_every_endpoint_that_takes_a_body_is_sent_hostile_ones():
    sent = {(name, method) for name, method, _role, _body in _body_cases()}

    assert ("api-token", "post") in sent  # the anonymous token endpoint
    assert len(sent) == sum(1 for route in _api_routes() for method in route.expect if method in BODY_METHODS)


# --- amounts in other digits than 0-9 -------------------------------------------------------------

FOREIGN_AMOUNTS = ["١٢٣", FULL_WIDTH, "²", "Rp ²", "Rp ١٢٣", "6.000.000²", "\uff19" * 10_000]


@pytest.mark.parametrize("amount", FOREIGN_AMOUNTS)
@pytest.mark.parametrize("action, field", [("return", "amount"), ("account", "spent_amount")])
def test_an_amount_in_other_digits_is_refused_on_the_grant_page_and_nothing_is_written(
    matrix_world, server_errors, action, field, amount
):
    client = _client(matrix_world, "province_staff")
    url = reverse("grants:grant-action", kwargs={"grant_id": matrix_world.grants["A"]["disbursed"], "action": action})
    form = {f"{action}-{field}": amount, f"{action}-reference": "STS-UJI/2026", f"{action}-confirm": "on"}
    before = _written_state()

    response = client.post(url, form)

    assert response.status_code == 400, (response.status_code, server_errors)
    assert _written_state() == before


@pytest.mark.parametrize("amount", ["١٢٣", FULL_WIDTH, "²", "٦٠٠٠٠٠٠"])
def test_an_amount_in_other_digits_is_refused_by_the_api_and_nothing_is_written(matrix_world, amount):
    client = _client(matrix_world, "province_staff")
    grant = matrix_world.grants["A"]["disbursed"]
    before = _written_state()

    returned = client.post(f"/api/v1/grants/{grant}/return/", {"amount": amount, "reference": "STS-UJI"}, format="json")
    accounted = client.post(f"/api/v1/grants/{grant}/account/", {"spent_amount": amount}, format="json")

    assert (returned.status_code, accounted.status_code) == (400, 400)
    assert returned.json()["amount"] and accounted.json()["spent_amount"]
    assert _written_state() == before


def test_a_page_number_in_other_digits_is_refused(matrix_world):
    client = _client(matrix_world, "province_staff")

    for path in ("/api/v1/villages/", "/rollout/reports/", "/registry/"):
        response = client.get(path, {"page": "٢", "q": "Desa"})

        assert response.status_code == 400, path


@pytest.mark.parametrize("key", ["kunci\x00", "١٢٣", "x" * 10_000])
def test_a_hostile_idempotency_key_is_refused_and_nothing_is_written(matrix_world, key):
    client = _client(matrix_world, "province_staff")
    grant = matrix_world.grants["A"]["planned"]
    before = _written_state()

    response = client.post(f"/api/v1/grants/{grant}/approve/", {}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code in (400, 422), response.content[:200]
    assert response.json()["Idempotency-Key"]
    assert _written_state() == before


@pytest.mark.parametrize(
    ("method", "path", "header", "value"),
    [
        ("get", "/api/v1/villages/", "HTTP_AUTHORIZATION", "Token abc\x00def"),
        ("post", "/login/", "HTTP_USER_AGENT", "Mozilla\x00"),
        ("post", "/api/v1/auth/token/", "HTTP_USER_AGENT", "curl\x00"),
        ("get", "/", "HTTP_COOKIE", "sessionid=abc\x00def"),
    ],
)
def test_a_nul_in_a_header_is_refused_with_a_400_not_a_500(matrix_world, server_errors, method, path, header, value):
    # The token lookup and the login lockout's User-Agent column met PostgreSQL's "A string literal
    # cannot contain NUL" before headers were checked.
    from axes.models import AccessAttempt

    client = Client(raise_request_exception=False)
    body = {"username": "nobody", "password": "wrong"}

    response = getattr(client, method)(path, body if method == "post" else None, **{header: value})

    assert response.status_code == 400, (response.status_code, server_errors)
    assert header.removeprefix("HTTP_").replace("_", "-").title() in _message(response)
    assert not AccessAttempt.objects.exists()
