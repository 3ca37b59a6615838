"""`make bench` figures for planning a newer region list (issue 14), each beside its floor.

The floor is PostgreSQL joining the two lists on code (a full outer join that returns every code whose
name changed or that is in one list only): what a loader that trusts codes would do, and a lower bound for
the planner, which also matches by name within parents, by close spellings and across parents.

`make bench` measures it (bench/run.py, EXTRA_FIGURES). Standalone: DATABASE_URL=postgres://... python
bench/regions.py [OLD NEW] (it writes only temporary tables, so any database will do).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
DEFAULT_OLD = SHARED_DATA / "indonesia_villages_2015.csv.gz"
DEFAULT_NEW = SHARED_DATA / "indonesia_villages.csv.gz"

COLUMNS = "code text, name text, level text, parent_code text, regency_kind text, kind text"
JOIN_SQL = """
SELECT o.code, n.code, o.name, n.name, coalesce(o.level, n.level)
FROM bench_old o FULL OUTER JOIN bench_new n ON n.code = o.code
WHERE o.code IS NULL OR n.code IS NULL OR o.name <> n.name
"""


def _join_floor(old_data: bytes, new_data: bytes) -> tuple[float, float, int]:
    """Seconds to COPY both lists into temporary tables, seconds to join them on code, and the rows returned."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg2's own cursor, for copy_expert
        start = time.perf_counter()
        for table, data in (("bench_old", old_data), ("bench_new", new_data)):
            cursor.execute(f"CREATE TEMP TABLE {table} ({COLUMNS}) ON COMMIT DROP")
            raw.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)", io.BytesIO(data))
        copied = time.perf_counter()
        cursor.execute(JOIN_SQL)
        rows = len(cursor.fetchall())
        joined = time.perf_counter()
    return copied - start, joined - copied, rows


def run(old_path: Path = DEFAULT_OLD, new_path: Path = DEFAULT_NEW, *, repeat: int = 3) -> dict:
    """Plan `old_path` -> `new_path` and join them in SQL, `repeat` times each; the medians as bench figures.

    Figures: `regions_plan_s` (plan_changes on the parsed lists) against the join alone, and
    `regions_read_and_plan_s` (both files parsed and validated, then planned) against COPY and join.
    """
    from django.db import connection

    from bench.core import _csv_bytes, _figure
    from villages.region_plan import plan_changes, units_read

    if connection.vendor != "postgresql":
        raise RuntimeError("The benchmark runs on PostgreSQL only: set DATABASE_URL=postgres://...")
    old_path, new_path = Path(old_path), Path(new_path)
    old_data, new_data = _csv_bytes(old_path), _csv_bytes(new_path)

    reads, plans, floors_copy, floors_join = [], [], [], []
    for _ in range(repeat):
        start = time.perf_counter()
        old, new = units_read(path=old_path), units_read(path=new_path)
        read = time.perf_counter()
        plan = plan_changes(old=old, new=new)
        planned = time.perf_counter()
        reads.append(read - start)
        plans.append(planned - read)
        copy_s, join_s, join_rows = _join_floor(old_data, new_data)
        floors_copy.append(copy_s)
        floors_join.append(join_s)

    plan_s, join_s = statistics.median(plans), statistics.median(floors_join)
    total_s = statistics.median(read + planned for read, planned in zip(reads, plans, strict=True))
    floor_total_s = statistics.median(copy + join for copy, join in zip(floors_copy, floors_join, strict=True))
    meta = {
        "old": str(old_path),
        "new": str(new_path),
        "units": {"old": len(old), "new": len(new)},
        "plan_rows": {str(change): count for change, count in sorted(plan.totals().items())},
        "join_rows": join_rows,
    }
    figures = {
        "regions_plan_s": _figure(plan_s, "s", join_s),
        "regions_read_and_plan_s": _figure(total_s, "s", floor_total_s),
    }
    return {"meta": meta, "figures": figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", nargs="?", type=Path, default=DEFAULT_OLD, help="older region list")
    parser.add_argument("new", nargs="?", type=Path, default=DEFAULT_NEW, help="newer region list")
    parser.add_argument("--repeat", type=int, default=3, help="repeats per figure (median)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartvillage.settings")
    import django

    django.setup()
    from bench.run import table

    result = run(args.old, args.new, repeat=args.repeat)
    print(table(result))
    print(result["meta"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
