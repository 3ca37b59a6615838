"""The public pages under load (part of `make load`): requests per second and p95 latency at 16 concurrent
clients on loopback, the portal on the primary only versus with its read replica, each with plain GETs and
with the clients revalidating what they hold (If-None-Match: 304 Not Modified).

It makes its own PostgreSQL primary and streaming standby (bench/pgpair.py), seeds the primary with the
Lampung registry and seed_demo's state (grants, statuses, a year of snapshots), and serves the portal with
gunicorn twice: DATABASE_URL alone, then with DATABASE_REPLICA_URL. The clients request a fixed mix of
public URLs (the province, every regency, districts, villages, the CSV files) found from the open data
itself, after a warm-up that is not counted (every URL twice per worker: each worker keeps its own cache).
Which server did the work is read from each server's transaction count (pg_stat_database) around a run.

    python bench/public.py [--seconds 15] [--clients 16] [--workers 4]
"""

from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import pgpair  # noqa: E402 (the script runs from anywhere)

DATABASE = "smartvillage_public_load"
SEED = 16


def _get(port: int, path: str, etag: str | None = None) -> tuple[int, float, str | None]:
    headers = {"If-None-Match": etag} if etag else {}
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - start, response.getheader("ETag")
    except (OSError, http.client.HTTPException):
        return 0, time.perf_counter() - start, None
    finally:
        connection.close()


def _urls(port: int, rng: random.Random) -> list[str]:
    """The mix: the province, every regency, 30 districts, 60 villages (from the open data), the four files."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", "/publik/data/desa.csv")
    rows = list(csv.DictReader(io.StringIO(connection.getresponse().read().decode())))
    connection.close()
    regencies = sorted({row["regency_code"] for row in rows})
    districts = sorted({row["district_code"] for row in rows})
    villages = [row["code"] for row in rows]
    return (
        ["/publik/"] * 10
        + [f"/publik/kabupaten/{code}/" for code in regencies]
        + [f"/publik/kecamatan/{code}/" for code in rng.sample(districts, min(30, len(districts)))]
        + [f"/publik/desa/{code}/" for code in rng.sample(villages, min(60, len(villages)))]
        + [f"/publik/data/{name}.csv" for name in ("provinsi", "kabupaten", "kecamatan", "desa")]
    )


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * len(ordered)) - 1))] if ordered else 0.0


def warm(port: int, urls: list[str], *, clients: int, rounds: int) -> dict[str, str]:
    """Every URL `rounds` times (each gunicorn worker keeps its own cache of pages); the ETags seen."""
    queue = [url for _round in range(rounds) for url in urls]
    held: dict[str, str] = {}
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                if not queue:
                    return
                path = queue.pop()
            _status, _elapsed, etag = _get(port, path)
            if etag:
                with lock:
                    held[path] = etag

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return held


def drive(port: int, urls: list[str], *, seconds: float, clients: int, held: dict[str, str] | None = None) -> dict:
    """`clients` threads requesting `urls` in random order for `seconds`. With `held` (URL -> ETag) the clients
    revalidate, as a shared cache in front of the portal does: If-None-Match, a 304 while unchanged."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        rng = random.Random(SEED * 100 + index)  # noqa: S311 (traffic, not secrets)
        while time.monotonic() < deadline:
            path = rng.choice(urls)
            status, elapsed, etag = _get(port, path, held.get(path) if held is not None else None)
            if etag and held is not None:
                held[path] = etag
            with lock:
                statuses[status] += 1
                latencies.append(elapsed)

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    return {
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
        "status_codes": {str(code): n for code, n in sorted(statuses.items())},
        "server_errors_5xx": sum(n for code, n in statuses.items() if code >= 500 or code == 0),
    }


def _health(port: int) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/healthz")
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


def _transactions(server: pgpair.Server) -> int:
    # DATABASE is this module's constant, not input.
    statement = f"SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '{DATABASE}'"  # noqa: S608
    return int(server.sql(statement))


def run(*, seconds: float = 15.0, clients: int = 16, workers: int = 4) -> dict:
    """Both deployments, both ways of asking; returns {"meta", "runs"} (a run per deployment and mode)."""
    from bench.load import gunicorn

    secret_key = secrets.token_urlsafe(50)
    runs = {}
    with pgpair.pg_pair(databases=(DATABASE,)) as pair, tempfile.TemporaryDirectory(prefix="sv-public-") as tmp:
        env = {**os.environ, "DATABASE_URL": pair.primary.url(DATABASE), "DEBUG": "1", "CELERY_BROKER_URL": ""}
        env.pop("DATABASE_REPLICA_URL", None)
        started = time.perf_counter()
        for command in (["migrate", "--noinput", "-v", "0"], ["load_regions"], ["seed_demo"]):
            manage = [sys.executable, "manage.py", *command]
            subprocess.run(manage, cwd=ROOT, env=env, check=True, capture_output=True)  # noqa: S603 (our own manage.py)
        pair.wait_replayed()
        prepare_s = round(time.perf_counter() - started, 1)
        rng = random.Random(SEED)  # noqa: S311
        urls: list[str] = []
        for deployment, replica in (("primary only", False), ("with replica", True)):
            extra_env = {
                "DATABASE_URL": pair.primary.url(DATABASE),
                "DATABASE_REPLICA_URL": pair.standby.url(DATABASE) if replica else "",
                # Sixteen clients on one address: no rate limit here (it is tested on its own).
                "PUBLIC_RATE_LIMIT_PER_MINUTE": "0",
            }
            with gunicorn(
                directory=Path(tmp), secret_key=secret_key, workers=workers, probe=None, extra_env=extra_env
            ) as (port, _log):
                urls = urls or _urls(port, rng)
                etags = warm(port, urls, clients=clients, rounds=2 * workers)
                for mode, held in (("GET", None), ("revalidating (304)", etags)):
                    servers = {"primary": pair.primary, "standby": pair.standby}
                    before = {name: _transactions(server) for name, server in servers.items()}
                    figures = drive(port, urls, seconds=seconds, clients=clients, held=held)
                    time.sleep(1.0)  # the servers' statistics are flushed about every second
                    figures["transactions"] = {
                        name: _transactions(server) - before[name] for name, server in servers.items()
                    }
                    runs[f"{deployment}, {mode}"] = figures
                runs[f"{deployment}, GET"]["replica_state"] = _health(port).get("replica", {}).get("state")
    return {
        "meta": {
            "clients": clients,
            "gunicorn_workers": workers,
            "seconds_per_run": seconds,
            "urls": len(urls),
            "prepare_s": prepare_s,
            "cpus": os.cpu_count(),
            "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        },
        "runs": runs,
    }


def table(result: dict) -> str:
    lines = [f"{'public pages':<36} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'304s':>7} {'5xx':>5}  transactions"]
    for name, run_ in result["runs"].items():
        codes = run_["status_codes"]
        lines.append(
            f"{name:<36} {run_['requests_per_second']:>8} {run_['p50_ms']:>8} {run_['p95_ms']:>8} "
            f"{codes.get('304', 0):>7} {run_['server_errors_5xx']:>5}  "
            f"primary {run_['transactions']['primary']}, standby {run_['transactions']['standby']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0, help="seconds of each run")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartvillage.settings")
    import django

    django.setup()  # bench.load's gunicorn() reads the settings
    result = run(seconds=args.seconds, clients=args.clients, workers=args.workers)
    print(table(result))
    print(json.dumps(result, indent=2))
    return 0 if all(run_["server_errors_5xx"] == 0 for run_ in result["runs"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
