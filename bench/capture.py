"""`make bench`: a phone's queue of reports recorded offline, synced when the signal returns.

One device sends its queued reports one HTTP request at a time, oldest first, as the portal's offline queue
does: each as multipart form data with its client_uuid and capture time, through the whole stack (Django's
test client: every middleware, the input guard's parse of the multipart body, token authentication, the
idempotency check, the late check, the insert). The floor is the plain online post of the same report as
JSON (no client_uuid, no capture time), sent right after each queued one (alternated, so that the load of
the machine weighs on both alike). A last set sends reports with one 1600 px photo each (Pillow checks and
re-encodes it: the cost of evidence photos).
"""

from __future__ import annotations

import datetime
import io
import statistics
import tempfile
import time
import uuid

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from PIL import Image
from rest_framework.authtoken.models import Token

from accounts.models import Role, User
from rollout.models import ProgressReport
from villages.models import Village

HOST = {"SERVER_NAME": "localhost"}
WIB = datetime.timezone(datetime.timedelta(hours=7))


def _report(pillar: str) -> dict:
    return {
        "pillar1": pillar,
        "pillar2": "not_started",
        "pillar3": "not_started",
        "signal": "2g",
        "signal_sufficient": False,
        "blocker": "no_signal",
        "blocker_note": "Sinyal hanya di bukit",
        "note": "Dicatat di balai desa, dikirim setelah ada sinyal",
    }


def _photo() -> bytes:
    """A phone photo as the device sends it: already resized to 1600 px, JPEG, with noise (not a flat colour)."""
    image = Image.effect_noise((1600, 1200), 64).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _post(client: Client, url: str, token: str, body: dict, *, multipart: bool) -> float:
    start = time.perf_counter()
    if multipart:
        response = client.post(url, body, HTTP_AUTHORIZATION=f"Token {token}", **HOST)
    else:
        response = client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}", **HOST)
    elapsed = time.perf_counter() - start
    if response.status_code != 201:
        raise RuntimeError(f"{url}: HTTP {response.status_code} {response.content[:200]!r}")
    return elapsed


def capture_sync(*, reports: int = 500, photo_reports: int = 30) -> dict:
    """Sync `reports` queued reports from one device (multipart, client_uuid), then post as many plain JSON
    reports; and `photo_reports` queued reports with a photo. Returns the figures' values (seconds).
    The photos are written to a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory() as location:
        photos = {**settings.STORAGES["photos"], "OPTIONS": {**settings.STORAGES["photos"].get("OPTIONS", {})}}
        if photos["BACKEND"].endswith("FileSystemStorage"):
            photos["OPTIONS"]["location"] = location
        with override_settings(STORAGES={**settings.STORAGES, "photos": photos}):
            return _capture_sync(reports=reports, photo_reports=photo_reports)


def _capture_sync(*, reports: int, photo_reports: int) -> dict:
    regency = Village.objects.filter(is_active=True).order_by("code").select_related("regency").first().regency
    village_codes = list(
        Village.objects.filter(is_active=True, regency=regency).order_by("code").values_list("code", flat=True)
    )
    officer = User.objects.create_user(username="bench.petugas", role=Role.REGENCY_OFFICER, regency=regency)
    token = Token.objects.create(user=officer).key
    client = Client()
    now = datetime.datetime.now(WIB)
    before = ProgressReport.objects.count()

    queue = []
    for i in range(reports):
        code = village_codes[i % len(village_codes)]
        captured = now - datetime.timedelta(days=3) + datetime.timedelta(seconds=30 * i)  # oldest first
        body = {**_report("in_progress"), "client_uuid": str(uuid.uuid4()), "captured_at": captured.isoformat()}
        queue.append((f"/api/v1/rollout/{code}/reports/", body))
    # Warm up (URL resolution, serializers) with one report of each kind, not counted.
    _post(client, queue[0][0], token, _report("not_started"), multipart=False)
    _post(client, queue[0][0], token, {**_report("not_started"), "client_uuid": str(uuid.uuid4())}, multipart=True)

    # Alternated, one queued report then its plain post, so that a change of load on the machine weighs on both.
    synced, online = [], []
    for url, body in queue:
        synced.append(_post(client, url, token, body, multipart=True))
        online.append(_post(client, url, token, _report("in_progress"), multipart=False))
    total = sum(synced)  # the sync's own time: the queue's requests, one after the other

    photo = _photo()
    with_photo = []
    for url, body in queue[:photo_reports]:
        body = {
            **body,
            "client_uuid": str(uuid.uuid4()),
            "photos": [SimpleUploadedFile("foto.jpg", photo, "image/jpeg")],
        }
        with_photo.append(_post(client, url, token, body, multipart=True))
    if ProgressReport.objects.count() != before + 2 + 2 * reports + photo_reports:
        raise RuntimeError("capture bench: a report was not stored exactly once")
    return {
        "total_s": total,
        "median_s": statistics.median(synced),
        "online_median_s": statistics.median(online),
        "photo_median_s": statistics.median(with_photo),
        "reports": reports,
        "photo_bytes": len(photo),
    }
