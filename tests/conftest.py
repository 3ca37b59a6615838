import os
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import Role
from tests.factories import DistrictFactory, RegencyFactory, UserFactory, VillageFactory
from villages.models import RegencyKind, VillageKind

PASSWORD = "rahasia-uji-123"


def _postgres_configured() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def _redis_reachable() -> bool:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def pytest_collection_modifyitems(config, items):
    """Skip PostgreSQL/Redis tests where those are absent, unless CI requires them."""
    needs = {
        "postgres": (_postgres_configured, "REQUIRE_POSTGRES", "needs PostgreSQL: set DATABASE_URL"),
        "redis": (_redis_reachable, "REQUIRE_REDIS", "needs a reachable Redis: set CELERY_BROKER_URL"),
    }
    for marker, (available, required_by, reason) in needs.items():
        if not any(marker in item.keywords for item in items):
            continue
        if available():
            continue
        if os.environ.get(required_by) == "1":
            raise pytest.UsageError(f"{required_by}=1 but the tests cannot use it: {reason}")
        for item in items:
            if marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


@dataclass
class Registry:
    """A small two-regency registry: regency A (18.01) and regency B (18.02)."""

    regency_a: object
    regency_b: object
    district_a1: object
    district_a2: object
    district_b1: object


@pytest.fixture
def registry(db) -> Registry:
    regency_a = RegencyFactory(code="18.01", name="Kabupaten Lampung Selatan")
    regency_b = RegencyFactory(code="18.71", name="Kota Bandar Lampung", kind=RegencyKind.KOTA)
    district_a1 = DistrictFactory(regency=regency_a, code="18.01.01", name="Natar")
    district_a2 = DistrictFactory(regency=regency_a, code="18.01.02", name="Kalianda")
    district_b1 = DistrictFactory(regency=regency_b, code="18.71.01", name="Teluk Betung Barat")
    VillageFactory.create_batch(3, district=district_a1)
    VillageFactory(district=district_a1, kind=VillageKind.KELURAHAN)
    VillageFactory.create_batch(2, district=district_a2)
    VillageFactory.create_batch(2, district=district_b1, kind=VillageKind.KELURAHAN)
    return Registry(regency_a, regency_b, district_a1, district_a2, district_b1)


@pytest.fixture
def province_admin(db):
    return UserFactory(username="admin.provinsi", role=Role.PROVINCE_ADMIN)


@pytest.fixture
def province_staff(db):
    return UserFactory(username="staf.provinsi", role=Role.PROVINCE_STAFF)


@pytest.fixture
def auditor(db):
    return UserFactory(username="auditor", role=Role.AUDITOR)


@pytest.fixture
def officer_a(registry):
    return UserFactory(username="petugas.a", role=Role.REGENCY_OFFICER, regency=registry.regency_a)


@pytest.fixture
def officer_b(registry):
    return UserFactory(username="petugas.b", role=Role.REGENCY_OFFICER, regency=registry.regency_b)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # PBKDF2 is slow by design; the tests create many users and never test hashing strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache():
    # Throttle counters live in the cache: one test's login attempts must not limit the next test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def photo_storage(tmp_path_factory):
    """Report photos go to a directory of the test session, never to the checkout's media/ folder."""
    location = tmp_path_factory.mktemp("report-photos")
    storages = {**settings.STORAGES, "photos": {**settings.STORAGES["photos"]}}
    storages["photos"]["OPTIONS"] = {**storages["photos"].get("OPTIONS", {}), "location": location}
    with override_settings(STORAGES=storages):
        yield location
