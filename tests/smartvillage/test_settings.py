"""Settings in both run modes, each loaded in a fresh interpreter with a controlled environment."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Variables that decide the run mode; none of them may leak in from the environment running the tests.
MODE_VARIABLES = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CELERY_RESULT_BACKEND",
    "CELERY_TASK_ALWAYS_EAGER",
)

PRINT_SETTINGS = """
import json

import django

django.setup()

from django.conf import settings

import smartvillage

database = settings.DATABASES["default"]
print(json.dumps({
    "engine": database["ENGINE"],
    "name": str(database["NAME"]),
    "host": database.get("HOST", ""),
    "port": str(database.get("PORT", "")),
    "debug": settings.DEBUG,
    "celery_task_always_eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "task_always_eager": smartvillage.celery_app.conf.task_always_eager,
    "broker_url": smartvillage.celery_app.conf.broker_url,
    "language_code": settings.LANGUAGE_CODE,
    "languages": [code for code, _name in settings.LANGUAGES],
    "time_zone": settings.TIME_ZONE,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_cookie_secure": settings.CSRF_COOKIE_SECURE,
}))
"""

PRODUCTION_DATABASE_URL = "postgres://u:p@db.example:5432/sv"
PRODUCTION_BROKER_URL = "redis://cache.example:6379/0"


def clean_environment(**variables: str) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if name not in MODE_VARIABLES}
    environment["DJANGO_SETTINGS_MODULE"] = "smartvillage.settings"
    environment.update(variables)
    return environment


def run(args: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load_settings(environment: dict[str, str]) -> dict:
    result = run(["-c", PRINT_SETTINGS], environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def production_environment() -> dict[str, str]:
    return clean_environment(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="portal.example.go.id",
        DATABASE_URL=PRODUCTION_DATABASE_URL,
        CELERY_BROKER_URL=PRODUCTION_BROKER_URL,
    )


@pytest.fixture(scope="module")
def embedded_settings() -> dict:
    return load_settings(clean_environment())


@pytest.fixture(scope="module")
def production_settings() -> dict:
    return load_settings(production_environment())


# --- Embedded mode (no variables set) ----------------------------------------------------------


def test_it_uses_the_sqlite_file_by_default(embedded_settings):
    assert embedded_settings["engine"] == "django.db.backends.sqlite3"
    assert embedded_settings["name"].endswith("db.sqlite3")


def test_it_runs_with_debug_on_by_default(embedded_settings):
    assert embedded_settings["debug"] is True


def test_it_runs_celery_tasks_eagerly_by_default(embedded_settings):
    assert embedded_settings["celery_task_always_eager"] is True
    assert embedded_settings["task_always_eager"] is True


def test_it_defaults_to_indonesian_with_english_available(embedded_settings):
    assert embedded_settings["language_code"] == "id"
    assert "en" in embedded_settings["languages"]


def test_it_uses_the_jakarta_time_zone(embedded_settings):
    assert embedded_settings["time_zone"] == "Asia/Jakarta"


# --- Production mode ---------------------------------------------------------------------------


def test_it_uses_postgresql_from_database_url_in_production(production_settings):
    assert production_settings["engine"] == "django.db.backends.postgresql"
    assert production_settings["host"] == "db.example"
    assert production_settings["port"] == "5432"
    assert production_settings["name"] == "sv"


def test_it_turns_debug_off_in_production(production_settings):
    assert production_settings["debug"] is False
    assert production_settings["allowed_hosts"] == ["portal.example.go.id"]


def test_it_sends_celery_tasks_to_the_redis_broker_in_production(production_settings):
    assert production_settings["celery_task_always_eager"] is False
    assert production_settings["task_always_eager"] is False
    assert production_settings["broker_url"] == PRODUCTION_BROKER_URL


def test_it_marks_cookies_secure_in_production(production_settings):
    assert production_settings["session_cookie_secure"] is True
    assert production_settings["csrf_cookie_secure"] is True


def test_it_passes_the_deployment_checks_in_production():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_environment())

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "no issues" in output
    assert "WARNINGS" not in output


def test_it_refuses_to_start_in_production_without_a_secret_key():
    environment = clean_environment(
        DEBUG="0",
        ALLOWED_HOSTS="portal.example.go.id",
        DATABASE_URL=PRODUCTION_DATABASE_URL,
        CELERY_BROKER_URL=PRODUCTION_BROKER_URL,
    )

    result = run(["-c", PRINT_SETTINGS], environment)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


# --- report photos: the file system, or S3-compatible storage from the environment ------------------

PRINT_PHOTO_STORAGE = """
import json

import django

django.setup()

from django.core.files.storage import storages

storage = storages["photos"]
print(json.dumps({
    "class": type(storage).__module__ + "." + type(storage).__qualname__,
    "location": str(storage.location),
    "bucket": getattr(storage, "bucket_name", None),
    "endpoint": getattr(storage, "endpoint_url", None),
    "acl": getattr(storage, "default_acl", None),
}))
"""


def _photo_storage(environment: dict[str, str]) -> dict:
    result = run(["-c", PRINT_PHOTO_STORAGE], environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_photos_are_kept_on_the_file_system_under_media_root_by_default(tmp_path):
    storage = _photo_storage(clean_environment(MEDIA_ROOT=str(tmp_path)))

    assert storage["class"] == "django.core.files.storage.filesystem.FileSystemStorage"
    assert storage["location"] == str(tmp_path / "report-photos")


def test_photos_go_to_the_s3_compatible_bucket_the_environment_names():
    storage = _photo_storage(
        clean_environment(
            PHOTO_STORAGE_BUCKET="foto-laporan",
            PHOTO_STORAGE_ENDPOINT_URL="https://s3.example.go.id",
            PHOTO_STORAGE_ACCESS_KEY_ID="kunci",
            PHOTO_STORAGE_SECRET_ACCESS_KEY="rahasia",
        )
    )

    assert storage["class"] == "storages.backends.s3.S3Storage"
    assert (storage["bucket"], storage["endpoint"], storage["acl"]) == (
        "foto-laporan",
        "https://s3.example.go.id",
        "private",
    )
    assert storage["location"] == "report-photos"


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_connections_run_without_jit():
    # make bench: the dashboard's trend query spent 975 of its 991 ms in JIT compilation.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
