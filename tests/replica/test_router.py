"""The database router's rules (smartvillage/replica.py), and that it leaves a single-database deployment and the
test suite's database handling as they were. Against a real streaming replica: test_streaming_replica.py."""

import json
import os
import subprocess
import sys
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.urls import get_resolver
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import User
from grants.models import Grant
from rollout.models import AdoptionSnapshot
from smartvillage import replica
from smartvillage.replica import PRIMARY, REPLICA, ReplicaRouter, RequestRoute
from tests.smartvillage.test_url_access import walk

ROOT = Path(__file__).resolve().parents[2]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
ROUTE_NAMES = {name for name, _params in walk(get_resolver().url_patterns)}


single_database = pytest.mark.skipif(replica.configured(), reason="DATABASE_REPLICA_URL is set in this run")


@pytest.fixture
def reading_replica():
    """A request whose reads the middleware sent to the replica."""
    route = RequestRoute(reads=REPLICA)
    token = replica._request.set(route)
    yield route
    replica._request.reset(token)


@single_database
def test_without_a_replica_url_there_is_one_database_and_every_read_is_the_primarys():
    router = ReplicaRouter()

    assert set(settings.DATABASES) == {PRIMARY}
    assert router.db_for_read(AdoptionSnapshot) == router.db_for_write(AdoptionSnapshot) == PRIMARY
    assert replica.replica_health().state == replica.ReplicaState.NOT_CONFIGURED


@single_database
@pytest.mark.django_db
def test_healthz_answers_200_with_the_replica_not_configured(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["replica"]["state"] == "not_configured"
    assert response.json()["primary"] == {"state": "up"}
    assert "no-store" in response["Cache-Control"]
    assert client.post("/healthz").status_code == 405


def test_a_routed_read_goes_to_the_replica_but_who_the_request_is_comes_from_the_primary(reading_replica):
    router = ReplicaRouter()

    assert router.db_for_read(AdoptionSnapshot) == router.db_for_read(Grant) == REPLICA
    assert {router.db_for_read(model) for model in (User, Session, Token)} == {PRIMARY}


@pytest.mark.django_db
def test_a_read_inside_a_transaction_on_the_primary_stays_there(reading_replica):
    with transaction.atomic():
        assert ReplicaRouter().db_for_read(AdoptionSnapshot) == PRIMARY


def test_after_a_write_every_read_of_the_request_comes_from_the_primary(reading_replica):
    router = ReplicaRouter()

    assert router.db_for_write(Grant) == PRIMARY

    assert reading_replica.wrote and router.db_for_read(AdoptionSnapshot) == PRIMARY


def test_migrations_run_on_the_primary_only():
    router = ReplicaRouter()

    assert router.allow_migrate(PRIMARY, "rollout") and not router.allow_migrate(REPLICA, "rollout")


def test_every_replica_route_pattern_names_routes_that_exist_and_only_reads():
    matched = {
        pattern: {n for n in ROUTE_NAMES if fnmatchcase(n, pattern)} for pattern in settings.DATABASE_REPLICA_ROUTES
    }

    assert [pattern for pattern, names in matched.items() if not names] == []
    routed = set().union(*matched.values())
    # Write-only routes and the pages with action forms read the primary (GET of a write route is a 405 anyway).
    assert not routed & {"grants:grant", "grants:grant-action", "rollout:report-new", "accounts:users", "login"}
    assert {"public:home", "home", "dashboard:village", "grant-list", "grant-detail", "adoption"} <= routed


@single_database
@pytest.mark.django_db
def test_a_write_sets_no_pin_without_a_replica(client, province_staff):
    client.force_login(province_staff)

    response = client.post("/accounts/password/", {})

    assert replica.PIN_COOKIE not in response.cookies


def _settings_with(env: dict) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({alias: db.get('TEST', {}) for alias, db in settings.DATABASES.items()}))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "smartvillage.settings", **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_a_replica_url_adds_a_replica_that_mirrors_the_test_database():
    databases = _settings_with({"DATABASE_REPLICA_URL": "postgres://reader@replica.example:5432/smartvillage"})

    assert databases["replica"]["MIRROR"] == "default"


def test_the_suite_runs_as_before_with_a_replica_url_naming_the_same_database():
    """pytest-django's test database with the replica alias as its mirror: routed reads reach the test database
    (the router sees no separate server) and the tests pass as they do with one database."""
    # A database name of its own, so that its test database is not this run's.
    url = f"{os.environ['DATABASE_URL']}_mirror" if os.environ.get("DATABASE_URL") else "sqlite:///mirror.sqlite3"
    run = subprocess.run(
        [*PYTEST, "tests/public/test_pages.py", "tests/public/test_figures.py", "-k", "query or figures or signed_in"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "DATABASE_REPLICA_URL": url},
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and " failed" not in run.stdout


def test_an_unknown_lag_is_reported_as_null_json_not_infinity():
    health = replica.ReplicaHealth(
        state=replica.ReplicaState.LAGGING, checked_at=timezone.now(), lag_seconds=float("inf")
    )

    assert json.loads(json.dumps(health.as_dict(), allow_nan=False))["lag_seconds"] is None
