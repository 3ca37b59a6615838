"""The whole path with a real worker: verification -> on_commit -> Redis -> Celery worker -> snapshots in PostgreSQL."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.db import connections
from django.utils import timezone

from rollout import services
from rollout.models import AdoptionSnapshot, PillarStatus, SnapshotLevel
from smartvillage import celery_app
from villages.models import Village, VillageKind

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

POLL_SECONDS = 30
POLL_INTERVAL = 0.2


def close_worker_connections(**kwargs) -> None:
    # Runs in the worker's thread: its connection to the test database must not outlive the test,
    # or the test database cannot be flushed and dropped.
    connections.close_all()


def regency_row_adopting(code: str, adopted_units: int) -> AdoptionSnapshot | None:
    return AdoptionSnapshot.objects.filter(
        date=timezone.localdate(), level=SnapshotLevel.REGENCY, code=code, adopted_units__gte=adopted_units
    ).first()


def test_it_recomputes_adoption_in_a_worker_after_a_verification(
    settings, registry, officer_a, province_staff, ro_report_input
):
    settings.ROLLOUT_RECOMPUTE_DELAY_SECONDS = 0
    celery_app.control.purge()
    village = Village.objects.filter(district=registry.district_a1, kind=VillageKind.DESA).order_by("code").first()
    task_postrun.connect(close_worker_connections, weak=False)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            report = services.report_submit(actor=officer_a, item=ro_report_input(village, pillar1=PillarStatus.LIVE))
            services.report_verify(report=report, actor=province_staff)
            deadline = time.monotonic() + POLL_SECONDS
            row = regency_row_adopting("18.01", 1)
            while row is None and time.monotonic() < deadline:
                time.sleep(POLL_INTERVAL)
                row = regency_row_adopting("18.01", 1)
    finally:
        task_postrun.disconnect(close_worker_connections)
        connections.close_all()

    assert row is not None, "no snapshot of today shows the verified village within 30 s"
    assert (row.units, row.adopted_units, row.adopted_desa) == (6, 1, 1)
    assert not AdoptionSnapshot.objects.filter(code="18.71", adopted_units__gt=0).exists()
