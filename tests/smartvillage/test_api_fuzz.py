"""Property-based fuzzing of the REST API against its own OpenAPI schema (issue 6, "Bad input").

schemathesis reads the schema the portal serves at /api/schema/ and generates requests for every
operation, reads and writes: valid ones (positive) and ones that break the schema (negative). Each
request is sent through Django's WSGI handler with the token of every role, against a small
realistic world: an active allocation with grants in every state, a draft allocation, reports
awaiting, verified and rejected, adoption snapshots. In half of the examples the path's id or code
and the code-like fields of the query and body point at real rows, so writes get past the 404 and
reach the services. On every response:

- never a 5xx;
- a 4xx is a JSON object that says what was wrong (`detail` or the names of the bad inputs);
- a 4xx leaves every table as it was: a refused write writes nothing, not even half;
- the body and content type conform to the schema where the schema documents the status.

Each request runs in a savepoint that is rolled back, so every example starts from the same world.
The run is derandomized and bounded (MAX_EXAMPLES per operation, each sent as every role), so CI
gets the same requests every time in well under a minute.
"""

import os
import traceback
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from django.apps import apps
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, connection, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import wsgi
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from grants import services as grant_services
from grants.models import Grant
from rollout import services as rollout_services
from rollout.models import PillarStatus, Signal
from tests.conftest import PASSWORD
from villages.models import District, Province, Regency, Village

pytestmark = pytest.mark.django_db

ROLES = ("province_admin", "province_staff", "officer_a", "auditor")
# Examples per operation, each sent as every role: 39 operations x 4 roles x 10 = 1,560 requests in CI.
# A deeper run: API_FUZZ_EXAMPLES=200 make test PYTEST_ARGS=tests/smartvillage/test_api_fuzz.py
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "10"))


def _load_schema() -> schemathesis.BaseSchema:
    # From the served URL, so what is fuzzed is exactly what clients download (no database needed).
    request_started.disconnect(close_old_connections)
    try:
        return schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())
    finally:
        request_started.connect(close_old_connections)


SCHEMA = _load_schema()
OPERATIONS = sorted((result.ok().path, result.ok().method.upper()) for result in SCHEMA.get_all_operations())


