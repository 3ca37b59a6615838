"""The portal against a real PostgreSQL streaming replica on loopback (smartvillage/replica.py).

The set-up makes its own pair (bench/pgpair.py: initdb a primary, pg_basebackup -R a standby, each on a free
port, run as the postgres OS user), migrates and seeds the primary (the Lampung registry and seed_demo's
grants, reports and snapshots), and serves the portal with gunicorn with DATABASE_URL on the primary and
DATABASE_REPLICA_URL on the standby: the way a deployment runs it.

Which server answered is told by the data: with the standby's replay paused, a write on the primary is not
on the standby, so a read that misses it was answered by the standby, and one that sees it by the primary.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bench import pgpair

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "smartvillage_replica"
MAX_LAG_SECONDS = 4
CHECK_SECONDS = 1
PASSWORD = "demo-lampung"  # seed_demo's published demo password


@dataclass
class Portal:
    url: str
    pair: pgpair.Pair
    log: Path
    process: subprocess.Popen

    def get(self, path: str, session: requests.Session | None = None, **kwargs) -> requests.Response:
        return (session or requests).get(self.url + path, timeout=30, **kwargs)

    def health(self) -> dict:
        response = self.get("/healthz")
        assert response.status_code == 200, response.text
        return response.json()["replica"]

    def wait_for(self, state: str, timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            replica = self.health()
            if replica["state"] == state or time.monotonic() > deadline:
                return replica
            time.sleep(0.2)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _unavailable() -> str | None:
    return pgpair.available()


def _manage(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=600
    )


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Iterator[Portal]:
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but no streaming pair can be made: {reason}")
        pytest.skip(reason)
    directory = tmp_path_factory.mktemp("replica")
    with pgpair.pg_pair(databases=(DATABASE,)) as pair:
        env = {
            **os.environ,
            "DATABASE_URL": pair.primary.url(DATABASE),
            "DATABASE_REPLICA_URL": pair.standby.url(DATABASE),
            "DATABASE_REPLICA_MAX_LAG_SECONDS": str(MAX_LAG_SECONDS),
            "DATABASE_REPLICA_CHECK_SECONDS": str(CHECK_SECONDS),
            "DEBUG": "1",  # seed_demo's accounts, and session cookies over plain HTTP on loopback
            "CELERY_BROKER_URL": "",  # tasks in-process: a verification's recompute writes to the primary
            "REDIS_URL": "",
            "CACHE_URL": "locmemcache://",
            "PUBLIC_RATE_LIMIT_PER_MINUTE": "0",
            "LOG_LEVEL": "WARNING",
        }
        _manage(env, "migrate", "--noinput", "-v", "0")
        _manage(env, "load_regions")
        _manage(env, "seed_demo")
        port = pgpair.free_port()
        log = directory / "gunicorn.log"
        with log.open("wb") as output:
            # One process with threads: a token client's read-your-writes pin lives in the process's cache.
            gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "smartvillage.wsgi", f"--bind=127.0.0.1:{port}"]
            process = subprocess.Popen(
                [*gunicorn, "--workers=1", "--threads=8", "--worker-class=gthread", "--log-level=warning"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        portal = Portal(f"http://127.0.0.1:{port}", pair, log, process)
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(requests.ConnectionError):
                    if portal.get("/healthz").status_code == 200:
                        break
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            pair.wait_replayed()
            yield portal
        finally:
            process.terminate()
            process.wait(timeout=15)


def _login(portal: Portal, username: str) -> requests.Session:
    """A browser session (the login form, with its CSRF token)."""
    session = requests.Session()
    form = portal.get("/login/", session).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = session.post(
        portal.url + "/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": portal.url + "/login/"},
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def _token(portal: Portal, username: str) -> dict:
    response = requests.post(
        portal.url + "/api/v1/auth/token/", json={"username": username, "password": PASSWORD}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Token {response.json()['token']}"}


def _planned_grants(portal: Portal, headers: dict, count: int) -> list[dict]:
    grants = portal.get("/api/v1/grants/?status=planned&page_size=50", headers=headers).json()["results"]
    assert len(grants) >= count
    return grants[:count]


@contextlib.contextmanager
def replay_paused(portal: Portal) -> Iterator[None]:
    """The standby keeps receiving WAL but applies none of it: what the primary writes now is not on it."""
    portal.pair.standby.sql("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        portal.pair.standby.sql("SELECT pg_wal_replay_resume()")
        portal.pair.wait_replayed()


def test_healthz_reports_the_replica_up_with_its_lag(portal):
    replica = portal.wait_for("up")

    assert replica["state"] == "up"
    assert replica["lag_seconds"] is not None and replica["lag_seconds"] < MAX_LAG_SECONDS
    assert replica["max_lag_seconds"] == MAX_LAG_SECONDS


def test_reads_come_from_the_replica_and_a_writer_reads_its_own_write_at_once(portal):
    staff = _token(portal, "staf")
    other = _token(portal, "admin")
    browser = _login(portal, "staf")
    by_api, by_page = _planned_grants(portal, staff, 2)
    public_before = portal.get("/publik/")
    assert public_before.status_code == 200
    portal.wait_for("up")

    with replay_paused(portal):
        approved = requests.post(f"{portal.url}/api/v1/grants/{by_api['id']}/approve/", headers=staff, timeout=30)
        assert approved.status_code == 200, approved.text
        # The token client reads its own write at once (its next reads come from the primary) ...
        assert portal.get(f"/api/v1/grants/{by_api['id']}/", headers=staff).json()["status"] == "approved"
        # ... while the same read by someone else is answered by the replica, which has not applied the write,
        other_view = portal.get(f"/api/v1/grants/{by_api['id']}/", headers=other).json()["status"]
        # and so is an anonymous public page: the edition before the write (its ETag).
        public_during = portal.get("/publik/")

        page_form = browser.get(f"{portal.url}/grants/grant/{by_page['id']}/", timeout=30).text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page_form).group(1)
        posted = browser.post(
            f"{portal.url}/grants/grant/{by_page['id']}/approve/",
            data={"approve-confirm": "on", "csrfmiddlewaretoken": token},
            headers={"Referer": portal.url + "/"},
            timeout=30,
            allow_redirects=False,
        )
        assert posted.status_code == 302, posted.text[:500]
        # The browser's next read, a dashboard page (a replica route), shows its write: the primary answered.
        village = browser.get(f"{portal.url}/dashboard/villages/{by_page['village']}/", timeout=30).text
        still_planned_elsewhere = portal.get(f"/api/v1/grants/{by_page['id']}/", headers=other).json()["status"]

    assert other_view == "planned"
    assert public_during.status_code == 200 and public_during.headers["ETag"] == public_before.headers["ETag"]
    assert re.search(r"Disetujui", village), "the writer's own page read missed its write"
    assert still_planned_elsewhere == "planned"
    # Replayed: everyone reads the writes now.
    portal.wait_for("up")
    assert portal.get(f"/api/v1/grants/{by_api['id']}/", headers=other).json()["status"] == "approved"
    assert portal.get("/publik/").headers["ETag"] != public_before.headers["ETag"]


def test_a_replica_lagging_past_the_bound_is_left_aside_with_no_error(portal):
    staff = _token(portal, "staf")
    other = _token(portal, "admin")
    (grant,) = _planned_grants(portal, staff, 1)
    portal.wait_for("up")

    with replay_paused(portal):
        assert requests.post(f"{portal.url}/api/v1/grants/{grant['id']}/approve/", headers=staff, timeout=30).ok
        lagging = portal.wait_for("lagging", timeout=MAX_LAG_SECONDS + 10)
        answer = portal.get(f"/api/v1/grants/{grant['id']}/", headers=other)

    assert lagging["state"] == "lagging" and lagging["lag_seconds"] > MAX_LAG_SECONDS and lagging["lag_bytes"] > 0
    assert answer.status_code == 200 and answer.json()["status"] == "approved"  # the primary answered
    assert "Read replica lagging" in portal.log_text()
    assert portal.wait_for("up")["state"] == "up"


def test_stopping_the_replica_in_the_middle_of_a_run_gives_no_5xx(portal):
    staff = _token(portal, "staf")
    browser = _login(portal, "auditor")
    regency, district = "18.01", "18.01.04"
    reads = [
        (None, None, "/publik/"),
        (None, None, f"/publik/kabupaten/{regency}/"),
        (None, None, f"/publik/kecamatan/{district}/"),
        (None, None, "/publik/data/desa.csv"),
        (None, staff, f"/api/v1/villages/?regency={regency}&page_size=100"),
        (None, staff, f"/api/v1/rollout/?district={district}"),
        (None, staff, f"/api/v1/grants/?regency={regency}&page_size=100"),
        (None, staff, "/api/v1/adoption/?level=regency"),
        (browser, None, "/"),
        (browser, None, f"/dashboard/regencies/{regency}/"),
        (browser, None, f"/dashboard/districts/{district}/"),
    ]
    portal.wait_for("up")
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def client(index: int) -> None:
        turn = index
        while not stop.is_set():
            session, headers, path = reads[turn % len(reads)]
            turn += 1
            try:
                status = portal.get(path, session, headers=headers or {}).status_code
            except requests.RequestException as error:
                status = 0
                with lock:
                    failures.append(f"{path}: {error!r}")
            with lock:
                statuses[status] += 1
                if status >= 500:
                    failures.append(f"{path}: {status}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    before = sum(statuses.values())
    portal.pair.standby.stop(mode=signal.SIGINT)  # by its postmaster's process id
    assert not portal.pair.standby.running()
    time.sleep(4)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == [], failures[:10]
    assert set(statuses) == {200} and sum(statuses.values()) > before > 0
    replica = portal.health()
    assert replica["state"] == "down" and replica["error"]
    assert "Read replica down" in portal.log_text() or "Read replica failed" in portal.log_text()
