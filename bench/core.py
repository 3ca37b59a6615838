"""The measurements of `make bench`; see bench/run.py for the command line.

Every figure is a median over `repeat` runs, measured in the same run as its floor:
the database doing the same work with one hand-written statement (or Django at its
thinnest), so a ratio says how much the application layer costs.
"""

from __future__ import annotations

import datetime
import gzip
import http.client
import io
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django.http import JsonResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import resolve
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import Role, User
from bench.capture import capture_sync
from bench.precache import FLOOR_BYTES, precache_size
from grants import selectors as grant_selectors
from grants import services as grant_services
from grants.models import Grant
from rollout.models import (
    AdoptionSnapshot,
    Blocker,
    PillarStatus,
    ProgressReport,
    ReportStatus,
    Signal,
    VillageStatus,
)
from rollout.services import STALE_AFTER_DAYS, adoption_recompute
from villages.models import DESA_KINDS, Province, Regency, Village
from villages.services import regions_load

ROOT = Path(__file__).resolve().parent.parent
HOST = {"SERVER_NAME": "localhost"}
FLOOR_DATE_OFFSET = datetime.timedelta(days=1000)
SEED = 7


def _timed(func: Callable[[], object]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _median_ms(func: Callable[[], object], repeat: int) -> float:
    return statistics.median(_timed(func) for _ in range(repeat)) * 1000


def _figure(value: float, unit: str, floor: float | None = None, **extra) -> dict:
    figure = {"value": round(value, 6), "unit": unit, "floor": None, "ratio": None, **extra}
    if floor is not None:
        figure["floor"] = round(floor, 6)
        figure["ratio"] = round(value / floor, 2) if floor else None
    return figure


# --- 1. registry load -----------------------------------------------------------------------------


def _csv_bytes(path: Path) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        return handle.read()


def _copy_floor(data: bytes) -> float:
    """PostgreSQL COPY of the decompressed file into a plain temporary table."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_regions (code text, name text, level text, parent_code text,"
            " regency_kind text, kind text) ON COMMIT DROP"
        )
        raw = cursor.cursor  # psycopg2's own cursor, for copy_expert
        start = time.perf_counter()
        raw.copy_expert("COPY bench_regions FROM STDIN WITH (FORMAT csv, HEADER true)", io.BytesIO(data))
        return time.perf_counter() - start


# --- 2. state -------------------------------------------------------------------------------------


def _state_generate(actor: User, rng: random.Random) -> dict:
    """A verified report and the status it set for every active village; a few % blocked by no signal."""
    now = timezone.now()
    today = timezone.localdate()
    village_ids = list(Village.objects.filter(is_active=True).order_by("code").values_list("pk", flat=True))
    reports, awaiting = [], []
    for village_id in village_ids:
        roll = rng.random()
        if roll < 0.03:  # blocked: no signal, pillar 1 not live
            values = {
                "pillar1": PillarStatus.NOT_STARTED,
                "pillar2": PillarStatus.NOT_STARTED,
                "pillar3": PillarStatus.NOT_STARTED,
                "signal": Signal.NONE,
                "signal_sufficient": False,
                "blocker": Blocker.NO_SIGNAL,
            }
        else:
            live = roll < 0.80
            values = {
                "pillar1": PillarStatus.LIVE if live else PillarStatus.IN_PROGRESS,
                "pillar2": rng.choice(list(PillarStatus.values)),
                "pillar3": rng.choice(list(PillarStatus.values)),
                "signal": rng.choice([Signal.G3, Signal.G4, Signal.BROADBAND, Signal.SATELLITE]),
                "signal_sufficient": True,
                "blocker": "" if live else rng.choice([Blocker.NO_DEVICES, Blocker.NO_OPERATOR, Blocker.BUDGET]),
            }
        submitted = now - datetime.timedelta(days=rng.randint(1, 200))
        reports.append(
            ProgressReport(
                village_id=village_id,
                submitted_by=actor,
                submitted_at=submitted,
                captured_at=submitted,
                status=ReportStatus.VERIFIED,
                reviewed_by=actor,
                reviewed_at=submitted + datetime.timedelta(days=1),
                **values,
            )
        )
        if rng.random() < 0.02:  # a newer report waiting for verification
            awaiting.append(
                ProgressReport(village_id=village_id, submitted_by=actor, submitted_at=now, captured_at=now, **values)
            )
    reports = ProgressReport.objects.bulk_create(reports, batch_size=5000)
    ProgressReport.objects.bulk_create(awaiting, batch_size=5000)
    statuses = []
    for report in reports:
        since = timezone.localdate(report.reviewed_at)
        statuses.append(
            VillageStatus(
                village_id=report.village_id,
                pillar1=report.pillar1,
                pillar2=report.pillar2,
                pillar3=report.pillar3,
                pillar1_since=since,
                pillar2_since=since,
                pillar3_since=since,
                signal=report.signal,
                signal_sufficient=report.signal_sufficient,
                blocker=report.blocker,
                last_report=report,
                last_verified_on=min(since, today),
            )
        )
    VillageStatus.objects.bulk_create(statuses, batch_size=5000)
    return {"villages": len(village_ids), "reports": len(reports) + len(awaiting), "awaiting": len(awaiting)}


def _grants_generate(actor: User, province: Province, rng: random.Random) -> dict:
    """One allocation for the dashboard's province, planned in full, then moved through the services
    regency by regency: some left planned, some approved, some paid, some cancelled, a few accounted,
    closed and returned."""
    allocation = grant_services.allocation_create(
        actor=actor, province=province, fiscal_year=2025, legal_basis="Pergub bench 2025"
    )
    allocation = grant_services.allocation_activate(allocation=allocation, actor=actor)
    grant_services.allocation_plan(allocation=allocation, actor=actor)
    # The latest date the allocation's fiscal year accepts for a transfer (never in the future).
    transfer_date = grant_services.transfer_window(fiscal_year=allocation.fiscal_year)[1]
    for index, regency in enumerate(Regency.objects.filter(province=province).order_by("code")):
        ids = list(
            Grant.objects.filter(allocation=allocation, village__regency=regency)
            .order_by("village__code")
            .values_list("pk", flat=True)
        )
        if index % 4 == 0 or len(ids) < 4:
            continue  # left planned
        if index % 4 == 3:
            grant_services.grants_cancel_batch(allocation=allocation, regency=regency, actor=actor, grant_ids=ids[:2])
        grant_services.grants_approve_batch(allocation=allocation, regency=regency, actor=actor)
        if index % 4 == 1:
            continue  # approved, not paid
        paid = ids[2 : 2 + len(ids) // 2]
        grant_services.grants_disburse_batch(
            allocation=allocation,
            regency=regency,
            actor=actor,
            reference=f"SP2D/BENCH/{regency.code}",
            transfer_date=transfer_date,
            grant_ids=paid,
        )
        accounted = grant_services.grant_account(
            grant=Grant.objects.get(pk=paid[0]), actor=actor, spent_amount=allocation.unit_amount
        )
        grant_services.grant_close(grant=accounted, actor=actor)
        grant_services.grant_account(
            grant=Grant.objects.get(pk=paid[1]), actor=actor, spent_amount=allocation.unit_amount - 500_000
        )
        grant_services.grant_return(
            grant=Grant.objects.get(pk=paid[2]),
            actor=actor,
            amount=allocation.unit_amount,
            reference=f"STS/BENCH/{regency.code}",
        )
    states = dict(Grant.objects.filter(allocation=allocation).values_list("status").annotate(n=Count("pk")).order_by())
    return {"allocation": allocation, "states": states}


# --- 3. floors ------------------------------------------------------------------------------------

RECOMPUTE_FLOOR_SQL = """
WITH awaiting AS (
    SELECT village_id, count(*) AS n FROM rollout_progressreport WHERE status = 'awaiting' GROUP BY village_id
), figures AS (
    SELECT p.code AS province, r.code AS regency, d.code AS district,
        GROUPING(p.code, r.code, d.code) AS grp,
        count(*) AS units,
        count(*) FILTER (WHERE v.kind = ANY(%(desa)s)) AS desa,
        count(*) FILTER (WHERE NOT v.kind = ANY(%(desa)s)) AS kelurahan,
        count(*) FILTER (WHERE s.pillar1 = 'live') AS adopted_units,
        count(*) FILTER (WHERE s.pillar1 = 'live' AND v.kind = ANY(%(desa)s)) AS adopted_desa,
        count(*) FILTER (WHERE s.pillar1 = 'live') AS pillar1_live,
        count(*) FILTER (WHERE s.pillar2 = 'live') AS pillar2_live,
        count(*) FILTER (WHERE s.pillar3 = 'live') AS pillar3_live,
        count(*) FILTER (WHERE s.blocker = 'no_signal' AND s.pillar1 <> 'live') AS blocked_no_signal,
        coalesce(sum(a.n), 0) AS awaiting_verification,
        count(*) FILTER (WHERE s.last_verified_on IS NULL OR s.last_verified_on < %(stale_before)s) AS stale_units,
        max(s.last_verified_on) AS latest_verified_on
    FROM villages_village v
    JOIN villages_regency r ON r.id = v.regency_id
    JOIN villages_province p ON p.id = r.province_id
    JOIN villages_district d ON d.id = v.district_id
    LEFT JOIN rollout_villagestatus s ON s.village_id = v.id
    LEFT JOIN awaiting a ON a.village_id = v.id
    WHERE v.is_active
    GROUP BY ROLLUP (p.code, r.code, d.code)
)
INSERT INTO rollout_adoptionsnapshot (
    date, level, code, name, parent_code, units, desa, kelurahan, adopted_units, adopted_desa,
    pillar1_live, pillar2_live, pillar3_live, blocked_no_signal, awaiting_verification, stale_units,
    latest_verified_on, definition_version, computed_at)
SELECT %(date)s,
    CASE f.grp WHEN 0 THEN 'district' WHEN 1 THEN 'regency' ELSE 'province' END,
    CASE f.grp WHEN 0 THEN f.district WHEN 1 THEN f.regency ELSE f.province END,
    CASE f.grp WHEN 0 THEN d.name WHEN 1 THEN r.name ELSE p.name END,
    CASE f.grp WHEN 0 THEN f.regency WHEN 1 THEN f.province ELSE '' END,
    f.units, f.desa, f.kelurahan, f.adopted_units, f.adopted_desa, f.pillar1_live, f.pillar2_live,
    f.pillar3_live, f.blocked_no_signal, f.awaiting_verification, f.stale_units, f.latest_verified_on,
    1, now()
FROM figures f
JOIN villages_province p ON p.code = f.province
LEFT JOIN villages_regency r ON r.code = f.regency
LEFT JOIN villages_district d ON d.code = f.district
WHERE f.grp IN (0, 1, 3)
ON CONFLICT (date, level, code) DO UPDATE SET
    name = EXCLUDED.name, parent_code = EXCLUDED.parent_code, units = EXCLUDED.units, desa = EXCLUDED.desa,
    kelurahan = EXCLUDED.kelurahan, adopted_units = EXCLUDED.adopted_units, adopted_desa = EXCLUDED.adopted_desa,
    pillar1_live = EXCLUDED.pillar1_live, pillar2_live = EXCLUDED.pillar2_live,
    pillar3_live = EXCLUDED.pillar3_live, blocked_no_signal = EXCLUDED.blocked_no_signal,
    awaiting_verification = EXCLUDED.awaiting_verification, stale_units = EXCLUDED.stale_units,
    latest_verified_on = EXCLUDED.latest_verified_on, definition_version = EXCLUDED.definition_version,
    computed_at = EXCLUDED.computed_at
"""


def _recompute_floor(floor_date: datetime.date) -> int:
    today = timezone.localdate()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            RECOMPUTE_FLOOR_SQL,
            {
                "desa": [str(kind) for kind in DESA_KINDS],
                "stale_before": today - datetime.timedelta(days=STALE_AFTER_DAYS),
                "date": floor_date,
            },
        )
        return cursor.rowcount


def _recompute_check(today: datetime.date, floor_date: datetime.date) -> int:
    """Rows where the ORM recompute and the SQL floor disagree (must be 0: the floor is the same work)."""
    fields = [f.name for f in AdoptionSnapshot._meta.fields if f.name not in ("id", "date", "computed_at")]
    real = {tuple(row) for row in AdoptionSnapshot.objects.filter(date=today).values_list(*fields)}
    floor = {tuple(row) for row in AdoptionSnapshot.objects.filter(date=floor_date).values_list(*fields)}
    return len(real ^ floor)


LEDGER_FLOOR_SQL = """
SELECT u.code, u.name,
    count(*) FILTER (WHERE g.status <> 'cancelled'),
    coalesce(sum(g.amount) FILTER (WHERE g.status <> 'cancelled'), 0),
    coalesce(sum(g.amount) FILTER (WHERE g.status = ANY(%(approved)s)), 0),
    coalesce(sum(g.amount) FILTER (WHERE g.status = ANY(%(paid)s)), 0),
    coalesce(sum(g.returned_amount), 0),
    coalesce(sum(g.spent_amount), 0),
    count(*) FILTER (WHERE g.status = 'cancelled')
FROM grants_grant g
JOIN villages_village v ON v.id = g.village_id
JOIN {table} u ON u.id = v.{code}
WHERE g.allocation_id = %(allocation)s
GROUP BY u.code, u.name
ORDER BY u.code
"""
LEDGER_TABLES = {"regency": ("regency_id", "villages_regency"), "district": ("district_id", "villages_district")}


def _ledger_floor(level: str, allocation_id: int) -> list:
    from grants.models import APPROVED_OR_LATER, PAID_STATUSES

    code, table = LEDGER_TABLES[level]
    with connection.cursor() as cursor:
        cursor.execute(
            LEDGER_FLOOR_SQL.format(code=code, table=table),
            {
                "approved": [str(s) for s in APPROVED_OR_LATER],
                "paid": [str(s) for s in PAID_STATUSES],
                "allocation": allocation_id,
            },
        )
        return cursor.fetchall()


# The minimal views: the same rows and fields as the API's list page, straight from .values().
VILLAGE_VALUES = (
    "code",
    "name",
    "kind",
    "district__code",
    "district__name",
    "regency__code",
    "regency__name",
    "is_active",
)
GRANT_VALUES = (
    "id",
    "allocation_id",
    "village__code",
    "village__name",
    "village__kind",
    "village__district__code",
    "village__district__name",
    "village__regency__code",
    "village__regency__name",
    "amount",
    "status",
    "approved_at",
    "disbursement__reference",
    "disbursement__transfer_date",
    "returned_amount",
    "spent_amount",
    "report_note",
    "report_url",
    "accounted_at",
    "closed_at",
    "cancelled_at",
)
ROLLOUT_VALUES = (
    "code",
    "name",
    "kind",
    "district__code",
    "regency__code",
    "rollout__pillar1",
    "rollout__pillar2",
    "rollout__pillar3",
    "rollout__signal",
    "rollout__signal_sufficient",
    "rollout__blocker",
    "rollout__blocker_note",
    "rollout__pillar1_since",
    "rollout__last_verified_on",
)
MINIMAL_QUERIES = {
    "villages": lambda: Village.objects.order_by("code").values(*VILLAGE_VALUES),
    "grants": lambda: Grant.objects.order_by("village__code").values(*GRANT_VALUES),
    "rollout": lambda: Village.objects.filter(is_active=True).order_by("code").values(*ROLLOUT_VALUES),
}


def _minimal_view(name: str):
    def view(request):
        return JsonResponse({"results": list(MINIMAL_QUERIES[name]()[:100])})

    return view


def _raw_select(name: str) -> float:
    """The absolute floor: the page's SELECT through psycopg2, no Django at all."""
    sql, params = MINIMAL_QUERIES[name]()[:100].query.sql_with_params()
    raw = connection.connection.cursor()  # psycopg2 connection of Django's (already open)
    start = time.perf_counter()
    raw.execute(sql, params)
    raw.fetchall()
    elapsed = time.perf_counter() - start
    raw.close()
    return elapsed


def _api_view(url: str, token: str, factory: RequestFactory) -> Callable[[], bytes]:
    """The API's view of `url`, called as the minimal view is: a RequestFactory request handed straight
    to the view function (no test client, no middleware, on either side), authenticated as the API's
    clients are, by their token (one query the minimal view does not make)."""
    match = resolve(urlsplit(url).path)

    def call() -> bytes:
        request = factory.get(url, HTTP_AUTHORIZATION=f"Token {token}", **HOST)
        response = match.func(request, *match.args, **match.kwargs)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
        return response.render().content

    return call


def _page(client: Client, url: str) -> None:
    response = client.get(url, **HOST)
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code}")
    response.content  # noqa: B018 (render it all)