@pytest.fixture(scope="module")
def app() -> Iterator[WSGIHandler]:
    """Django's WSGI handler, on the test's connection and transaction as with Django's test client.

    The handler closes "old" connections when a request starts and ends; in a test that would close
    the connection that holds the test's transaction, so those two receivers are off meanwhile.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def server_exceptions() -> Iterator[list[str]]:
    """Tracebacks of the exceptions the handler turned into a 500, for the failure message."""
    tracebacks = []

    def record(sender, **kwargs):
        tracebacks.append(traceback.format_exc())

    got_request_exception.connect(record)
    yield tracebacks
    got_request_exception.disconnect(record)


# --- the world ------------------------------------------------------------------------------------


@dataclass
class World:
    tokens: dict[str, str]
    usernames: list[str]
    allocations: list[int]
    grants: list[int]
    reports: list[int]
    regencies: list[str]
    districts: list[str]
    villages: list[str]

    def for_path(self, path: str) -> list:
        """Real values of the `{id}` or `{code}` of the operation at `path`."""
        return {
            "allocations": self.allocations,
            "grants": self.grants,
            "reports": self.reports,
            "regencies": self.regencies,
            "districts": self.districts,
            "villages": self.villages,
            "rollout": self.villages,
        }[path.split("/")[3]]

    def for_field(self, name: str) -> list:
        """Real values of a query or body field called `name`, or [] if it names no row."""
        units = ["18", *self.regencies, *self.districts]
        return {
            "allocation": self.allocations,
            "province": ["18"],
            "regency": self.regencies,
            "district": self.districts,
            "village": self.villages,
            "code": units,
            "parent": units,
            "username": self.usernames,
            "password": [PASSWORD],
        }.get(name, [])


# The state each village's grant is brought to, in village-code order: regency A's six, then B's two.
GRANT_STATES = ("planned", "approved", "disbursed", "accounted", "closed", "cancelled", "approved", "returned")


def _bring(grant: Grant, state: str, actor) -> None:
    if state == "cancelled":
        grant_services.grant_cancel(grant=grant, actor=actor)
        return
    if state == "planned":
        return
    grant = grant_services.grant_approve(grant=grant, actor=actor)
    if state == "approved":
        return
    accepted = grant_services.transfer_window(fiscal_year=grant.allocation.fiscal_year)[1]  # the latest date it accepts
    grant = grant_services.grant_disburse(
        grant=grant, actor=actor, reference=f"SP2D-{grant.pk}", transfer_date=accepted
    )
    if state == "returned":
        grant_services.grant_return(grant=grant, actor=actor, amount=grant.amount, reference=f"STS-{grant.pk}")
        return
    if state == "disbursed":
        return
    grant = grant_services.grant_account(grant=grant, actor=actor, spent_amount=grant.amount)
    if state == "closed":
        grant_services.grant_close(grant=grant, actor=actor)


def _report(village: Village, officer, pillar1: str = PillarStatus.LIVE):
    item = rollout_services.ReportInput(
        village=village,
        pillar1=pillar1,
        pillar2=PillarStatus.IN_PROGRESS,
        pillar3=PillarStatus.NOT_STARTED,
        signal=Signal.G4,
        signal_sufficient=True,
    )
    return rollout_services.report_submit(actor=officer, item=item)


@pytest.fixture
def world(registry, province_admin, province_staff, auditor, officer_a, officer_b, settings) -> World:
    """Every role with a token, two allocations, grants in every state, reports, snapshots (via the services)."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, wsgi.HOST]
    province = Province.objects.get(code="18")
    active = grant_services.allocation_create(
        actor=province_admin, province=province, fiscal_year=2026, legal_basis="Pergub Lampung 2026 (uji)"
    )
    active = grant_services.allocation_activate(allocation=active, actor=province_admin)
    draft = grant_services.allocation_create(
        actor=province_admin, province=province, fiscal_year=2027, legal_basis="Pergub Lampung 2027 (uji)"
    )
    grant_services.allocation_plan(allocation=active, actor=province_admin)
    grants = list(Grant.objects.filter(allocation=active).order_by("village__code"))
    for grant, state in zip(grants, GRANT_STATES, strict=True):
        _bring(grant, state, province_staff)

    villages_a = list(Village.objects.filter(regency=registry.regency_a).order_by("code"))
    village_b = Village.objects.filter(regency=registry.regency_b).order_by("code").first()
    awaiting = _report(villages_a[0], officer_a)
    verified = rollout_services.report_verify(report=_report(villages_a[1], officer_a), actor=province_staff)
    rejected = rollout_services.report_reject(
        report=_report(villages_a[2], officer_a, PillarStatus.IN_PROGRESS), actor=province_staff, reason="Tanpa bukti"
    )
    awaiting_b = _report(village_b, officer_b)
    rollout_services.adoption_recompute()

    users = dict(zip(ROLES, [province_admin, province_staff, officer_a, auditor], strict=True))
    return World(
        tokens={role: Token.objects.create(user=user).key for role, user in users.items()},
        usernames=[user.username for user in users.values()],
        allocations=[active.pk, draft.pk],
        grants=[grant.pk for grant in grants],
        reports=[awaiting.pk, verified.pk, rejected.pk, awaiting_b.pk],
        regencies=list(Regency.objects.order_by("code").values_list("code", flat=True)),
        districts=list(District.objects.order_by("code").values_list("code", flat=True)),
        villages=list(Village.objects.order_by("code").values_list("code", flat=True)),
    )


