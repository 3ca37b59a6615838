"""The field-capture migrations (0006, 0007) on reports already there: each is captured when it was received."""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from rollout.models import ProgressReport

pytestmark = pytest.mark.postgres

BEFORE = [("rollout", "0005_nightly_recompute_once_per_day")]
AFTER = [("rollout", "0007_i13_capture_required")]


@pytest.fixture
def old_reports(transactional_db, registry, officer_a, province_staff):
    """Two reports written before field capture (one awaiting, one verified), then the migrations run."""
    # Read before going back: rollout 0005 comes before the units' surrogate keys (villages 0004), so there a
    # report names its village by code, and today's models no longer match the tables.
    village_code = registry.district_a1.villages.order_by("code").values_list("code", flat=True).first()
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    Report = old_apps.get_model("rollout", "ProgressReport")
    received = datetime.datetime(2024, 3, 1, 2, 30, tzinfo=datetime.UTC)
    fields = {"village_id": village_code, "submitted_by_id": officer_a.pk, "pillar1": "live"}
    awaiting = Report.objects.create(submitted_at=received, **fields)
    verified = Report.objects.create(
        submitted_at=received - datetime.timedelta(days=9),
        status="verified",
        reviewed_by_id=province_staff.pk,
        reviewed_at=received,
        **fields,
    )
    forward = MigrationExecutor(connection)
    forward.loader.build_graph()
    forward.migrate(AFTER)
    yield {"awaiting": awaiting.pk, "verified": verified.pk}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_older_reports_are_captured_when_they_were_received_and_are_not_late(old_reports):
    for pk in old_reports.values():
        report = ProgressReport.objects.get(pk=pk)
        assert report.captured_at == report.submitted_at
        assert (report.client_uuid, report.late, report.latitude, report.longitude) == (None, False, None, None)


def test_after_the_migrations_the_content_still_never_changes_and_a_review_may_set_late(old_reports, province_staff):
    with (
        pytest.raises(DatabaseError, match="content never changes"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE rollout_progressreport SET status = 'verified', reviewed_by_id = %s, reviewed_at = now(), "
            "captured_at = now() WHERE id = %s",
            [province_staff.pk, old_reports["awaiting"]],
        )

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE rollout_progressreport SET status = 'verified', reviewed_by_id = %s, reviewed_at = now(), "
            "superseded = true, late = true WHERE id = %s",
            [province_staff.pk, old_reports["awaiting"]],
        )
    assert ProgressReport.objects.get(pk=old_reports["awaiting"]).late is True