# --- throughput under load ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    user = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _throughput(token: str, *, seconds: float, workers: int, concurrency: int) -> dict:
    """Requests/s and latencies of /api/v1/villages/?page_size=100 served by gunicorn on loopback.

    The load generator (threads, one connection per request) runs on the same 2 cores as gunicorn
    and PostgreSQL, so this is a lower bound of what the server alone would do.
    """
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
    }
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
    )
    path = "/api/v1/villages/?page_size=100"
    headers = {"Authorization": f"Token {token}", "Host": "127.0.0.1"}

    def get() -> float:
        start = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"gunicorn {path}: HTTP {response.status}")
        finally:
            conn.close()
        return time.perf_counter() - start

    try:
        deadline = time.monotonic() + 30
        while True:  # wait until every worker has loaded Django
            try:
                for _ in range(workers * 2):
                    get()
                break
            except (ConnectionError, OSError):
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)

        latencies: list[float] = []
        end = time.perf_counter() + seconds

        def client() -> None:
            while time.perf_counter() < end:
                latencies.append(get())

        start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            for future in [pool.submit(client) for _ in range(concurrency)]:
                future.result()
        elapsed = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=10)
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000,
    }


# --- the run --------------------------------------------------------------------------------------


def _capture_figures(meta: dict) -> dict[str, dict]:
    """500 queued reports synced from one device (multipart, client_uuid) against the plain JSON post of each."""
    sync = capture_sync()
    meta["capture"] = sync
    return {
        "capture_sync_500_total_s": _figure(sync["total_s"], "s"),
        "capture_sync_report_ms": _figure(sync["median_s"] * 1000, "ms", sync["online_median_s"] * 1000),
        "capture_sync_report_with_photo_ms": _figure(sync["photo_median_s"] * 1000, "ms"),
    }