def _with_real_rows(data: st.DataObject, world: World, case: schemathesis.Case) -> None:
    """Point the case's path id or code, and the code-like fields of its query and body, at real rows."""
    for name in case.path_parameters or {}:
        case.path_parameters[name] = data.draw(st.sampled_from(world.for_path(case.operation.path)), label=name)
    for fields in (case.query, case.body):
        if not isinstance(fields, dict):
            continue
        for name in list(fields):
            if name == "grant_ids":
                fields[name] = data.draw(st.lists(st.sampled_from(world.grants), min_size=1, max_size=3), label=name)
            elif world.for_field(name):
                fields[name] = data.draw(st.sampled_from(world.for_field(name)), label=name)


# --- the checks -----------------------------------------------------------------------------------

STATE_APPS = ("accounts", "authtoken", "villages", "grants", "rollout")


def database_state() -> dict[str, list]:
    """Every row of every table of the project's apps (a few dozen rows here), for before/after comparison."""
    state = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.app_label in STATE_APPS:
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"SELECT * FROM {table} ORDER BY 1")  # noqa: S608 (a model's own table name)
                state[model._meta.label] = cursor.fetchall()
    return state


def client_error_problem(response: schemathesis.Response) -> str | None:
    """What is wrong with a 4xx response's body, or None when it says what was wrong."""
    content_type = response.headers.get("content-type", [""])[0]
    if not content_type.startswith("application/json"):
        return f"{response.status_code} with Content-Type {content_type!r}, not JSON: {response.content[:200]!r}"
    body = response.json()
    if not isinstance(body, dict) or not body:
        return f"{response.status_code} with a body that names nothing: {body!r}"
    if not all(_says_something(value) for value in body.values()):
        return f"{response.status_code} with an empty message: {body!r}"
    return None


def _says_something(value) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | dict):
        values = value.values() if isinstance(value, dict) else value
        return bool(value) and all(_says_something(item) for item in values)
    return value is not None


@pytest.mark.parametrize("path, method", OPERATIONS, ids=[f"{method} {path}" for path, method in OPERATIONS])
def test_no_input_breaks_the_api(app, world, server_exceptions, path, method):
    operation = SCHEMA[path][method]
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    # Every request is rolled back, so the database always starts as the world fixture left it.
    baseline = database_state()

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        # An example is four real requests with database checks; far slower than Hypothesis expects.
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(case=cases, data=st.data())
    def fuzz(case, data):
        if data.draw(st.booleans(), label="real rows"):
            _with_real_rows(data, world, case)
        for role in ROLES:
            headers = {"Authorization": f"Token {world.tokens[role]}"}
            request = f"as {role}: {case.as_curl_command(headers=headers)}"
            server_exceptions.clear()
            with transaction.atomic():
                response = case.call(headers=headers, app=app)
                assert response.status_code < 500, f"{response.status_code} {request}\n" + "\n".join(server_exceptions)
                case.validate_response(
                    response,
                    checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
                    headers=headers,
                )
                if 400 <= response.status_code < 500:
                    problem = client_error_problem(response)
                    assert problem is None, f"{problem}\n{request}"
                # Only writes can half-write; comparing every table is the slow part, so reads skip it.
                if 400 <= response.status_code < 500 and method != "GET":
                    changed = [label for label, rows in database_state().items() if rows != baseline[label]]
                    assert not changed, f"{response.status_code}, yet {', '.join(changed)} changed, {request}"
                transaction.set_rollback(True)

    fuzz()


# A path no route matches (an unknown endpoint, an id or code with a "/" in it) never reaches DRF:
# smartvillage.errors.not_found, Django's handler404, answers it with JSON under /api/.
@pytest.mark.parametrize("url", ["/api/v1/no-such-endpoint/", "/api/v1/grants/1/approve/extra/"])
def test_an_unrouted_api_path_is_a_json_404(api_client, province_staff, url):
    api_client.force_authenticate(province_staff)

    response = api_client.get(url)

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
