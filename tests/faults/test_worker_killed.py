"""A recompute killed in the middle of its write leaves the previous snapshot intact.

`adoption_recompute` writes in one transaction: the snapshot rows, then the finish time in the
RecomputeRequest row. When its process dies, PostgreSQL rolls the transaction back, so readers see
the previous snapshot or the next one, never a mix. The test runs `manage.py recompute_adoption` in
a process of its own, holds it between those two writes by locking the RecomputeRequest row, checks
that it has rewritten every snapshot row, and kills it with SIGKILL.
"""

import os
import signal
import subprocess
import sys
import time
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from rollout import services
from rollout.models import AdoptionSnapshot, PillarStatus, RecomputeRequest, SnapshotLevel
from villages.models import Village, VillageKind

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

APPLICATION_NAME = "faults-killed-recompute"
WAIT_SECONDS = 30


def snapshot_rows() -> list[dict]:
    return list(AdoptionSnapshot.objects.order_by("level", "code").values())


def verify_live(village: Village, officer, staff) -> None:
    item = services.ReportInput(
        village=village,
        pillar1=PillarStatus.LIVE,
        pillar2=PillarStatus.IN_PROGRESS,
        pillar3=PillarStatus.NOT_STARTED,
        signal="4g",
        signal_sufficient=True,
    )
    services.report_verify(report=services.report_submit(actor=officer, item=item), actor=staff)


def recompute_process() -> subprocess.Popen:
    """`manage.py recompute_adoption` against the test database, named so that its session can be found."""
    db = connection.settings_dict
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{credentials}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "PGAPPNAME": APPLICATION_NAME,  # libpq reads it
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "recompute_adoption"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_for(query: str, params: list, process: subprocess.Popen | None = None):
    """The first row of `query` once it has one, failing if `process` ends first.

    Polled on Django's connection, in autocommit: a transaction sees pg_stat_activity as of its start.
    """
    deadline = time.monotonic() + WAIT_SECONDS
    with connection.cursor() as cursor:
        while True:
            cursor.execute(query, params)
            row = cursor.fetchone()
            if row is not None:
                return row
            if process is not None and process.poll() is not None:
                pytest.fail(f"the recompute ended before it was held: {process.stdout.read().decode()}")
            assert time.monotonic() < deadline, f"nothing after {WAIT_SECONDS} s: {query}"
            time.sleep(0.05)


def test_a_recompute_killed_mid_write_leaves_the_previous_snapshot_intact(
    monkeypatch, registry, officer_a, province_staff, pg_side
):
    # The test runs each recompute itself; a verification must not queue one.
    monkeypatch.setattr(services, "adoption_recompute_request", lambda: False)
    first, second = Village.objects.filter(district=registry.district_a1, kind=VillageKind.DESA).order_by("code")[:2]
    verify_live(first, officer_a, province_staff)
    services.adoption_recompute()
    previous = snapshot_rows()
    verify_live(second, officer_a, province_staff)  # the next recompute changes regency 18.01's figures
    request = RecomputeRequest.objects.create(pk=1)

    with pg_side.cursor() as lock:
        lock.execute("BEGIN")
        lock.execute("SELECT 1 FROM rollout_recomputerequest WHERE id = %s FOR UPDATE", [request.pk])
        process = recompute_process()
        pid, xid = wait_for(
            "SELECT pid, backend_xid FROM pg_stat_activity"
            " WHERE application_name = %s AND wait_event_type = 'Lock'"
            " AND query LIKE 'UPDATE \"rollout_recomputerequest\"%%'",
            [APPLICATION_NAME],
            process,
        )
        # Held at its second write: every snapshot row is rewritten by its uncommitted transaction.
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM rollout_adoptionsnapshot WHERE xmax = %s::text::xid", [xid])
            rewritten = cursor.fetchone()[0]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        lock.execute("ROLLBACK")

    # Released, the orphaned session finishes its statement, finds its client gone and rolls back.
    wait_for("SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", [pid])
    assert process.returncode == -signal.SIGKILL
    assert snapshot_rows() == previous
    assert rewritten == len(previous), "the recompute was not held in the middle of its write"

    assert services.adoption_recompute() == len(previous)
    regency = AdoptionSnapshot.objects.get(date=timezone.localdate(), level=SnapshotLevel.REGENCY, code="18.01")
    assert (regency.adopted_units, regency.adopted_desa) == (2, 2)
    assert len(snapshot_rows()) == len(previous)
