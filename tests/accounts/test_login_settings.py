"""The login settings of the README's production table, read from the environment."""

import json

from tests.smartvillage.test_settings import production_environment, run

PRINT = """
import json

import django

django.setup()

from django.conf import settings

print(json.dumps({
    "trusted_proxies": settings.TRUSTED_PROXY_COUNT,
    "drf_num_proxies": settings.REST_FRAMEWORK["NUM_PROXIES"],
    "failure_limit": settings.AXES_FAILURE_LIMIT,
    "cool_off_seconds": settings.AXES_COOLOFF_TIME.total_seconds(),
    "axes_handler": settings.AXES_HANDLER,
    "address_failure_limit": settings.LOGIN_ADDRESS_FAILURE_LIMIT,
    "cache_options": settings.CACHES["default"].get("OPTIONS", {}),
}))
"""


def load(**variables: str) -> dict:
    result = run(["-c", PRINT], production_environment() | variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_proxy_is_trusted_unless_the_deployment_says_how_many():
    assert load()["trusted_proxies"] == 0
    assert load()["drf_num_proxies"] == 0  # DRF would otherwise trust X-Forwarded-For
    behind_two = load(TRUSTED_PROXY_COUNT="2")
    assert (behind_two["trusted_proxies"], behind_two["drf_num_proxies"]) == (2, 2)


def test_the_lockout_is_counted_in_the_database_with_the_configured_limit_and_cool_off():
    configured = load(LOGIN_FAILURE_LIMIT="5", LOGIN_COOLOFF_MINUTES="30", LOGIN_ADDRESS_FAILURE_LIMIT="40")

    # The database handler, with the bound per address over all accounts added.
    assert configured["axes_handler"] == "accounts.lockout.LockoutHandler"
    assert (configured["address_failure_limit"], load()["address_failure_limit"]) == (40, 100)
    assert (configured["failure_limit"], configured["cool_off_seconds"]) == (5, 1800)
    assert (load()["failure_limit"], load()["cool_off_seconds"]) == (10, 900)


def test_a_redis_cache_gets_short_socket_timeouts():
    options = load(CACHE_URL="redis://cache.example:6379/1")["cache_options"]

    assert options["socket_connect_timeout"] <= 1
    assert options["socket_timeout"] <= 1
