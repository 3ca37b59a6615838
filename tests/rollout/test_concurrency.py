"""Races of reviews against PostgreSQL with real threads: the status row lock, not luck, keeps the newest report."""

import pytest

from rollout import services
from rollout.models import PillarStatus, ProgressReport, ReportStatus, VillageStatus
from tests.grants.test_concurrency import run_together
from villages.models import Village

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_status_follows_the_newest_report_when_a_villages_reports_are_verified_at_once(
    registry, ro_submitted, ro_verified, province_staff, province_admin
):
    villages = list(Village.objects.filter(regency=registry.regency_a).order_by("code"))
    # Half the villages have a status already (an even older verified report), half get their first.
    for village in villages[::2]:
        ro_verified(village, pillar1=PillarStatus.NOT_STARTED)
    pairs = [
        (ro_submitted(village, pillar1=PillarStatus.IN_PROGRESS), ro_submitted(village, pillar1=PillarStatus.LIVE))
        for village in villages
    ]

    results, errors = run_together(
        [
            call
            for older, newer in pairs
            for call in (
                lambda report=older: services.report_verify(report=report, actor=province_staff),
                lambda report=newer: services.report_verify(report=report, actor=province_admin),
            )
        ]
    )

    assert errors == []
    assert len(results) == 2 * len(villages)
    for older, newer in pairs:
        status = VillageStatus.objects.get(village=older.village_id)
        assert (status.last_report_id, status.pillar1) == (newer.pk, PillarStatus.LIVE)
        older.refresh_from_db()
        newer.refresh_from_db()
        assert older.status == newer.status == ReportStatus.VERIFIED
        # The older report is superseded exactly when it was verified after the newer one.
        assert older.superseded is (older.reviewed_at > newer.reviewed_at)
        assert newer.superseded is False
    assert ProgressReport.objects.filter(status=ReportStatus.AWAITING).count() == 0
