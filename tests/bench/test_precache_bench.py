"""The service worker's keep for the largest regency (bench/precache.py, a figure of `make bench`)."""

import pytest

from bench.precache import FLOOR_BYTES, precache_size
from portal.pwa import warm_urls
from villages.models import Village
from villages.services import regions_load

pytestmark = pytest.mark.django_db


def test_it_measures_the_officers_pages_of_the_regency_with_the_most_villages(registry):
    size = precache_size()

    assert size["regency"] == registry.regency_a.code
    assert size["villages"] == Village.objects.filter(regency=registry.regency_a).count()
    assert list(size["pages_bytes"]) == warm_urls()
    assert all(value > 0 for value in size["pages_bytes"].values())
    assert size["total_bytes"] == size["static_bytes"] + size["worker_bytes"] + sum(size["pages_bytes"].values())


def test_the_largest_lampung_regency_fits_under_one_megabyte():
    regions_load()

    size = precache_size()

    assert size["villages"] > 250  # Lampung Tengah
    assert size["total_bytes"] < FLOOR_BYTES, size
