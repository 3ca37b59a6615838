"""The database connection lost in the middle of a request: a clear 503, nothing written, and the next
request works.

The PostgreSQL tests end the request's own database session from outside (`pg_terminate_backend`, as a
database restart or a network failure would) at a chosen statement, and send their requests through
Django's WSGI handler as a server does: unlike the test client, it runs the request_started and
request_finished signals that check, close and replace database connections between requests.
"""

import datetime
import io
import json
import logging
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, ProgrammingError, connection
from django.test import Client
from psycopg2.sql import SQL, Identifier
from rest_framework.authtoken.models import Token

from grants import services as grant_services
from grants.models import Allocation, Grant, GrantStatus
from smartvillage.middleware import DATABASE_RETRY_AFTER_SECONDS
from villages.models import Province

MESSAGE_ID = "Portal tidak dapat menghubungi basis datanya saat ini. Silakan coba lagi sebentar lagi."
MESSAGE_EN = "The portal cannot reach its database right now. Please try again in a moment."


def connection_lost(execute, sql, params, many, context):
    """An execute wrapper: every query fails as it does once the server has closed the connection."""
    raise OperationalError("server closed the connection unexpectedly")


# --- the answer (any database) ------------------------------------------------------------------


@pytest.mark.django_db
def test_an_api_request_that_loses_the_database_answers_503_in_json(api_client, province_staff, caplog):
    api_client.force_authenticate(province_staff)

    with connection.execute_wrapper(connection_lost), caplog.at_level(logging.ERROR, "smartvillage.middleware"):
        response = api_client.get("/api/v1/villages/")

    assert response.status_code == 503
    assert response.json() == {"detail": MESSAGE_ID}
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    [record] = [r for r in caplog.records if r.name == "smartvillage.middleware"]
    assert record.exc_info[0] is OperationalError


@pytest.mark.django_db
def test_a_page_that_loses_the_database_answers_a_translated_503_page(client, province_staff):
    client.force_login(province_staff)

    # Every query fails here, the page's own included: a 503 page proves it needs none.
    with connection.execute_wrapper(connection_lost):
        indonesian = client.get("/")
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        english = client.get("/")

    assert indonesian.status_code == english.status_code == 503
    assert indonesian["Content-Type"].startswith("text/html")
    assert indonesian["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert "Layanan sementara tidak tersedia" in indonesian.text
    assert MESSAGE_ID in indonesian.text
    assert MESSAGE_EN in english.text


@pytest.mark.django_db
def test_other_database_errors_are_not_hidden_as_503(client, province_staff):
    client.force_login(province_staff)

    def broken_query(execute, sql, params, many, context):
        raise ProgrammingError("relation does not exist")

    with connection.execute_wrapper(broken_query), pytest.raises(ProgrammingError):
        client.get("/")


# --- a real PostgreSQL session ended mid-request ------------------------------------------------


def wsgi_request(method: str, path: str, *, body: dict | None = None, headers: dict | None = None):
    """(status, headers, content) of a request through Django's WSGI handler, signals included."""
    payload = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(payload)),
        "wsgi.input": io.BytesIO(payload),
        **(headers or {}),
    }
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    response = WSGIHandler()(environ, start_response)
    try:
        content = b"".join(response)
    finally:
        response.close()  # sends request_finished, as a server does
    return answer["status"], answer["headers"], content


class CutOff:
    """An execute wrapper that ends the request's database session just before the first statement
    containing `before`, and records the statements that ran before it."""

    def __init__(self, side, before: str):
        self.side = side
        self.before = before
        self.ran: list[str] = []
        self.done = False

    def __call__(self, execute, sql, params, many, context):
        if not self.done and self.before in sql:
            self.done = True
            self.side.terminate(context["connection"].connection.info.backend_pid)
        elif not self.done:
            self.ran.append(sql)
        return execute(sql, params, many, context)


TABLE_DIGEST = SQL("SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t")


