"""Concurrency under load: the portal on gunicorn (loopback) driven by a threaded client, then its invariants.

Usage: DATABASE_URL=postgres://.../smartvillage_load python bench/load.py [--duration 60] [--requests N]
                                                                [--public-seconds 15] [--public-only]

It prepares a realistic state (the Lampung registry, users of every role with API tokens and
browser sessions, a verified report and a status for every village, one active allocation with
planned, approved, paid and cancelled grants), starts gunicorn on a free loopback port and drives
it until the time or the request count runs out, whichever comes first: API and page reads,
officer reports on their own regency (and attempts on other regencies, which must be refused),
verifications, grant moves and disbursements, and races: several threads moving the same grants
at the same moment, with and without the same Idempotency-Key, trying to pay twice. Then it checks
the invariants in the database, prints one table, writes bench/results/load-<time>.json and exits
1 if any request got a 5xx or any invariant broke. Then the public pages' runs (bench/public.py): 16 clients,
the portal on a primary of its own and then with a streaming replica, plain GETs and revalidations (304).

The database is wiped first (flush): its name must contain "load" or "bench", unless --any-database.
gunicorn queues Celery tasks in memory and never runs them (no shared Redis is touched); the driver
recomputes adoption every few seconds instead, as the worker would.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import http.client
import itertools
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_FILE = ROOT / "villages" / "data" / "lampung_regions.csv"
SEED = 11

# The programme's grant (grants.services.GRANT_UNIT_AMOUNT), which every generated grant has.
UNIT = 6_000_000
# An LPJ that leaves this much unspent, to be returned before the grant can close.
UNSPENT = 500_000
PAID = ("disbursed", "accounted", "closed", "returned")

# Scenario -> weight: how often a client thread picks it. Races cost `race_width` requests each.
SCENARIOS = {
    "read_api": 28,
    "read_page": 16,
    "refused": 7,
    "report_submit": 9,
    "report_bulk": 2,
    "report_verify": 6,
    "report_reject": 2,
    "grant_approve": 4,
    "grant_batch_approve": 1,
    "grant_disburse": 5,
    "grant_batch_disburse": 1,
    "grant_cancel": 1,
    "grant_account": 2,
    "grant_return": 1,
    "grant_close": 1,
    "race": 6,
}
RACES = (
    "race_disburse",
    "race_disburse_same_reference",
    "race_disburse_same_key",
    "race_approve",
    "race_batch_approve",
    "race_batch_vs_single",
    "race_cancel_vs_disburse",
    "race_return",
    "race_verify_reject",
    "race_report_same_key",
)


# --- the world the client drives ------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    regency: str | None
    token: str
    session: str


@dataclass
class World:
    """What the client knows of the prepared state: who logs in as whom, and which ids exist."""

    allocation: int
    province: str
    transfer_date: str
    session_cookie: str
    admins: list[Actor]
    staff: list[Actor]
    auditors: list[Actor]
    officers: list[Actor]
    regencies: list[str]
    districts: dict[str, list[str]]  # regency -> district codes
    villages: dict[str, list[str]]  # district -> village codes
    grants: dict[str, list[int]]  # regency -> every grant id
    grant_regency: dict[int, str]
    pools: dict[str, dict[str, list[int]]]  # pool -> regency -> grant ids
    awaiting: list[int]
    meta: dict = field(default_factory=dict)

    @property
    def movers(self) -> list[Actor]:
        """Who may move grants: province staff and administrators."""
        return self.staff + self.admins

    @property
    def reviewers(self) -> list[Actor]:
        """Who may decide any report: the movers but the first staff member, who submitted the prepared
        reports (bench/core.py), and nobody reviews a report they submitted (a 403 by the rules)."""
        return self.staff[1:] + self.admins


def _regions_file(path: Path, regencies: list[str] | None, directory: Path) -> Path:
    """`path`, or a copy holding only the province rows and `regencies` (for a small run)."""
    if not regencies:
        return path
    target = directory / "regions.csv"
    with path.open(newline="", encoding="utf-8") as source, target.open("w", newline="", encoding="utf-8") as out:
        reader = csv.DictReader(source)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
        writer.writeheader()
        writer.writerows(
            row
            for row in reader
            if row["level"] == "province"
            or any(row["code"] == code or row["code"].startswith(f"{code}.") for code in regencies)
        )
    return target


def _pool_of(*, status: str, amount: int, returned: int, spent: int | None) -> str | None:
    """Which scenario can move a grant next, from its state (None: nothing the load test does)."""
    held = amount - returned - (spent or 0)
    if status in ("planned", "approved"):
        return status
    if status == "disbursed" and returned == 0:
        return "disbursed"
    if status == "accounted" and held == 0:
        return "closable"
    if status == "accounted" and held == UNSPENT:
        return "accounted_partial"
    return None


def prepare(*, path: Path, regencies: list[str] | None, secret_key: str, directory: Path) -> World:
    """Load the registry and generate the state through the services (bench/core.py), then the users."""
    from django.conf import settings
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import override_settings
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from accounts.models import Role, User
    from bench.core import _grants_generate, _state_generate
    from grants import services as grant_services
    from grants.models import Grant
    from rollout.models import ProgressReport, ReportStatus
    from rollout.services import adoption_recompute
    from villages.models import Province, Regency, Village
    from villages.services import regions_load

    rng = random.Random(SEED)  # noqa: S311 (reproducible fake data, not secrets)
    start = time.perf_counter()
    regions_load(path=_regions_file(path, regencies, directory))
    province = Province.objects.filter(is_active=True).order_by("code").first()
    regency_ids = dict(
        Regency.objects.filter(province=province, is_active=True).order_by("code").values_list("code", "pk")
    )
    regency_codes = list(regency_ids)

    def user(username: str, role: str, regency: str | None = None) -> User:
        return User.objects.create_user(username=username, role=role, regency_id=regency_ids.get(regency))

    admins = [user(f"load.admin{i}", Role.PROVINCE_ADMIN) for i in (1, 2)]
    staff = [user(f"load.staf{i}", Role.PROVINCE_STAFF) for i in (1, 2, 3)]
    auditors = [user("load.auditor", Role.AUDITOR)]
    # One officer per regency, and a second one for the first regency (two officers reporting on one regency).
    officers = [user(f"load.petugas.{code}", Role.REGENCY_OFFICER, code) for code in regency_codes]
    officers.append(user(f"load.petugas2.{regency_codes[0]}", Role.REGENCY_OFFICER, regency_codes[0]))

    state = _state_generate(staff[0], rng)
    grants = _grants_generate(staff[0], province, rng)
    adoption_recompute()
    allocation = grants["allocation"]

    def actors(users: list[User]) -> list[Actor]:
        result = []
        for account in users:
            client = Client()
            # The session is signed with the server's SECRET_KEY, so it is created under that key.
            with override_settings(SECRET_KEY=secret_key):
                client.force_login(account)
            result.append(
                Actor(
                    username=account.username,
                    role=account.role,
                    regency=account.regency.code if account.regency_id else None,
                    token=Token.objects.create(user=account).key,
                    session=client.cookies[settings.SESSION_COOKIE_NAME].value,
                )
            )
        return result

    villages: dict[str, list[str]] = defaultdict(list)
    districts: dict[str, list[str]] = defaultdict(list)
    active = Village.objects.filter(is_active=True).order_by("code")
    for code, district, regency in active.values_list("code", "district__code", "regency__code"):
        if district not in villages:
            districts[regency].append(district)
        villages[district].append(code)
    by_regency: dict[str, list[int]] = defaultdict(list)
    grant_regency: dict[int, str] = {}
    pools: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    rows = (
        Grant.objects.filter(allocation=allocation)
        .order_by("village__code")
        .values_list("pk", "village__regency__code", "status", "amount", "returned_amount", "spent_amount")
    )
    for pk, regency, status, amount, returned, spent in rows:
        by_regency[regency].append(pk)
        grant_regency[pk] = regency
        pool = _pool_of(status=status, amount=amount, returned=returned, spent=spent)
        if pool:
            pools[pool][regency].append(pk)
    awaiting = list(ProgressReport.objects.filter(status=ReportStatus.AWAITING).values_list("pk", flat=True))
    meta = {
        "villages": Village.objects.filter(is_active=True).count(),
        "regencies": len(regency_codes),
        "state": state,
        "grants_before": dict(
            Grant.objects.filter(allocation=allocation).values_list("status").annotate(n=Count("pk")).order_by()
        ),
        "prepare_s": round(time.perf_counter() - start, 2),
    }
    return World(
        allocation=allocation.pk,
        province=province.code,
        # The latest date the allocation's fiscal year accepts, at most yesterday: a transfer date in
        # the future is refused, and the run may cross midnight.
        transfer_date=min(
            grant_services.transfer_window(fiscal_year=allocation.fiscal_year)[1],
            timezone.localdate() - datetime.timedelta(days=1),
        ).isoformat(),
        session_cookie=settings.SESSION_COOKIE_NAME,
        admins=actors(admins),
        staff=actors(staff),
        auditors=actors(auditors),
        officers=actors(officers),
        regencies=regency_codes,
        districts=dict(districts),
        villages=dict(villages),
        grants=dict(by_regency),
        grant_regency=grant_regency,
        pools={name: dict(by) for name, by in pools.items()},
        awaiting=awaiting,
        meta=meta,
    )


# --- gunicorn -------------------------------------------------------------------------------------


@contextmanager
def gunicorn(
    *, directory: Path, secret_key: str, workers: int, probe: Actor | None, extra_env: dict | None = None
) -> Iterator[tuple[int, Path]]:
    """Serve the portal as in production (DEBUG=0, manifest static files) on a free loopback port.

    Yields (port, log file). A settings module in `directory` moves STATIC_ROOT there, so
    collectstatic never writes into the working tree, and skips whitenoise's compression of the
    vendored files (seconds of CPU): pages still resolve every {% static %} through the manifest.
    `extra_env` overrides the environment (another database, a replica); without a `probe` actor the
    public province page tells when the workers are ready.
    """
    from bench.core import _database_url, _free_port

    (directory / "load_settings.py").write_text(
        "from smartvillage.settings import *  # noqa: F403\n\n"
        f"STATIC_ROOT = {str(directory / 'static')!r}\n"
        'STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}\n'
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(directory), os.environ.get("PYTHONPATH")])),
        "DJANGO_SETTINGS_MODULE": "load_settings",
        "DATABASE_URL": _database_url(),
        "DEBUG": "0",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
        # Tasks go to an in-memory queue nobody reads: no shared Redis, and no recompute inside requests.
        "CELERY_BROKER_URL": "",
        "REDIS_URL": "",
        "CELERY_RESULT_BACKEND": "",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        **(extra_env or {}),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    port = _free_port()
    log = directory / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "smartvillage.wsgi",
                f"--bind=127.0.0.1:{port}",
                f"--workers={workers}",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        http = Http(port)
        deadline = time.monotonic() + 60
        ready = 0
        while ready < workers * 2:  # every worker has loaded Django (a few answers in a row)
            reply = http.send("GET", "/api/v1/regencies/" if probe else "/publik/", actor=probe)
            if reply.status == 200:
                ready += 1
                continue
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError(f"gunicorn did not start: {reply.status} {reply.body}; see {log}")
            time.sleep(0.2)
        yield port, log
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _server_log(log: Path, limit: int = 3) -> tuple[list[str], list[str]]:
    """The first tracebacks Django logged for 500 answers, and the first lines of the log (warnings)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    chunks = text.split("Internal Server Error:")[1:]
    return [("Internal Server Error:" + chunk)[:4000] for chunk in chunks[:limit]], text.splitlines()[:30]


