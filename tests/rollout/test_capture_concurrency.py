"""Exactly once against PostgreSQL: concurrent sends of one report, and a response lost after the commit."""

import dataclasses
import json
import socket
import threading
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests
from django.db import transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from rollout import services
from rollout.models import ProgressReport, ReportPhoto
from tests.grants.test_concurrency import run_together
from tests.rollout.test_capture import _upload, jpeg
from villages.models import Village

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SENDS = 10


def _body(**overrides) -> dict:
    return {
        "pillar1": "in_progress",
        "pillar2": "not_started",
        "pillar3": "not_started",
        "signal": "2g",
        "signal_sufficient": False,
        "blocker": "no_signal",
        "blocker_note": "Sinyal hanya di bukit",
        "client_uuid": str(uuid.uuid4()),
        "captured_at": "2026-11-28T09:15:00+07:00",
        **overrides,
    }


@pytest.fixture
def village(registry) -> Village:
    return Village.objects.filter(district__code="18.01.01", is_active=True).order_by("code").first()


def _send(user, url: str, body: dict, photo: bytes | None = None):
    client = APIClient()
    client.force_authenticate(user)
    if photo is None:
        return client.post(url, body, format="json")
    return client.post(url, {**body, "photos": [_upload(photo)]}, format="multipart")


@pytest.mark.parametrize("with_photo", [False, True], ids=["json", "multipart-with-photo"])
def test_ten_concurrent_sends_of_one_report_create_one(officer_a, village, with_photo):
    url = f"/api/v1/rollout/{village.code}/reports/"
    body = _body()
    photo = jpeg() if with_photo else None

    results, errors = run_together([lambda: _send(officer_a, url, body, photo) for _ in range(SENDS)])

    assert errors == []
    statuses = sorted(response.status_code for response in results)
    assert statuses == [200] * (SENDS - 1) + [201], [r.content for r in results]
    assert len({response.json()["id"] for response in results}) == 1
    assert ProgressReport.objects.filter(client_uuid=body["client_uuid"]).count() == 1
    assert ReportPhoto.objects.count() == (1 if with_photo else 0)


def test_ten_concurrent_sends_with_other_content_create_one_and_refuse_the_rest(officer_a, village):
    url = f"/api/v1/rollout/{village.code}/reports/"
    body = _body()
    calls = [lambda i=i: _send(officer_a, url, {**body, "note": f"versi {i}"}) for i in range(SENDS)]

    results, errors = run_together(calls)

    assert errors == []
    assert sorted(response.status_code for response in results) == [201] + [409] * (SENDS - 1)
    assert ProgressReport.objects.filter(client_uuid=body["client_uuid"]).count() == 1


def test_a_bulk_sent_twice_at_once_creates_each_row_once(officer_a, registry):
    villages = list(Village.objects.filter(district__code="18.01.01", is_active=True).order_by("code"))
    rows = [{"village": v.code, **_body()} for v in villages]
    body = {"district": "18.01.01", "reports": rows}

    results, errors = run_together([lambda: _send(officer_a, "/api/v1/reports/bulk/", body) for _ in range(4)])

    assert errors == []
    assert sorted(r.status_code for r in results) == [200, 200, 200, 201], [r.content for r in results]
    assert ProgressReport.objects.count() == len(villages)


def _post_and_hang_up(base_url: str, path: str, token: str, body: dict) -> None:
    """Send a whole request, then close the socket before reading any of the answer (a phone losing signal)."""
    address = urlsplit(base_url)
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\nAuthorization: Token {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(head + payload)
        sock.shutdown(socket.SHUT_WR)


def test_a_report_whose_answer_was_lost_after_the_commit_is_stored_once_when_sent_again(
    live_server, officer_a, village
):
    token = Token.objects.create(user=officer_a).key
    path = f"/api/v1/rollout/{village.code}/reports/"
    body = _body()

    _post_and_hang_up(live_server.url, path, token, body)
    # The server went on and committed, with nobody left to hear it.
    deadline = time.monotonic() + 20
    while not ProgressReport.objects.filter(client_uuid=body["client_uuid"]).exists():
        assert time.monotonic() < deadline, "the hung-up request was never stored"
        time.sleep(0.05)
    stored = ProgressReport.objects.get(client_uuid=body["client_uuid"])

    retry = requests.post(live_server.url + path, json=body, headers={"Authorization": f"Token {token}"}, timeout=10)

    assert retry.status_code == 200, retry.text
    assert retry.json()["id"] == stored.pk
    assert ProgressReport.objects.filter(client_uuid=body["client_uuid"]).count() == 1


@pytest.mark.parametrize("note", ["Sama", "Berbeda"], ids=["same-content", "other-content"])
def test_a_send_meeting_an_uncommitted_one_waits_for_it_then_returns_it_or_409(officer_a, village, note):
    fields = {k: v for k, v in _body().items() if k not in ("client_uuid", "captured_at")}
    item = services.ReportInput(village=village, client_uuid=uuid.uuid4(), **{**fields, "note": "Sama"})
    inserted, release = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            received = services.report_receive(actor=officer_a, item=item)
            inserted.set()
            release.wait(10)  # inserted, not committed yet
        return received

    def second():
        assert inserted.wait(10)
        threading.Timer(0.5, release.set).start()
        start = time.monotonic()
        try:
            # Its check finds no committed report; its INSERT then waits on the unique index for the first.
            return services.report_receive(actor=officer_a, item=dataclasses.replace(item, note=note))
        finally:
            assert time.monotonic() - start >= 0.4

    results, errors = run_together([first, second])

    stored = ProgressReport.objects.get(client_uuid=item.client_uuid)
    if note == "Sama":
        assert errors == []
        assert sorted((r.report.pk, r.created) for r in results) == [(stored.pk, False), (stored.pk, True)]
    else:
        assert [type(error) for error in errors] == [services.ReportConflict]
        assert errors[0].fields["differs"] == ["note"]
        assert [(r.report.pk, r.created) for r in results] == [(stored.pk, True)]
