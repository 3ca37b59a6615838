"""A small run of the field-capture figure of `make bench` (bench/capture.py), so it cannot rot."""

import pytest

from bench.capture import capture_sync
from rollout.models import ProgressReport, ReportPhoto

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_it_syncs_a_queue_once_each_and_measures_it_against_the_plain_post(registry):
    figures = capture_sync(reports=12, photo_reports=2)

    assert figures["reports"] == 12
    for name in ("total_s", "median_s", "online_median_s", "photo_median_s"):
        assert figures[name] > 0, name
    assert figures["total_s"] >= 12 * min(figures["median_s"], figures["online_median_s"]) / 2
    # Each queued report once (with its client_uuid), the plain posts without one, two with a photo each.
    assert ProgressReport.objects.filter(client_uuid__isnull=False).count() == 1 + 12 + 2
    assert ProgressReport.objects.filter(client_uuid__isnull=True).count() == 1 + 12
    assert ReportPhoto.objects.count() == 2