# --- the client -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int  # 0: no answer (connection refused, reset or timed out)
    body: object
    seconds: float
    replayed: bool = False

    @property
    def won(self) -> bool:
        """A first-hand success: a 2xx that is not an idempotent replay."""
        return 200 <= self.status < 300 and not self.replayed


class Http:
    """One connection per request, as gunicorn's sync workers close each one anyway."""

    def __init__(self, port: int, session_cookie: str = "sessionid"):
        self.port = port
        self.session_cookie = session_cookie

    def send(
        self,
        method: str,
        path: str,
        *,
        actor: Actor | None,
        body: object = None,
        key: str | None = None,
        page: bool = False,
    ) -> Reply:
        headers = {}
        if actor is not None and page:
            headers["Cookie"] = f"{self.session_cookie}={actor.session}"
        elif actor is not None:
            headers["Authorization"] = f"Token {actor.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            return Reply(0, repr(error), time.perf_counter() - start)
        finally:
            conn.close()
        seconds = time.perf_counter() - start
        parsed: object = None
        if "json" in (response.getheader("Content-Type") or "") and raw:
            parsed = json.loads(raw)
        elif response.status >= 500:
            parsed = raw[:2000].decode(errors="replace")
        return Reply(response.status, parsed, seconds, response.getheader("Idempotent-Replayed") == "true")


class Budget:
    """Stops the run at the deadline or after `limit` requests, whichever comes first.

    A scenario reserves the most requests it may send before it starts, so the run never
    sends more than `limit`, and counts what it did send; the reservation is then released.
    """

    def __init__(self, *, seconds: float | None, limit: int | None):
        self.deadline = time.monotonic() + seconds if seconds else None
        self.limit = limit
        self.sent = 0
        self.reserved = 0
        self._lock = threading.Lock()

    def _done(self) -> bool:
        timed_out = self.deadline is not None and time.monotonic() >= self.deadline
        return timed_out or (self.limit is not None and self.sent >= self.limit)

    def done(self) -> bool:
        with self._lock:
            return self._done()

    def reserve(self, n: int) -> bool:
        with self._lock:
            if self._done() or (self.limit is not None and self.sent + self.reserved + n > self.limit):
                return False
            self.reserved += n
            return True

    def release(self, n: int) -> None:
        with self._lock:
            self.reserved -= n

    def count(self) -> None:
        with self._lock:
            self.sent += 1


class Pools:
    """Grant ids by what can happen to them next (and regency), and reports awaiting verification.

    Each id is handed to one scenario at a time, so ordinary traffic never collides by accident:
    the only collisions are the deliberate races, which take an id and hit it from several threads.
    """

    def __init__(self, grants: dict[str, dict[str, list[int]]], reports: list[int]):
        self._lock = threading.Lock()
        self._grants: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for pool, by_regency in grants.items():
            for regency, ids in by_regency.items():
                self._grants[pool][regency].extend(ids)
        self._reports = list(reports)

    def take(self, pool: str, n: int, rng: random.Random) -> tuple[str, list[int]] | None:
        """`n` grants of one regency from `pool`, or None if no regency has that many."""
        with self._lock:
            regencies = sorted(code for code, ids in self._grants[pool].items() if len(ids) >= n)
            if not regencies:
                return None
            regency = rng.choice(regencies)
            ids = self._grants[pool][regency]
            return regency, [ids.pop(rng.randrange(len(ids))) for _ in range(n)]

    def take_up_to(self, pool: str, n: int, rng: random.Random, *, at_least: int = 1):
        for size in range(n, at_least - 1, -1):
            taken = self.take(pool, size, rng)
            if taken:
                return taken
        return None

    def put(self, pool: str | None, regency: str, ids: list[int]) -> None:
        if pool:
            with self._lock:
                self._grants[pool][regency].extend(ids)

    def take_report(self, rng: random.Random) -> int | None:
        with self._lock:
            return self._reports.pop(rng.randrange(len(self._reports))) if self._reports else None

    def put_report(self, report: int) -> None:
        with self._lock:
            self._reports.append(report)

    def peek_report(self, rng: random.Random) -> int | None:
        with self._lock:
            return rng.choice(self._reports) if self._reports else None


