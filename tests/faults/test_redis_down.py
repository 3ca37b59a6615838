"""Redis down: pages, the API and verifications keep answering promptly, and the recompute a
verification asks for is not lost: it is remembered in the RecomputeRequest row (`missed`) and
queued by the catch-up task once the broker is back.

Each test starts a redis-server of its own on a free port, points Celery at it (broker and result
store, one Redis as in production) and stops (or freezes) that process for real; the shared Redis of
the other tests is not used.
"""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings as django_settings
from django.db import connections
from django.utils import timezone

from rollout import services
from rollout.models import AdoptionSnapshot, PillarStatus, ProgressReport, RecomputeRequest, ReportStatus
from rollout.tasks import recompute_adoption, recompute_adoption_catch_up
from smartvillage import celery_app
from tests.faults.conftest import timed
from villages.models import Village, VillageKind

# With the broker refusing connections a publish fails in well under a second: this bound has margin.
PROMPT_SECONDS = 3.0
# A frozen broker accepts the connection and never answers: two publish attempts of the 2 s socket timeout.
FROZEN_SECONDS = 6.0
POLL_SECONDS = 30


@pytest.fixture
def awaiting(registry, officer_a) -> list[ProgressReport]:
    """Two reports of regency 18.01 awaiting verification, each making its desa adopted."""
    villages = Village.objects.filter(district=registry.district_a1, kind=VillageKind.DESA).order_by("code")[:2]
    return [
        services.report_submit(
            actor=officer_a,
            item=services.ReportInput(
                village=village,
                pillar1=PillarStatus.LIVE,
                pillar2=PillarStatus.NOT_STARTED,
                pillar3=PillarStatus.NOT_STARTED,
                signal="4g",
                signal_sufficient=True,
            ),
        )
        for village in villages
    ]


def adopted_in_regency(code: str) -> int | None:
    row = AdoptionSnapshot.objects.filter(date=timezone.localdate(), level="regency", code=code).first()
    return None if row is None else row.adopted_units


# --- while Redis is down --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # verifications queue their recompute on a real commit
def test_pages_the_api_and_verifications_answer_promptly_with_redis_stopped(
    own_redis, awaiting, client, api_client, province_staff
):
    services.adoption_recompute()
    own_redis.stop()
    client.force_login(province_staff)
    api_client.force_authenticate(province_staff)
    paths = ["/", "/dashboard/regencies/18.01/", "/rollout/reports/"]
    api_paths = ["/api/v1/villages/", "/api/v1/rollout/", "/api/v1/reports/", "/api/v1/adoption/?level=province"]

    answers = {path: timed(client.get, path) for path in paths}
    answers |= {path: timed(api_client.get, path) for path in api_paths}
    answers["API verify"] = timed(api_client.post, f"/api/v1/reports/{awaiting[0].pk}/verify/")
    answers["page verify"] = timed(client.post, f"/rollout/reports/{awaiting[1].pk}/verify/")

    for name, (response, seconds) in answers.items():
        assert response.status_code < 400, name
        assert seconds < PROMPT_SECONDS, f"{name} took {seconds:.1f} s"
    assert set(ProgressReport.objects.values_list("status", flat=True)) == {ReportStatus.VERIFIED}
    request = RecomputeRequest.objects.get()
    assert (request.missed, request.pending) == (True, False)


@pytest.mark.django_db(transaction=True)
def test_a_verification_answers_within_seconds_with_redis_frozen(own_redis, awaiting, api_client, province_staff):
    own_redis.freeze()
    api_client.force_authenticate(province_staff)

    response, seconds = timed(api_client.post, f"/api/v1/reports/{awaiting[0].pk}/verify/")

    assert response.status_code == 200
    assert seconds < FROZEN_SECONDS, f"the verification took {seconds:.1f} s"
    assert RecomputeRequest.objects.get().missed is True


# --- once Redis is back ---------------------------------------------------------------------------


def close_worker_connections(**kwargs) -> None:
    # Runs in the worker's thread: its database connection must not outlive the test.
    connections.close_all()


@pytest.mark.postgres  # the worker thread reads what the test committed
@pytest.mark.django_db(transaction=True)
def test_the_recompute_asked_for_while_redis_was_stopped_runs_once_it_is_back(
    own_redis, awaiting, settings, province_staff
):
    settings.ROLLOUT_RECOMPUTE_DELAY_SECONDS = 0
    services.adoption_recompute()
    own_redis.stop()
    services.report_verify(report=awaiting[0], actor=province_staff)
    assert RecomputeRequest.objects.get().missed is True
    assert adopted_in_regency("18.01") == 0

    own_redis.start()  # same port, empty: the message that could not be sent is not in it
    task_postrun.connect(close_worker_connections, weak=False)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            recompute_adoption_catch_up.apply_async()  # as beat sends it every five minutes
            deadline = time.monotonic() + POLL_SECONDS
            while adopted_in_regency("18.01") != 1 and time.monotonic() < deadline:
                time.sleep(0.1)
    finally:
        task_postrun.disconnect(close_worker_connections)
        connections.close_all()

    assert adopted_in_regency("18.01") == 1, f"the snapshot does not show the verification after {POLL_SECONDS} s"
    request = RecomputeRequest.objects.get()
    assert (request.missed, request.pending) == (False, False)


def test_beat_sends_the_catch_up_every_five_minutes():
    entry = django_settings.CELERY_BEAT_SCHEDULE["recompute-adoption-catch-up"]

    assert entry["task"] == recompute_adoption_catch_up.name
    assert entry["schedule"].minute == set(range(0, 60, 5))


# --- the catch-up rules ---------------------------------------------------------------------------


@pytest.fixture
def sent(monkeypatch) -> list[dict]:
    """recompute_adoption's apply_async replaced by a recorder: the broker accepts every message."""
    sent: list[dict] = []
    monkeypatch.setattr(recompute_adoption, "apply_async", lambda **kwargs: sent.append(kwargs))
    return sent


@pytest.mark.django_db
def test_the_catch_up_queues_a_missed_request(sent):
    RecomputeRequest.objects.create(pk=1, missed=True, requested_at=timezone.now(), schedules=1)

    assert recompute_adoption_catch_up.apply().get() is True

    assert len(sent) == 1
    assert RecomputeRequest.objects.get().pending is True


@pytest.mark.django_db
def test_the_catch_up_leaves_a_request_queued_since_to_its_task(sent):
    # Missed once, then queued by a later verification: that message runs it.
    RecomputeRequest.objects.create(pk=1, missed=True, pending=True, requested_at=timezone.now(), schedules=2)

    assert recompute_adoption_catch_up.apply().get() is False

    assert sent == []


@pytest.mark.django_db
def test_the_catch_up_queues_nothing_when_nothing_is_owed(sent):
    RecomputeRequest.objects.create(pk=1, requested_at=timezone.now(), schedules=1)

    assert recompute_adoption_catch_up.apply().get() is False

    assert sent == []


@pytest.mark.django_db
def test_a_recompute_settles_a_missed_request(registry):
    RecomputeRequest.objects.create(pk=1, missed=True, requested_at=timezone.now(), schedules=1)

    recompute_adoption.apply().get()

    assert RecomputeRequest.objects.get().missed is False