def _precache_figures(meta: dict) -> dict[str, dict]:
    """What the service worker keeps on an officer's phone for the largest regency (bench/precache.py)."""
    size = precache_size()
    meta["precache"] = size
    return {"sw_precache_largest_regency_bytes": _figure(size["total_bytes"], "bytes", FLOOR_BYTES)}


def run(
    path: Path,
    *,
    repeat: int = 5,
    reset: bool = True,
    load_seconds: float = 10.0,
    load_workers: int = 3,
    load_concurrency: int = 8,
) -> dict:
    """Load `path`, generate the state, measure every figure; return {"meta": ..., "figures": ...}."""
    if connection.vendor != "postgresql":
        raise RuntimeError("The benchmark runs on PostgreSQL only: set DATABASE_URL=postgres://...")
    rng = random.Random(SEED)  # noqa: S311 (reproducible fake data, not secrets)
    figures: dict[str, dict] = {}
    meta: dict = {"file": str(path), "repeat": repeat, "started_at": timezone.now().isoformat()}
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        meta["postgresql"] = cursor.fetchone()[0].split(" on ")[0]

    with override_settings(DEBUG=False):
        if reset:
            call_command("flush", interactive=False, verbosity=0)

        # 1. registry load, cold (every unit created) then again (every unit unchanged), vs COPY.
        data = _csv_bytes(path)
        load = _timed(lambda: regions_load(path=path))
        reload = _timed(lambda: regions_load(path=path))
        copy = statistics.median(_copy_floor(data) for _ in range(repeat))
        meta["villages"] = Village.objects.filter(is_active=True).count()
        meta["regencies"] = Regency.objects.count()
        figures["registry_load_s"] = _figure(load, "s", copy)
        figures["registry_reload_unchanged_s"] = _figure(reload, "s", copy)

        # 2. state.
        actor = User.objects.create_user(username="bench.staf", role=Role.PROVINCE_STAFF)
        state_start = time.perf_counter()
        meta["state"] = _state_generate(actor, rng)
        province = Province.objects.filter(is_active=True).order_by("code").first()
        grants = _grants_generate(actor, province, rng)
        figures["state_generate_s"] = _figure(time.perf_counter() - state_start, "s")
        allocation = grants["allocation"]
        meta["allocation"] = {"province": province.code, "grants_by_state": grants["states"]}

        # 3a. recompute vs one INSERT ... SELECT ... GROUP BY ROLLUP.
        today = timezone.localdate()
        floor_date = today - FLOOR_DATE_OFFSET
        recompute = _median_ms(adoption_recompute, repeat)
        recompute_floor = _median_ms(lambda: _recompute_floor(floor_date), repeat)
        meta["snapshot_rows"] = AdoptionSnapshot.objects.filter(date=today).count()
        meta["recompute_floor_mismatches"] = _recompute_check(today, floor_date)
        AdoptionSnapshot.objects.filter(date=floor_date).delete()
        figures["recompute_ms"] = _figure(recompute, "ms", recompute_floor)

        tracemalloc.start()
        adoption_recompute()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        figures["recompute_peak_memory_mib"] = _figure(peak / 2**20, "MiB")

        # 3b. ledger vs raw aggregate.
        for level in ("regency", "district"):
            value = _median_ms(
                lambda lv=level: grant_selectors.ledger(allocation=allocation, user=actor, level=lv), repeat
            )
            floor = _median_ms(lambda lv=level: _ledger_floor(lv, allocation.pk), repeat)
            figures[f"ledger_{level}_ms"] = _figure(value, "ms", floor)

        # 3c. API list pages vs a minimal .values() view, and the raw SELECT. Both views get the same
        # kind of request the same way (see _api_view); the pages below go through the test client.
        token, _created = Token.objects.get_or_create(user=actor)
        factory = RequestFactory()
        for name in ("villages", "grants", "rollout"):
            api_view = _api_view(f"/api/v1/{name}/?page_size=100", token.key, factory)
            api_view()  # warm up (URL resolution, serializer fields)
            view = _minimal_view(name)
            api = _median_ms(api_view, repeat)
            minimal = _median_ms(lambda v=view: v(factory.get("/", **HOST)).content, repeat)
            raw = statistics.median(_raw_select(name) for _ in range(repeat)) * 1000
            figures[f"api_{name}_page_ms"] = _figure(api, "ms", minimal)
            figures[f"api_{name}_raw_select_ms"] = _figure(raw, "ms")

        # 3d. dashboard pages: time and queries.
        client = Client()
        client.force_login(actor)
        regency = Regency.objects.filter(province=province).order_by("code").first()
        for name, url in (("dashboard_home", "/"), ("dashboard_regency", f"/dashboard/regencies/{regency.code}/")):
            _page(client, url)
            with CaptureQueriesContext(connection) as queries:
                _page(client, url)
            # Counted now: the captured list is a slice of the log that the next request resets.
            figures[f"{name}_queries"] = _figure(len(queries), "queries")
            figures[f"{name}_ms"] = _figure(_median_ms(lambda u=url: _page(client, u), repeat), "ms")

        # 3f. field capture: a device's queue of 500 reports synced one request at a time (bench/capture.py).
        figures.update(_capture_figures(meta))
        # 3g. the service worker's keep for an officer of the largest regency, in bytes (bench/precache.py).
        figures.update(_precache_figures(meta))

    # 3e. throughput of the villages API under bounded concurrent load (gunicorn, loopback).
    if load_seconds > 0:
        load = _throughput(token.key, seconds=load_seconds, workers=load_workers, concurrency=load_concurrency)
        meta["load"] = {"workers": load_workers, "concurrency": load_concurrency, "seconds": load_seconds, **load}
        figures["api_villages_load_rps"] = _figure(load["rps"], "req/s")
        figures["api_villages_load_p95_ms"] = _figure(load["p95_ms"], "ms")

    meta["finished_at"] = timezone.now().isoformat()
    return {"meta": meta, "figures": figures}
