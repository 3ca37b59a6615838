"""Redis down or frozen: the login and the token endpoint still answer on the credentials, promptly,
and still count failures.

Production points the cache (CACHE_URL) and the broker at one Redis. Each test starts a redis-server of
its own, points both at it, then stops it or freezes it (SIGSTOP) for real. The lockout counts live in
PostgreSQL (django-axes' database handler), so nothing in the login path waits on Redis.
"""

import pytest
from rest_framework.test import APIClient

from tests.conftest import PASSWORD
from tests.faults.conftest import timed

# "About 2 seconds" is the promise: what a login costs when Redis is fine, and no wait on Redis.
BOUND_SECONDS = 2.0


@pytest.fixture
def redis_behind_everything(own_redis, settings):
    """Cache and broker on the test's own redis-server, as in production (the cache with redis-py's
    defaults: no timeout, so any wait on a frozen Redis shows as a hang)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": own_redis.url}}
    return own_redis


def _page(username, password):
    return APIClient().post("/login/", {"username": username, "password": password})


def _token(username, password):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password})


# path -> (answer to the right password, answer to a wrong one)
PATHS = {"page": (_page, 302, 200), "token": (_token, 200, 400)}
OUTAGES = ("stopped", "frozen")


def _break(server, outage: str) -> None:
    if outage == "stopped":
        server.stop()
    else:
        server.freeze()


@pytest.mark.parametrize("outage", OUTAGES)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.django_db(transaction=True)  # the lockout rows are committed, as in production
def test_login_answers_on_the_credentials_within_seconds_with_redis_down(
    redis_behind_everything, province_staff, path, outage
):
    login, accepted, refused = PATHS[path]
    _break(redis_behind_everything, outage)

    answers = {
        "right password": timed(login, province_staff.username, PASSWORD),
        "wrong password": timed(login, province_staff.username, "salah"),
    }

    assert answers["right password"][0].status_code == accepted
    assert answers["wrong password"][0].status_code == refused
    for name, (_response, seconds) in answers.items():
        assert seconds < BOUND_SECONDS, f"{name} took {seconds:.1f} s with Redis {outage}"


@pytest.mark.parametrize("outage", OUTAGES)
@pytest.mark.django_db(transaction=True)
def test_the_lockout_still_counts_with_redis_down(redis_behind_everything, province_staff, settings, outage):
    settings.AXES_FAILURE_LIMIT = 3
    _break(redis_behind_everything, outage)

    for n in range(3):
        timed(_page if n % 2 else _token, province_staff.username, f"salah{n}")
    page, page_seconds = timed(_page, province_staff.username, PASSWORD)
    token, token_seconds = timed(_token, province_staff.username, PASSWORD)

    assert (page.status_code, token.status_code) == (429, 429)
    assert max(page_seconds, token_seconds) < BOUND_SECONDS