class Recorder:
    """Every answer by kind: status codes, latencies, and the ones that were not what the rules say."""

    SAMPLES = 50  # kept of each kind of trouble; all are counted

    def __init__(self):
        self._lock = threading.Lock()
        self.trouble: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.by_kind: dict[str, Counter[int]] = defaultdict(Counter)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.unexpected: list[dict] = []
        self.server_errors: list[dict] = []
        self.no_answer: list[dict] = []
        self.refused_accepted: list[dict] = []

    def record(self, kind: str, method: str, path: str, reply: Reply, expect: set[int], body: object) -> None:
        sample = {"kind": kind, "method": method, "path": path, "status": reply.status, "request": body}
        with self._lock:
            self.statuses[reply.status] += 1
            self.by_kind[kind][reply.status] += 1
            self.latencies[kind].append(reply.seconds)
            if reply.status == 0:
                self._keep("no_answer", self.no_answer, {**sample, "error": reply.body})
            elif reply.status >= 500:
                self._keep("server_errors", self.server_errors, {**sample, "response": reply.body})
            if kind == "refused" and 200 <= reply.status < 300:
                self._keep("refused_accepted", self.refused_accepted, {**sample, "response": reply.body})
            if reply.status not in expect:
                self._keep(
                    "unexpected", self.unexpected, {**sample, "expected": sorted(expect), "response": reply.body}
                )

    def _keep(self, name: str, samples: list[dict], sample: dict) -> None:
        self.trouble[name] += 1
        if len(samples) < self.SAMPLES:
            samples.append(sample)


def _report_body(rng: random.Random, note: str = "") -> dict:
    """A valid progress report: a village blocked by no signal never claims sufficient signal."""
    blocked = rng.random() < 0.1
    live = not blocked and rng.random() < 0.8
    pillars = ["not_started", "in_progress", "live"]
    return {
        "pillar1": "live" if live else rng.choice(pillars[:2]),
        "pillar2": rng.choice(pillars),
        "pillar3": rng.choice(pillars),
        "signal": "none" if blocked else rng.choice(["3g", "4g", "broadband", "satellite"]),
        "signal_sufficient": not blocked,
        "blocker": "no_signal" if blocked else ("" if live else rng.choice(["no_devices", "no_operator", "budget"])),
        "note": note or f"load report {rng.randrange(10**6)}",
    }


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))]