def database_fingerprint(side) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row of every table: equal fingerprints, nothing written."""
    fingerprint = {}
    with side.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        for (table,) in cursor.fetchall():
            cursor.execute(TABLE_DIGEST.format(Identifier(table)))
            fingerprint[table] = cursor.fetchone()
    return fingerprint


@pytest.fixture
def approved_batch(registry, province_admin, province_staff) -> Allocation:
    """An active allocation whose grants of regency A (18.01) are all approved, ready to be paid."""
    allocation = grant_services.allocation_create(
        actor=province_admin,
        province=Province.objects.get(code="18"),
        fiscal_year=2024,
        legal_basis="Keputusan Gubernur Lampung tentang hibah desa cerdas TA 2024 (uji gangguan)",
    )
    allocation = grant_services.allocation_activate(allocation=allocation, actor=province_admin)
    grant_services.allocation_plan(allocation=allocation, actor=province_admin, regency=registry.regency_a)
    grant_services.grants_approve_batch(allocation=allocation, regency=registry.regency_a, actor=province_staff)
    return allocation


@pytest.fixture
def token_header(province_staff) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=province_staff).key}"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_disbursement_cut_off_mid_write_answers_503_and_writes_nothing(
    approved_batch, token_header, pg_side, caplog
):
    path = f"/api/v1/allocations/{approved_batch.pk}/batch/disburse/"
    body = {"regency": "18.01", "reference": "SP2D-GANGGUAN-001", "transfer_date": str(datetime.date(2024, 6, 3))}
    headers = {**token_header, "HTTP_IDEMPOTENCY_KEY": "disburse-18.01-once"}
    before = database_fingerprint(pg_side)
    # After the transfer is recorded and the grants are moved, before their events are written.
    cut = CutOff(pg_side, before='INSERT INTO "grants_grantevent"')

    with connection.execute_wrapper(cut), caplog.at_level(logging.ERROR, "smartvillage.middleware"):
        status, response_headers, content = wsgi_request("POST", path, body=body, headers=headers)

    assert cut.done
    assert any(statement.startswith('INSERT INTO "grants_disbursement"') for statement in cut.ran)
    assert any(statement.startswith('UPDATE "grants_grant"') for statement in cut.ran)
    assert status == 503
    assert json.loads(content) == {"detail": MESSAGE_ID}
    assert response_headers["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert any(record.name == "smartvillage.middleware" for record in caplog.records)
    assert database_fingerprint(pg_side) == before

    # The client retries with the same key: the first attempt left no trace, so the payment happens now, once.
    status, _headers, content = wsgi_request("POST", path, body=body, headers=headers)

    assert status == 200, content
    assert json.loads(content)["count"] == 6
    assert set(Grant.objects.filter(allocation=approved_batch).values_list("status", flat=True)) == {
        GrantStatus.DISBURSED
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_page_cut_off_mid_request_answers_the_503_page_and_the_next_page_works(registry, province_staff, pg_side):
    browser = Client()
    browser.force_login(province_staff)
    session = {"HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"}
    cut = CutOff(pg_side, before='FROM "rollout_adoptionsnapshot"')

    with connection.execute_wrapper(cut):
        status, response_headers, content = wsgi_request("GET", "/", headers=session)
    next_status, _headers, _content = wsgi_request("GET", "/", headers=session)

    assert cut.done
    assert status == 503
    assert response_headers["Retry-After"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert MESSAGE_ID in content.decode()
    assert next_status == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_between_requests_is_replaced_by_the_next_request(
    monkeypatch, registry, token_header, pg_side
):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)  # kept for reuse between requests
    first, _headers, _content = wsgi_request("GET", "/api/v1/villages/", headers=token_header)
    # Ended while idle, as by a database restart or a firewall's idle timeout.
    pg_side.terminate(connection.connection.info.backend_pid)

    second, _headers, content = wsgi_request("GET", "/api/v1/villages/", headers=token_header)

    assert first == 200
    assert second == 200, content
    assert json.loads(content)["count"] == 8
