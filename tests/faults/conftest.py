"""Shared by the fault tests: a PostgreSQL session of the test's own beside the code under test, and a
redis-server of the test's own that it can stop and freeze for real."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import kombu.pools
import psycopg2
import pytest
import redis
from django.db import connection

from smartvillage import celery_app

REDIS_SERVER = shutil.which("redis-server")
# A request still blocked after this long is interrupted, so that a hang fails the test.
HANG_SECONDS = 15


class SideSession:
    """An autocommit connection to the test database, to lock rows and end sessions from outside."""

    def __init__(self):
        self.connection = psycopg2.connect(**connection.get_connection_params())
        self.connection.autocommit = True

    def cursor(self):
        return self.connection.cursor()

    def terminate(self, pid: int) -> None:
        """End the session `pid` as a database restart or a network failure would, and wait until it is gone."""
        with self.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
            assert cursor.fetchone()[0], f"session {pid} did not end within 5 s"


@pytest.fixture
def pg_side() -> Iterator[SideSession]:
    side = SideSession()
    yield side
    side.connection.close()


# --- Redis ----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server process of the test's own, without persistence, on a free port."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    return
            assert self.process.poll() is None, f"redis-server exited with {self.process.returncode}"
            assert time.monotonic() < deadline, "redis-server did not answer within 10 s"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen server must run to exit
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def freeze(self) -> None:
        """Still listening, never answering: a hung server or a half-open network path."""
        self.process.send_signal(signal.SIGSTOP)


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    """A running redis-server of this test's own (skipped without the program, unless REQUIRE_REDIS=1)."""
    if REDIS_SERVER is None:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but redis-server is not installed")
        pytest.skip("needs the redis-server program (Debian: apt install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def forget_celery_connections() -> None:
    # Celery keeps a connection and a producer pool, kombu one per broker URL, and Celery a result
    # backend per thread; dropped, they are rebuilt from the conf at the next use (private attributes:
    # Celery resets the pools the same way after a fork).
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    vars(celery_app._local).pop("backend", None)


@pytest.fixture
def own_redis(redis_server) -> Iterator[RedisServer]:
    """Celery's broker and result store pointed at a running redis-server of this test, as production
    shares one Redis for both; tasks are sent, not run eagerly."""
    server = redis_server
    conf = celery_app.conf
    # Celery reads CELERY_BROKER_URL from the environment before broker_url; the read and write
    # URLs are taken from the conf first.
    urls = ("broker_url", "broker_read_url", "broker_write_url", "result_backend")
    saved = {key: conf.get(key) for key in (*urls, "task_always_eager")}
    forget_celery_connections()
    conf.update(dict.fromkeys(urls, server.url), task_always_eager=False)
    try:
        yield server
    finally:
        forget_celery_connections()
        conf.update(saved)


class Hung(BaseException):
    """Not an Exception: client libraries retry on socket errors and timeouts, never on this."""


def timed(call, *args, **kwargs):
    """(response, seconds) of a request; one still blocked after HANG_SECONDS is interrupted (SIGALRM
    breaks a blocked socket read), so that a hang fails the test instead of stalling the run."""

    def hung(signum, frame):
        raise Hung(f"the request was still blocked after {HANG_SECONDS} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS, 1)  # and every second after, should one be swallowed
    started = time.monotonic()
    try:
        response = call(*args, **kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return response, time.monotonic() - started