class Driver:
    """The client threads, their scenarios and races, and what they observed."""

    def __init__(self, world: World, http: Http, budget: Budget, *, race_width: int, seed: int):
        self.world = world
        self.http = http
        self.budget = budget
        self.width = race_width
        self.seed = seed
        self.recorder = Recorder()
        self.pools = Pools(world.pools, world.awaiting)
        self.stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d%H%M%S")
        self._references = itertools.count(1)
        self._race_turns = itertools.count()
        self._lock = threading.Lock()
        self.payments: Counter[int] = Counter()  # grant -> first-hand successful disbursements seen
        self.races: list[dict] = []
        self.replay_mismatches: list[dict] = []
        self.keyed_reports = 0
        self.recomputes: list[float] = []
        self.recompute_errors: list[str] = []

    # --- plumbing ---------------------------------------------------------------------------------

    def call(
        self,
        kind: str,
        method: str,
        path: str,
        *,
        actor: Actor | None,
        expect: set[int],
        body: object = None,
        key: str | None = None,
        page: bool = False,
    ) -> Reply:
        reply = self.http.send(method, path, actor=actor, body=body, key=key, page=page)
        self.recorder.record(kind, method, path, reply, expect, body)
        self.budget.count()
        return reply

    def reference(self) -> str:
        with self._lock:
            return f"SP2D/LOAD/{self.stamp}/{next(self._references):06d}"

    def disburse_body(self) -> dict:
        return {"reference": self.reference(), "transfer_date": self.world.transfer_date}

    def paid(self, reply: Reply, grants: list[int]) -> None:
        """Count a first-hand successful disbursement of `grants` (a batch answers with its grant ids)."""
        if not reply.won:
            return
        paid = reply.body.get("grants", grants) if isinstance(reply.body, dict) else grants
        with self._lock:
            self.payments.update(paid)

    def together(self, calls: list[Callable[[], Reply]]) -> list[Reply]:
        """Send every call at the same moment, each from its own thread."""
        barrier = threading.Barrier(len(calls), timeout=60)
        replies: list[Reply | None] = [None] * len(calls)

        def send(index: int, call: Callable[[], Reply]) -> None:
            barrier.wait()
            replies[index] = call()

        threads = [threading.Thread(target=send, args=(i, call)) for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return replies

    def judge(self, kind: str, subject: object, replies: list[Reply], *, winners: int, why: str = "") -> None:
        """Record a race: it passes when exactly `winners` requests succeeded first-hand."""
        won = sum(reply.won for reply in replies)
        ok = won == winners and not why
        entry = {
            "kind": kind,
            "subject": subject,
            "statuses": [reply.status for reply in replies],
            "replayed": sum(reply.replayed for reply in replies),
            "winners": won,
            "expected_winners": winners,
            "ok": ok,
        }
        if why or won != winners:
            entry["why"] = why or f"{won} winners, expected {winners}"
        with self._lock:
            self.races.append(entry)

    def same_answers(self, kind: str, replies: list[Reply]) -> str:
        """Replays of one Idempotency-Key must repeat the first answer exactly."""
        bodies = {json.dumps(reply.body, sort_keys=True) for reply in replies if 200 <= reply.status < 300}
        if len(bodies) > 1:
            with self._lock:
                self.replay_mismatches.append({"kind": kind, "bodies": sorted(bodies)[:2]})
            return "replays differ from the first answer"
        return ""

    def read_back(self, grants: list[int]) -> None:
        """After a race: the grants' state as the API tells it, and back into the pool that fits."""
        for grant in grants:
            reply = self.call(
                "race_readback", "GET", f"/api/v1/grants/{grant}/", actor=self.world.staff[0], expect={200}
            )
            if reply.status == 200:
                body = reply.body
                pool = _pool_of(
                    status=body["status"],
                    amount=body["amount"],
                    returned=body["returned_amount"],
                    spent=body["spent_amount"],
                )
                self.pools.put(pool, self.world.grant_regency[grant], [grant])

    def movers(self, n: int, rng: random.Random) -> list[Actor]:
        movers = self.world.movers
        return rng.sample(movers, n) if n <= len(movers) else [movers[i % len(movers)] for i in range(n)]

    def officer(self, rng: random.Random) -> Actor:
        return rng.choice(self.world.officers)

    def village_of(self, regency: str, rng: random.Random) -> tuple[str, str]:
        district = rng.choice(self.world.districts[regency])
        return district, rng.choice(self.world.villages[district])

    # --- reads ------------------------------------------------------------------------------------

    def reader(self, rng: random.Random) -> tuple:
        """A reader of any role and the objects of its regency to ask about: (actor, regency, district,
        village, grant, allocation)."""
        actor = rng.choice(self.world.officers + self.world.movers + self.world.auditors)
        regency = actor.regency or rng.choice(self.world.regencies)
        district, village = self.village_of(regency, rng)
        return actor, regency, district, village, rng.choice(self.world.grants[regency]), self.world.allocation

    def read_api(self, rng: random.Random) -> bool:
        actor, regency, district, village, grant, a = self.reader(rng)
        path = rng.choice(
            [
                "/api/v1/regencies/",
                f"/api/v1/districts/?regency={regency}",
                f"/api/v1/villages/?regency={regency}&page_size=100",
                f"/api/v1/villages/{village}/",
                f"/api/v1/rollout/?regency={regency}&page_size=100",
                f"/api/v1/rollout/?district={district}&adopted=false",
                f"/api/v1/rollout/{village}/",
                "/api/v1/allocations/",
                f"/api/v1/allocations/{a}/ledger/?level=regency",
                f"/api/v1/allocations/{a}/ledger/?level=district&regency={regency}",
                f"/api/v1/grants/?allocation={a}&regency={regency}&page_size=100",
                f"/api/v1/grants/?allocation={a}&status=approved",
                f"/api/v1/grants/{grant}/",
                "/api/v1/reports/?status=awaiting",
                f"/api/v1/reports/?regency={regency}",
                "/api/v1/adoption/?level=regency",
                f"/api/v1/adoption/?level=district&parent={regency}",
                f"/api/v1/adoption/history/?code={regency}",
                f"/api/v1/paid-not-live/?allocation={a}",
            ]
        )
        self.call("read_api", "GET", path, actor=actor, expect={200})
        return True

    def read_page(self, rng: random.Random) -> bool:
        actor, regency, district, village, grant, a = self.reader(rng)
        path = rng.choice(
            [
                "/",
                f"/dashboard/regencies/{regency}/",
                f"/dashboard/districts/{district}/",
                f"/dashboard/villages/{village}/",
                "/grants/",
                f"/grants/{a}/",
                f"/grants/{a}/regencies/{regency}/",
                f"/grants/{a}/grants/?status=approved&regency={regency}",
                f"/grants/grant/{grant}/",
                f"/grants/{a}/ledger/export/?file=csv&level=district",
                "/rollout/reports/",
            ]
        )
        self.call("read_page", "GET", path, actor=actor, expect={200}, page=True)
        return True

    def refused(self, rng: random.Random) -> bool:
        """Something the access policy forbids: every one must be refused (and change nothing)."""
        officer = self.officer(rng)
        foreign = [code for code in self.world.regencies if code != officer.regency]
        _district, own_village = self.village_of(officer.regency, rng)
        any_grant = rng.choice(self.world.grants[rng.choice(self.world.regencies)])
        report = self.pools.peek_report(rng)
        a = self.world.allocation
        staff, auditor = rng.choice(self.world.staff), rng.choice(self.world.auditors)
        cases: list[tuple[str, str, Actor | None, object, set[int], bool]] = [
            ("POST", f"/api/v1/grants/{any_grant}/disburse/", officer, self.disburse_body(), {403}, False),
            ("POST", f"/api/v1/grants/{any_grant}/approve/", auditor, {}, {403}, False),
            ("POST", f"/api/v1/rollout/{own_village}/reports/", staff, _report_body(rng), {403}, False),
            ("PATCH", f"/api/v1/rollout/{own_village}/", officer, _report_body(rng), {403}, False),
            ("POST", f"/api/v1/allocations/{a}/batch/disburse/", officer, {"regency": officer.regency}, {403}, False),
            ("GET", "/api/v1/grants/", None, None, {401}, False),
        ]
        if report is not None:
            cases.append(("POST", f"/api/v1/reports/{report}/verify/", officer, None, {403}, False))
        if foreign:
            regency = rng.choice(foreign)
            district, village = self.village_of(regency, rng)
            grant = rng.choice(self.world.grants[regency])
            body = _report_body(rng)
            cases += [
                ("POST", f"/api/v1/rollout/{village}/reports/", officer, body, {403, 404}, False),
                # The bulk endpoint finds the district, then the service refuses the rows (400, row errors).
                (
                    "POST",
                    "/api/v1/reports/bulk/",
                    officer,
                    {"district": district, "reports": [{"village": village, **body}]},
                    {400, 403, 404},
                    False,
                ),
                ("GET", f"/api/v1/rollout/{village}/", officer, None, {404}, False),
                ("GET", f"/api/v1/grants/{grant}/", officer, None, {404}, False),
                ("GET", f"/dashboard/regencies/{regency}/", officer, None, {404}, True),
                ("GET", f"/dashboard/villages/{village}/", officer, None, {404}, True),
                ("GET", f"/grants/{a}/regencies/{regency}/", officer, None, {404}, True),
            ]
        method, path, actor, body, expect, page = rng.choice(cases)
        self.call("refused", method, path, actor=actor, expect=expect, body=body, page=page)
        return True

    # --- reports ----------------------------------------------------------------------------------

    def report_submit(self, rng: random.Random) -> bool:
        officer = self.officer(rng)
        _district, village = self.village_of(officer.regency, rng)
        key = f"load-{uuid.uuid4()}" if rng.random() < 0.25 else None
        body = _report_body(rng, note=f"load {key}" if key else "")
        reply = self.call(
            "report_submit",
            "POST",
            f"/api/v1/rollout/{village}/reports/",
            actor=officer,
            body=body,
            key=key,
            expect={201},
        )
        if reply.status == 201:
            self.pools.put_report(reply.body["id"])
            if key:
                with self._lock:
                    self.keyed_reports += 1
        return True

    def report_bulk(self, rng: random.Random) -> bool:
        officer = self.officer(rng)
        district = rng.choice(self.world.districts[officer.regency])
        villages = rng.sample(self.world.villages[district], min(5, len(self.world.villages[district])))
        body = {"district": district, "reports": [{"village": code, **_report_body(rng)} for code in villages]}
        reply = self.call("report_bulk", "POST", "/api/v1/reports/bulk/", actor=officer, body=body, expect={201})
        if reply.status == 201:
            for row in reply.body:
                self.pools.put_report(row["id"])
        return True

    def report_verify(self, rng: random.Random, *, reject: bool = False) -> bool:
        report = self.pools.take_report(rng)
        if report is None:
            return False
        if reject:
            path, body = f"/api/v1/reports/{report}/reject/", {"reason": "Bukti tidak lengkap (uji beban)."}
        else:
            path, body = f"/api/v1/reports/{report}/verify/", None
        kind = "report_reject" if reject else "report_verify"
        self.call(kind, "POST", path, actor=rng.choice(self.world.reviewers), body=body, expect={200})
        return True

    def report_reject(self, rng: random.Random) -> bool:
        return self.report_verify(rng, reject=True)

    # --- grants -----------------------------------------------------------------------------------

    def _grant_action(
        self, rng: random.Random, *, kind: str, pool: str, action: str, body: dict, next_pool: str | None
    ) -> bool:
        taken = self.pools.take(pool, 1, rng)
        if taken is None:
            return False
        regency, [grant] = taken
        key = f"load-{uuid.uuid4()}" if rng.random() < 0.2 else None
        reply = self.call(
            kind,
            "POST",
            f"/api/v1/grants/{grant}/{action}/",
            actor=rng.choice(self.world.movers),
            body=body,
            key=key,
            expect={200},
        )
        if action == "disburse":
            self.paid(reply, [grant])
        if reply.status == 200:  # anything else is already counted as unexpected: leave that grant alone
            self.pools.put(next_pool, regency, [grant])
        return True

    def grant_approve(self, rng: random.Random) -> bool:
        return self._grant_action(
            rng, kind="grant_approve", pool="planned", action="approve", body={}, next_pool="approved"
        )

    def grant_disburse(self, rng: random.Random) -> bool:
        return self._grant_action(
            rng,
            kind="grant_disburse",
            pool="approved",
            action="disburse",
            body=self.disburse_body(),
            next_pool="disbursed",
        )

    def grant_cancel(self, rng: random.Random) -> bool:
        pool = rng.choice(["planned", "approved"])
        return self._grant_action(rng, kind="grant_cancel", pool=pool, action="cancel", body={}, next_pool=None)

    def grant_account(self, rng: random.Random) -> bool:
        unspent = rng.choice([0, 0, UNSPENT])
        return self._grant_action(
            rng,
            kind="grant_account",
            pool="disbursed",
            action="account",
            body={"spent_amount": UNIT - unspent, "note": "LPJ (uji beban)"},
            next_pool="accounted_partial" if unspent else "closable",
        )

    def grant_return(self, rng: random.Random) -> bool:
        return self._grant_action(
            rng,
            kind="grant_return",
            pool="accounted_partial",
            action="return",
            body={"amount": UNSPENT, "reference": f"STS/{self.reference()}"},
            next_pool="closable",
        )

    def grant_close(self, rng: random.Random) -> bool:
        return self._grant_action(rng, kind="grant_close", pool="closable", action="close", body={}, next_pool=None)

    def _batch(self, rng: random.Random, *, action: str, pool: str, next_pool: str) -> bool:
        taken = self.pools.take_up_to(pool, rng.randint(3, 10), rng)
        if taken is None:
            return False
        regency, grants = taken
        body = {"regency": regency, "grant_ids": grants}
        if action == "disburse":
            body |= self.disburse_body()
        reply = self.call(
            f"grant_batch_{action}",
            "POST",
            f"/api/v1/allocations/{self.world.allocation}/batch/{action}/",
            actor=rng.choice(self.world.movers),
            body=body,
            expect={200},
        )
        if action == "disburse":
            self.paid(reply, grants)
        if reply.status == 200:
            self.pools.put(next_pool, regency, grants)
        return True

    def grant_batch_approve(self, rng: random.Random) -> bool:
        return self._batch(rng, action="approve", pool="planned", next_pool="approved")

    def grant_batch_disburse(self, rng: random.Random) -> bool:
        return self._batch(rng, action="disburse", pool="approved", next_pool="disbursed")

    # --- races: several threads, one grant (or report), the same moment ---------------------------

    def race(self, rng: random.Random) -> bool:
        with self._lock:
            turn = next(self._race_turns) % len(RACES)
        # Each kind in turn; when its grants or reports have run out, the next one.
        return any(getattr(self, kind)(rng) for kind in RACES[turn:] + RACES[:turn])

    def _single_grant_race(
        self,
        rng: random.Random,
        kind: str,
        pool: str,
        calls: Callable[[int], list[tuple[Actor, str, dict, str | None]]],
        *,
        expect: set[int],
        winners: int = 1,
    ) -> bool:
        taken = self.pools.take(pool, 1, rng)
        if taken is None:
            return False
        _regency, [grant] = taken
        plan = calls(grant)
        replies = self.together(
            [
                lambda actor=actor, action=action, body=body, key=key: self.call(
                    kind, "POST", f"/api/v1/grants/{grant}/{action}/", actor=actor, body=body, key=key, expect=expect
                )
                for actor, action, body, key in plan
            ]
        )
        for (_actor, action, _body, _key), reply in zip(plan, replies, strict=True):
            if action == "disburse":
                self.paid(reply, [grant])
        keyed = [reply for (_a, _ac, _b, key), reply in zip(plan, replies, strict=True) if key]
        self.judge(kind, grant, replies, winners=winners, why=self.same_answers(kind, keyed))
        self.read_back([grant])
        return True

    def race_disburse(self, rng: random.Random) -> bool:
        """Pay one grant from several threads, each with its own SP2D reference."""
        return self._single_grant_race(
            rng,
            "race_disburse",
            "approved",
            lambda _g: [(actor, "disburse", self.disburse_body(), None) for actor in self.movers(self.width, rng)],
            expect={200, 409},
        )

    def race_disburse_same_reference(self, rng: random.Random) -> bool:
        """Pay one grant from several users at once with one SP2D reference (a double-clicked transfer)."""
        body = self.disburse_body()
        return self._single_grant_race(
            rng,
            "race_disburse_same_reference",
            "approved",
            lambda _g: [(actor, "disburse", body, None) for actor in self.movers(self.width, rng)],
            expect={200, 400, 409},
        )

    def race_disburse_same_key(self, rng: random.Random) -> bool:
        """One user repeats a payment with the same Idempotency-Key while another pays the same grant."""
        actor, rival = self.movers(2, rng)
        key, body = f"load-{uuid.uuid4()}", self.disburse_body()
        repeats = max(1, self.width - 1)
        return self._single_grant_race(
            rng,
            "race_disburse_same_key",
            "approved",
            lambda _g: [(actor, "disburse", body, key)] * repeats + [(rival, "disburse", self.disburse_body(), None)],
            expect={200, 409},
        )

    def race_approve(self, rng: random.Random) -> bool:
        """Approve one grant from several threads, two of them one user with one Idempotency-Key."""
        first, *others = self.movers(max(1, self.width - 1), rng)
        key = f"load-{uuid.uuid4()}"
        return self._single_grant_race(
            rng,
            "race_approve",
            "planned",
            lambda _g: [(first, "approve", {}, key)] * 2 + [(actor, "approve", {}, None) for actor in others],
            expect={200, 409},
        )

    def race_cancel_vs_disburse(self, rng: random.Random) -> bool:
        """Cancel a grant while others pay it: either it is cancelled or paid once, never both."""
        canceller, *payers = self.movers(self.width, rng)
        return self._single_grant_race(
            rng,
            "race_cancel_vs_disburse",
            "approved",
            lambda _g: (
                [(canceller, "cancel", {}, None)]
                + [(actor, "disburse", self.disburse_body(), None) for actor in payers]
            ),
            expect={200, 409},
        )

    def race_return(self, rng: random.Random) -> bool:
        """Several returns of half the grant at once: exactly two fit, the grant ends returned."""
        return self._single_grant_race(
            rng,
            "race_return",
            "disbursed",
            lambda _g: [
                (actor, "return", {"amount": UNIT // 2, "reference": f"STS/{self.reference()}"}, None)
                for actor in self.movers(self.width, rng)
            ],
            expect={200, 400, 409},
            winners=min(2, self.width),
        )

    def _batch_race(self, rng: random.Random, *, action: str, pool: str) -> tuple[str, list[int], str] | None:
        taken = self.pools.take_up_to(pool, 3, rng, at_least=2)
        if taken is None:
            return None
        regency, grants = taken
        return regency, grants, f"/api/v1/allocations/{self.world.allocation}/batch/{action}/"

    def race_batch_approve(self, rng: random.Random) -> bool:
        """The same batch approved by several users at once: all or nothing, once."""
        taken = self._batch_race(rng, action="approve", pool="planned")
        if taken is None:
            return False
        regency, grants, path = taken
        body = {"regency": regency, "grant_ids": grants}
        replies = self.together(
            [
                lambda actor=actor: self.call(
                    "race_batch_approve", "POST", path, actor=actor, body=body, expect={200, 409}
                )
                for actor in self.movers(self.width, rng)
            ]
        )
        self.judge("race_batch_approve", grants, replies, winners=1)
        self.read_back(grants)
        return True

    def race_batch_vs_single(self, rng: random.Random) -> bool:
        """A regency's batch payment while single payments hit the same grants: each grant paid once."""
        taken = self._batch_race(rng, action="disburse", pool="approved")
        if taken is None:
            return False
        regency, grants, path = taken
        batcher, *payers = self.movers(len(grants) + 1, rng)
        batch_body = {"regency": regency, "grant_ids": grants, **self.disburse_body()}
        calls = [
            lambda: self.call("race_batch_vs_single", "POST", path, actor=batcher, body=batch_body, expect={200, 409})
        ]
        calls += [
            lambda grant=grant, actor=actor: self.call(
                "race_batch_vs_single",
                "POST",
                f"/api/v1/grants/{grant}/disburse/",
                actor=actor,
                body=self.disburse_body(),
                expect={200, 409},
            )
            for grant, actor in zip(grants, payers, strict=True)
        ]
        replies = self.together(calls)
        batch, singles = replies[0], replies[1:]
        self.paid(batch, grants)
        for grant, reply in zip(grants, singles, strict=True):
            self.paid(reply, [grant])
        why = ""
        if batch.won and any(reply.won for reply in singles):
            why = "the batch and a single payment both succeeded"
        elif not any(reply.won for reply in replies):
            why = "nobody paid"
        winners = sum(reply.won for reply in replies)
        self.judge("race_batch_vs_single", grants, replies, winners=winners, why=why)
        self.read_back(grants)
        return True

    def race_verify_reject(self, rng: random.Random) -> bool:
        """Verify and reject one report at once: decided once, by whoever came first."""
        report = self.pools.take_report(rng)
        if report is None:
            return False
        calls = []
        reviewers = self.world.reviewers
        chosen = rng.sample(reviewers, self.width) if self.width <= len(reviewers) else reviewers * self.width
        for index, actor in enumerate(chosen[: self.width]):
            reject = index % 3 == 2
            path = f"/api/v1/reports/{report}/{'reject' if reject else 'verify'}/"
            body = {"reason": "Dobel (uji beban)."} if reject else None
            calls.append(
                lambda path=path, actor=actor, body=body: self.call(
                    "race_verify_reject", "POST", path, actor=actor, body=body, expect={200, 409}
                )
            )
        self.judge("race_verify_reject", report, self.together(calls), winners=1)
        return True

    def race_report_same_key(self, rng: random.Random) -> bool:
        """An officer's report sent several times at once with one Idempotency-Key: one report."""
        officer = self.officer(rng)
        _district, village = self.village_of(officer.regency, rng)
        key = f"load-{uuid.uuid4()}"
        body = _report_body(rng, note=f"load {key}")
        path = f"/api/v1/rollout/{village}/reports/"
        replies = self.together(
            [
                lambda: self.call("race_report_same_key", "POST", path, actor=officer, body=body, key=key, expect={201})
                for _ in range(self.width)
            ]
        )
        self.judge("race_report_same_key", village, replies, winners=1, why=self.same_answers("report", replies))
        first = next((reply for reply in replies if reply.won), None)
        if first is not None:
            self.pools.put_report(first.body["id"])
            with self._lock:
                self.keyed_reports += 1
        return True

    # --- the run ----------------------------------------------------------------------------------

    def cost(self, scenario: str) -> int:
        """The most requests `scenario` may send: races send `race_width` (the batch races up to
        seven: a batch and three single payments), then read their grants back."""
        return max(self.width + 3, 7) if scenario == "race" else 1

    def client(self, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)  # noqa: S311 (reproducible traffic, not secrets)
        names, weights = list(SCENARIOS), list(SCENARIOS.values())
        while not self.budget.done():
            scenario = rng.choices(names, weights)[0]
            cost = self.cost(scenario)
            if not self.budget.reserve(cost):
                if cost == 1:  # not even one request fits: the others are finishing the budget
                    break
                continue
            try:
                getattr(self, scenario)(rng)
            finally:
                self.budget.release(cost)

    def recompute(self, stop: threading.Event, every: float) -> None:
        """What the Celery worker would do meanwhile: recompute adoption now and then."""
        from django.db import DatabaseError, connection

        from rollout.tasks import recompute_adoption

        try:
            while not stop.wait(every):
                start = time.perf_counter()
                try:
                    recompute_adoption()
                except DatabaseError as error:
                    self.recompute_errors.append(repr(error))
                self.recomputes.append(time.perf_counter() - start)
        finally:
            connection.close()

    def drive(self, *, clients: int, recompute_every: float) -> float:
        stop = threading.Event()
        worker = threading.Thread(target=self.recompute, args=(stop, recompute_every))
        worker.start()
        start = time.perf_counter()
        threads = [threading.Thread(target=self.client, args=(i,)) for i in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        stop.set()
        worker.join()
        return elapsed


# --- invariants -----------------------------------------------------------------------------------

# Each query counts violations (0 expected) or a difference of amounts (0 expected).
INVARIANTS = {
    "every paid grant has exactly one disbursement event, others none": """
        SELECT count(*) FROM grants_grant g
        LEFT JOIN (SELECT grant_id, count(*) AS n FROM grants_grantevent WHERE action = 'disburse'
                   GROUP BY grant_id) e ON e.grant_id = g.id
        WHERE g.allocation_id = %(a)s
          AND coalesce(e.n, 0) <> CASE WHEN g.status = ANY(%(paid)s) THEN 1 ELSE 0 END""",
    "grants paid twice (more than one disbursement event)": """
        SELECT count(*) FROM (
            SELECT e.grant_id FROM grants_grantevent e JOIN grants_grant g ON g.id = e.grant_id
            WHERE g.allocation_id = %(a)s AND e.action = 'disburse' GROUP BY e.grant_id HAVING count(*) > 1) d""",
    "no duplicate event for the same transition (partial returns aside)": """
        SELECT count(*) FROM (
            SELECT 1 FROM grants_grantevent e JOIN grants_grant g ON g.id = e.grant_id
            WHERE g.allocation_id = %(a)s AND e.action <> 'return'
            GROUP BY e.grant_id, e.action, e.from_status, e.to_status HAVING count(*) > 1) d""",
    # Every write to a grant holds the allocation's row lock, so event ids follow the order of the moves.
    "each grant's events form one chain that ends in its status": """
        WITH e AS (
            SELECT e.grant_id, e.from_status, e.to_status,
                   lag(e.to_status) OVER (PARTITION BY e.grant_id ORDER BY e.id) AS previous,
                   row_number() OVER (PARTITION BY e.grant_id ORDER BY e.id DESC) AS from_end
            FROM grants_grantevent e JOIN grants_grant g ON g.id = e.grant_id WHERE g.allocation_id = %(a)s)
        SELECT (SELECT count(*) FROM e WHERE e.from_status <> coalesce(e.previous, ''))
             + (SELECT count(*) FROM e JOIN grants_grant g ON g.id = e.grant_id
                WHERE e.from_end = 1 AND e.to_status <> g.status)
             + (SELECT count(*) FROM grants_grant g WHERE g.allocation_id = %(a)s
                AND NOT EXISTS (SELECT 1 FROM grants_grantevent x WHERE x.grant_id = g.id))""",
    "committed amount minus the sum of non-cancelled grants (Rp)": """
        SELECT a.committed_amount - coalesce(
            (SELECT sum(amount) FROM grants_grant WHERE allocation_id = a.id AND status <> 'cancelled'), 0)
        FROM grants_allocation a WHERE a.id = %(a)s""",
    "allocations committed beyond their total": """
        SELECT count(*) FROM grants_allocation WHERE id = %(a)s AND committed_amount > total_amount""",
    "disbursements total minus the paid grants' amounts (Rp)": """
        SELECT (SELECT coalesce(sum(amount), 0) FROM grants_disbursement WHERE allocation_id = %(a)s)
             - (SELECT coalesce(sum(amount), 0) FROM grants_grant
                WHERE allocation_id = %(a)s AND disbursement_id IS NOT NULL)""",
    "disbursements whose amount is not their grants' (or with no grant)": """
        SELECT count(*) FROM grants_disbursement d
        LEFT JOIN (SELECT disbursement_id, sum(amount) AS s FROM grants_grant GROUP BY disbursement_id) g
               ON g.disbursement_id = d.id
        WHERE d.allocation_id = %(a)s AND d.amount IS DISTINCT FROM g.s""",
    "grants paid without a disbursement, or unpaid with one": """
        SELECT count(*) FROM grants_grant WHERE allocation_id = %(a)s
          AND (status = ANY(%(paid)s)) <> (disbursement_id IS NOT NULL)""",
    "grants whose returned or spent amount differs from their events": """
        SELECT count(*) FROM grants_grant g
        LEFT JOIN (SELECT grant_id, sum(amount) AS s FROM grants_grantevent WHERE action = 'return'
                   GROUP BY grant_id) r ON r.grant_id = g.id
        LEFT JOIN (SELECT grant_id, max(amount) AS s FROM grants_grantevent WHERE action = 'account'
                   GROUP BY grant_id) c ON c.grant_id = g.id
        WHERE g.allocation_id = %(a)s
          AND (g.returned_amount <> coalesce(r.s, 0) OR g.spent_amount IS DISTINCT FROM c.s)""",
    "officer reports on a village outside the officer's regency": """
        SELECT count(*) FROM rollout_progressreport r
        JOIN accounts_user u ON u.id = r.submitted_by_id
        JOIN villages_village v ON v.id = r.village_id
        WHERE u.role = 'regency_officer' AND v.regency_id IS DISTINCT FROM u.regency_id""",
    "village statuses not from a verified report of the same village": """
        SELECT count(*) FROM rollout_villagestatus s
        JOIN rollout_progressreport r ON r.id = s.last_report_id
        WHERE r.status <> 'verified' OR r.village_id <> s.village_id""",
    "reports created twice from one Idempotency-Key": """
        SELECT count(*) FROM (SELECT note FROM rollout_progressreport WHERE note LIKE 'load load-%%'
                              GROUP BY note HAVING count(*) > 1) d""",
    "idempotency keys stored without their response": """
        SELECT count(*) FROM accounts_idempotencykey WHERE response_status IS NULL""",
}


def check_invariants(*, allocation: int, ledger: dict | None, keyed_reports: int) -> list[dict]:
    """The rules, checked in the database after the run; each check passes at its expected value."""
    from django.db import connection

    from rollout.models import AdoptionSnapshot, ProgressReport, ReportStatus, SnapshotLevel
    from rollout.services import adoption_recompute
    from villages.models import Village

    checks = []

    def check(name: str, value: object, expected: object) -> None:
        checks.append({"name": name, "value": value, "expected": expected, "passed": value == expected})

    with connection.cursor() as cursor:
        for name, sql in INVARIANTS.items():
            cursor.execute(sql, {"a": allocation, "paid": list(PAID)})
            check(name, cursor.fetchone()[0], 0)
        cursor.execute("SELECT count(*) FROM rollout_progressreport WHERE note LIKE 'load load-%%'", {})
        check("reports sent with an Idempotency-Key, one each", cursor.fetchone()[0], keyed_reports)
        cursor.execute(
            """SELECT count(*) FILTER (WHERE status <> 'cancelled'),
                      coalesce(sum(amount) FILTER (WHERE status <> 'cancelled'), 0),
                      coalesce(sum(amount) FILTER (WHERE status = ANY(%(paid)s)), 0),
                      coalesce(sum(returned_amount), 0), coalesce(sum(spent_amount), 0)
               FROM grants_grant WHERE allocation_id = %(a)s""",
            {"a": allocation, "paid": list(PAID)},
        )
        database = dict(zip(("units", "planned", "disbursed", "returned", "accounted"), cursor.fetchone(), strict=True))
    api = {name: (ledger or {}).get("totals", {}).get(name) for name in database}
    check("ledger API totals that differ from the database", [k for k in database if api[k] != database[k]], [])

    adoption_recompute()
    snapshot = AdoptionSnapshot.objects.filter(level=SnapshotLevel.PROVINCE).order_by("-date").first()
    active = Village.objects.filter(is_active=True)
    figures = {
        "adopted_units": active.filter(rollout__pillar1="live").count(),
        "awaiting_verification": ProgressReport.objects.filter(
            status=ReportStatus.AWAITING, village__is_active=True
        ).count(),
    }
    mismatched = [name for name, value in figures.items() if snapshot is None or getattr(snapshot, name) != value]
    check("recomputed province snapshot figures that differ from the rows", mismatched, [])
    return checks


# --- the run --------------------------------------------------------------------------------------


def run(
    *,
    path: Path = DEFAULT_FILE,
    regencies: list[str] | None = None,
    duration: float | None = 60.0,
    requests: int | None = None,
    clients: int = 8,
    workers: int = 4,
    race_width: int = 4,
    recompute_every: float = 10.0,
    reset: bool = True,
    seed: int = SEED,
) -> dict:
    """Prepare the state, load gunicorn, check the invariants; return {"meta", "figures", "checks", "samples"}."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from grants.models import Grant
    from rollout.models import ProgressReport, RecomputeRequest

    if connection.vendor != "postgresql":
        raise RuntimeError("The load test runs on PostgreSQL only: set DATABASE_URL=postgres://...")
    if not duration and not requests:
        raise ValueError("Give a duration or a number of requests: the run must stop by itself.")
    started_at = timezone.now()
    if reset:
        call_command("flush", interactive=False, verbosity=0)
    secret_key = secrets.token_urlsafe(50)
    with tempfile.TemporaryDirectory(prefix="smartvillage-load-") as tmp:
        directory = Path(tmp)
        world = prepare(path=Path(path), regencies=regencies, secret_key=secret_key, directory=directory)
        with gunicorn(directory=directory, secret_key=secret_key, workers=workers, probe=world.staff[0]) as (
            port,
            log,
        ):
            http = Http(port, world.session_cookie)
            driver = Driver(world, http, Budget(seconds=duration, limit=requests), race_width=race_width, seed=seed)
            # The machine is shared (2 cores here): what else ran says how far the latencies can be trusted.
            load_before = os.getloadavg()
            elapsed = driver.drive(clients=clients, recompute_every=recompute_every)
            load_after = os.getloadavg()
            ledger = http.send(
                "GET", f"/api/v1/allocations/{world.allocation}/ledger/?level=province", actor=world.staff[0]
            ).body
            # Let the workers finish any request a client stopped waiting for, and write their logs.
            time.sleep(0.5)
        tracebacks, log_head = _server_log(log)
    checks = check_invariants(allocation=world.allocation, ledger=ledger, keyed_reports=driver.keyed_reports)
    recorder = driver.recorder
    all_latencies = [s for values in recorder.latencies.values() for s in values]
    total = sum(recorder.statuses.values())
    races = driver.races
    double_paid_db = next(c["value"] for c in checks if c["name"].startswith("grants paid twice"))
    double_paid_client = sorted(grant for grant, n in driver.payments.items() if n > 1)
    client_checks = [
        {"name": "answers with a 5xx", "value": recorder.trouble["server_errors"], "expected": 0},
        {"name": "requests without an answer", "value": recorder.trouble["no_answer"], "expected": 0},
        {"name": "refused attempts that were accepted", "value": recorder.trouble["refused_accepted"], "expected": 0},
        {"name": "answers other than the rules allow", "value": recorder.trouble["unexpected"], "expected": 0},
        {"name": "races with a wrong number of winners", "value": sum(not r["ok"] for r in races), "expected": 0},
        {"name": "idempotent replays that differ", "value": len(driver.replay_mismatches), "expected": 0},
        {"name": "grants the client saw paid twice", "value": len(double_paid_client), "expected": 0},
        {"name": "adoption recomputes that failed", "value": len(driver.recompute_errors), "expected": 0},
    ]
    for entry in client_checks:
        entry["passed"] = entry["value"] == entry["expected"]
    checks = client_checks + checks
    refused = recorder.by_kind.get("refused", Counter())
    figures = {
        "requests": total,
        "seconds": round(elapsed, 2),
        "requests_per_second": round(total / elapsed, 1) if elapsed else 0.0,
        "requests_by_kind": {kind: sum(c.values()) for kind, c in sorted(recorder.by_kind.items())},
        "status_codes": {str(code): n for code, n in sorted(recorder.statuses.items())},
        "status_codes_by_kind": {
            kind: {str(code): n for code, n in sorted(c.items())} for kind, c in sorted(recorder.by_kind.items())
        },
        "server_errors_5xx": recorder.trouble["server_errors"],
        "no_answer": recorder.trouble["no_answer"],
        "latency_p50_ms": round(_percentile(all_latencies, 0.50) * 1000, 1),
        "latency_p95_ms": round(_percentile(all_latencies, 0.95) * 1000, 1),
        "latency_max_ms": round(max(all_latencies, default=0) * 1000, 1),
        "latency_ms_by_kind": {
            kind: {
                "p50": round(_percentile(values, 0.50) * 1000, 1),
                "p95": round(_percentile(values, 0.95) * 1000, 1),
            }
            for kind, values in sorted(recorder.latencies.items())
        },
        "races_tried": len(races),
        "races_by_kind": dict(sorted(Counter(r["kind"] for r in races).items())),
        "races_failed": sum(not r["ok"] for r in races),
        # Per race kind, how often each set of answers came back (e.g. "200 409 409 409": one winner).
        "race_outcomes": {
            kind: dict(Counter(" ".join(map(str, sorted(r["statuses"]))) for r in races if r["kind"] == kind))
            for kind in sorted({r["kind"] for r in races})
        },
        "refused_tried": sum(refused.values()),
        "refused_accepted": recorder.trouble["refused_accepted"],
        "disbursements_seen": sum(driver.payments.values()),
        "double_payments": max(double_paid_db, len(double_paid_client)),
        "adoption_recomputes": len(driver.recomputes),
        "adoption_recompute_median_ms": round(statistics.median(driver.recomputes) * 1000, 1)
        if driver.recomputes
        else None,
        "checks_passed": sum(c["passed"] for c in checks),
        "checks_total": len(checks),
    }
    meta = {
        **world.meta,
        "file": str(path),
        "only_regencies": regencies,
        "duration_limit_s": duration,
        "request_limit": requests,
        "clients": clients,
        "gunicorn_workers": workers,
        "race_width": race_width,
        "seed": seed,
        "cpus": os.cpu_count(),
        "load_average_1_5_15_before": [round(x, 2) for x in load_before],
        "load_average_1_5_15_after": [round(x, 2) for x in load_after],
        "started_at": started_at.isoformat(),
        "finished_at": timezone.now().isoformat(),
        "grants_after": dict(
            Grant.objects.filter(allocation_id=world.allocation)
            .values_list("status")
            .annotate(n=Count("pk"))
            .order_by()
        ),
        "reports_after": dict(ProgressReport.objects.values_list("status").annotate(n=Count("pk")).order_by()),
        "recompute_requests_scheduled": RecomputeRequest.objects.filter(pk=1)
        .values_list("schedules", flat=True)
        .first(),
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        meta["postgresql"] = cursor.fetchone()[0].split(" on ")[0]
    return {
        "ok": all(c["passed"] for c in checks),
        "meta": meta,
        "figures": figures,
        "checks": checks,
        "samples": {
            "server_errors": recorder.server_errors[:10],
            "server_tracebacks": tracebacks,
            "server_log_head": log_head,
            "no_answer": recorder.no_answer[:10],
            "unexpected": recorder.unexpected[:20],
            "refused_accepted": recorder.refused_accepted[:10],
            "race_failures": [r for r in races if not r["ok"]][:20],
            "replay_mismatches": driver.replay_mismatches[:5],
            "double_paid_grants_seen": double_paid_client[:20],
            "recompute_errors": driver.recompute_errors[:5],
        },
    }


def table(result: dict) -> str:
    figures = result["figures"]
    lines = [f"{'requests by kind':<28} {'n':>7} {'2xx':>7} {'4xx':>7} {'5xx':>5} {'p50 ms':>8} {'p95 ms':>8}"]
    for kind, n in figures["requests_by_kind"].items():
        codes = figures["status_codes_by_kind"][kind]
        share = {band: sum(v for k, v in codes.items() if k.startswith(band)) for band in "245"}
        latency = figures["latency_ms_by_kind"][kind]
        lines.append(
            f"{kind:<28} {n:>7} {share['2']:>7} {share['4']:>7} {share['5']:>5} "
            f"{latency['p50']:>8.1f} {latency['p95']:>8.1f}"
        )
    lines.append(
        f"{'all':<28} {figures['requests']:>7} {'':>7} {'':>7} {figures['server_errors_5xx']:>5} "
        f"{figures['latency_p50_ms']:>8.1f} {figures['latency_p95_ms']:>8.1f}"
    )
    races = ", ".join(f"{kind.removeprefix('race_')} {n}" for kind, n in figures["races_by_kind"].items())
    lines += [
        "",
        f"{'status codes':<28} {', '.join(f'{c}: {n}' for c, n in figures['status_codes'].items())}",
        f"{'requests/s':<28} {figures['requests_per_second']} over {figures['seconds']} s",
        f"{'5xx':<28} {figures['server_errors_5xx']}",
        f"{'races tried':<28} {figures['races_tried']} ({races}); failed {figures['races_failed']}",
        f"{'refused attempts':<28} {figures['refused_tried']} tried, {figures['refused_accepted']} accepted",
        f"{'double payments found':<28} {figures['double_payments']}",
        f"{'invariant checks passed':<28} {figures['checks_passed']}/{figures['checks_total']}",
        "",
    ]
    for entry in result["checks"]:
        mark = "ok  " if entry["passed"] else "FAIL"
        lines.append(f"{mark} {entry['name']}: {entry['value']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_FILE, help="region file (.csv)")
    parser.add_argument(
        "--duration",
        type=float,
        default=60.0,
        help="seconds of load (0: none); stops at this or --requests, whichever first",
    )
    parser.add_argument("--requests", type=int, default=None, help="stop after this many requests")
    parser.add_argument("--clients", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--race-width", type=int, default=4, help="threads per race")
    parser.add_argument("--recompute-every", type=float, default=10.0, help="seconds between adoption recomputes")
    parser.add_argument("--regencies", default="", help="only these regencies, e.g. 18.11,18.72")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--any-database", action="store_true", help="allow a database not named *load* or *bench*")
    parser.add_argument(
        "--public-seconds",
        type=float,
        default=15.0,
        help="seconds of each public-page run (bench/public.py: primary only and with a replica; 0: none)",
    )
    parser.add_argument("--public-only", action="store_true", help="only the public-page runs")
    args = parser.parse_args(argv)
    if not args.duration and not args.requests:
        parser.error("--duration 0 needs --requests: the run must stop by itself")

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartvillage.settings")
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("load: DATABASE_URL must point to PostgreSQL (row locks decide the races).", file=sys.stderr)
        return 2
    import django

    django.setup()
    from django.conf import settings

    name = settings.DATABASES["default"]["NAME"]
    if not any(word in name for word in ("load", "bench")) and not args.any_database:
        print(f"load: refusing to wipe database {name!r}; use one named *load* or --any-database.", file=sys.stderr)
        return 2

    result = {"ok": True, "samples": {"server_tracebacks": []}}
    if not args.public_only:
        result = run(
            path=args.path,
            regencies=[code.strip() for code in args.regencies.split(",") if code.strip()] or None,
            duration=args.duration or None,
            requests=args.requests,
            clients=args.clients,
            workers=args.workers,
            race_width=args.race_width,
            recompute_every=args.recompute_every,
            seed=args.seed,
        )
        print(table(result))
    if args.public_seconds:
        from bench import public

        result["public"] = public.run(seconds=args.public_seconds, workers=args.workers)
        result["ok"] = result["ok"] and all(r["server_errors_5xx"] == 0 for r in result["public"]["runs"].values())
        print("\n" + public.table(result["public"]))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"load-{stamp}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\nwritten: bench/results/load-{stamp}.json")
    if not result["ok"]:
        for sample in result["samples"]["server_tracebacks"]:
            print("\n" + sample, file=sys.stderr)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
