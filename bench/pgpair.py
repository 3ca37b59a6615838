"""A PostgreSQL primary and a streaming standby of its own, on loopback, for the replica tests and the load test.

A machine's system cluster refuses replication connections, so this makes its own pair in a temporary folder:
`initdb` a primary, start it on a free port, `pg_basebackup -R` a standby from it and start that on another
port. Both run as the `postgres` OS user when this runs as root (PostgreSQL refuses to run as root), with
their folders owned by it. Each server is started with `pg_ctl start` and stopped by its postmaster's process
id (read from postmaster.pid), so a test can stop the standby in the middle of a run.

    with pg_pair() as pair:
        pair.primary.url("smartvillage")   # postgres://postgres@127.0.0.1:PORT/smartvillage
        pair.standby.stop()
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
OS_USER = "postgres"

# Speed over durability: a throwaway pair for tests (the standby still streams every change).
PRIMARY_SETTINGS = """
listen_addresses = '127.0.0.1'
unix_socket_directories = '{sockets}'
wal_level = replica
max_wal_senders = 5
hot_standby = on
fsync = off
full_page_writes = off
shared_buffers = 64MB
max_connections = 60
log_min_messages = warning
log_line_prefix = '%m [%p] '
"""
HBA = """
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
"""


def available() -> str | None:
    """Why a pair cannot be made here, or None."""
    for program in ("initdb", "pg_ctl", "pg_basebackup", "postgres"):
        if not (BIN / program).exists():
            return f"needs the PostgreSQL 15 programs in {BIN} (Debian: apt install postgresql-15)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            return f"running as root needs an OS user {OS_USER!r} to run the servers as"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", OS_USER, "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(_as_postgres(command), check=True, capture_output=True, text=True, timeout=120, **kwargs)  # noqa: S603


@dataclass
class Server:
    name: str
    directory: Path
    port: int
    sockets: Path

    @property
    def log(self) -> Path:
        return self.directory.parent / f"{self.name}.log"

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> int:
        """Start the postmaster and wait until it accepts connections; returns its process id."""
        options = f"-p {self.port} -k {self.sockets}"
        _run(
            [
                str(BIN / "pg_ctl"),
                "-D",
                str(self.directory),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        return self.pid

    @property
    def pid(self) -> int | None:
        with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
            return int((self.directory / "postmaster.pid").read_text().splitlines()[0])
        return None

    def running(self) -> bool:
        pid = self.pid
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self, *, mode: signal.Signals = signal.SIGINT, timeout: float = 30) -> None:
        """Stop the postmaster by its process id: SIGINT is a fast shutdown (sessions are ended), SIGQUIT an
        immediate one (as a crash)."""
        pid = self.pid
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, mode)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement with psql over loopback TCP; its first row, |-separated."""
        result = subprocess.run(  # noqa: S603
            [
                str(BIN / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-tAc",
                statement,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{self.name}: {statement}: {result.stderr.strip()}")
        return result.stdout.strip()


@dataclass
class Pair:
    primary: Server
    standby: Server

    def wait_replayed(self, timeout: float = 30) -> None:
        """Until the standby has replayed everything the primary had written when asked."""
        target = self.primary.sql("SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.standby.sql(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t":
                return
            time.sleep(0.05)
        raise TimeoutError(f"the standby did not replay up to {target} within {timeout} s")


@contextlib.contextmanager
def pg_pair(*, databases: tuple[str, ...] = ()) -> Iterator[Pair]:
    """A running primary with `databases` created and a streaming standby of it; both stopped and their
    folder removed at the end."""
    reason = available()
    if reason is not None:
        raise RuntimeError(reason)
    root = Path(tempfile.mkdtemp(prefix="smartvillage-pgpair-"))
    sockets = root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        account = pwd.getpwnam(OS_USER)
        for path in (root, sockets):
            os.chown(path, account.pw_uid, account.pw_gid)
    primary = Server("primary", root / "primary", free_port(), sockets)
    standby = Server("standby", root / "standby", free_port(), sockets)
    try:
        _run([str(BIN / "initdb"), "-D", str(primary.directory), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        with (primary.directory / "postgresql.conf").open("a") as conf:
            conf.write(PRIMARY_SETTINGS.format(sockets=sockets))
        _as_owner(primary.directory / "pg_hba.conf", HBA)
        primary.start()
        for database in databases:
            primary.sql(f'CREATE DATABASE "{database}"')
        backup = [str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres", "-R"]
        _run([*backup, "-D", str(standby.directory), "-X", "stream", "-c", "fast"])
        standby.start()
        pair = Pair(primary, standby)
        pair.wait_replayed()
        yield pair
    finally:
        for server in (standby, primary):
            with contextlib.suppress(Exception):
                server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _as_owner(path: Path, text: str) -> None:
    """Write a file of the server's folder, keeping its owner (the postgres OS user)."""
    stat = path.stat()
    path.write_text(text)
    os.chown(path, stat.st_uid, stat.st_gid)
