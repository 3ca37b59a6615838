"""`make bench`: the portal at national scale on PostgreSQL, each figure beside its floor.

Usage: DATABASE_URL=postgres://... python bench/run.py [REGION_FILE] [--repeat N]

The database is wiped first (flush): point DATABASE_URL at a database of its own
(its name must contain "bench", unless --any-database).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT.parent / "shared" / "data" / "indonesia_villages.csv.gz"
RESULTS = Path(__file__).resolve().parent / "results"


def regions_plan_figures(repeat: int) -> dict:
    """Planning the national 2015 -> 2025 region change (issue 14) beside its floor, a SQL join of the two
    lists on code (bench/regions.py); skipped where the shared national lists are absent."""
    from bench.regions import DEFAULT_NEW, DEFAULT_OLD
    from bench.regions import run as regions_run

    if not (DEFAULT_OLD.exists() and DEFAULT_NEW.exists()):
        return {"meta": {"skipped": f"{DEFAULT_OLD} or {DEFAULT_NEW} is missing"}, "figures": {}}
    return regions_run(DEFAULT_OLD, DEFAULT_NEW, repeat=min(repeat, 3))


# Figures measured beside bench.core's, each by its own function: name -> function(repeat) -> {meta, figures}.
EXTRA_FIGURES = {
    "regions_plan": regions_plan_figures,
}


def run(path: Path, repeat: int = 5, **options) -> dict:
    """Load `path`, generate the state, measure; return the figures (see bench.core.run, EXTRA_FIGURES)."""
    from bench.core import run as core_run

    result = core_run(Path(path), repeat=repeat, **options)
    for name, measure in EXTRA_FIGURES.items():
        extra = measure(repeat)
        result["meta"][name] = extra["meta"]
        result["figures"].update(extra["figures"])
    return result


def treasury_figures(repeat: int) -> dict:
    """Reconciling a statement of 84,000 lines against a national allocation, beside one SQL join of the
    staged lines to the disbursements (bench/treasury.py); runs on the registry `run` loaded."""
    from bench.treasury import run as treasury_run

    return treasury_run(repeat=min(repeat, 3))


def table(result: dict) -> str:
    lines = [f"{'figure':<44} {'value':>14} {'floor':>14} {'ratio':>8}  unit"]
    for name, figure in result["figures"].items():
        floor = figure.get("floor")
        ratio = figure.get("ratio")
        lines.append(
            f"{name:<44} {figure['value']:>14.3f} {'' if floor is None else f'{floor:>14.3f}':>14} "
            f"{'' if ratio is None else f'{ratio:>8.2f}':>8}  {figure['unit']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_FILE, help="region file (.csv or .csv.gz)")
    parser.add_argument("--repeat", type=int, default=5, help="repeats per measured figure (median)")
    parser.add_argument("--load-seconds", type=float, default=10.0, help="gunicorn load test length (0: skip)")
    parser.add_argument("--load-workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--load-concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--any-database", action="store_true", help="allow a database not named *bench*")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartvillage.settings")
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("bench: DATABASE_URL must point to PostgreSQL (SQLite figures mean nothing here).", file=sys.stderr)
        return 2
    import django

    django.setup()
    from django.conf import settings

    name = settings.DATABASES["default"]["NAME"]
    if "bench" not in name and not args.any_database:
        print(f"bench: refusing to wipe database {name!r}; use one named *bench* or --any-database.", file=sys.stderr)
        return 2

    result = run(
        args.path,
        repeat=args.repeat,
        reset=True,
        load_seconds=args.load_seconds,
        load_workers=args.load_workers,
        load_concurrency=args.load_concurrency,
    )
    treasury = treasury_figures(args.repeat)
    result["figures"].update(treasury["figures"])
    result["meta"]["treasury"] = treasury["meta"]
    print(table(result))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(result, indent=2, default=str) + "\n"
    (RESULTS / f"{stamp}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print(f"\nwritten: bench/results/{stamp}.json and bench/results/latest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
