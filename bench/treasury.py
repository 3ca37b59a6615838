"""`make bench` figure for the treasury reconciliation (issue 15): importing a bank statement of 84,000 lines
against a national allocation, beside its floor.

The allocation pays every active village of the loaded registry (up to 83,400, the national count) one
grant under an SP2D of its own; the statement pays them in the bank's varied spellings (case, "NO.",
separators dropped or spaced, the word SP2D dropped), with some amounts that differ, SP2D the bank paid
twice, transfers bounced back (retur), debits naming no SP2D and interest credits: 84,000 lines at the
national scale.

The value is `treasury.services.statement_import` of the parsed file: the staged identities read, the
matching core, every line and outcome written, in one transaction. The floor is PostgreSQL COPYing the
lines, each with the canonical SP2D key the generator knows, into a temporary table and joining them to
the allocation's disbursements once (an outcome per line by CASE): what an importer that was handed
exact keys would do, a lower bound for one that must find the SP2D in the bank's text.

Standalone: DATABASE_URL=postgres://... python bench/treasury.py (needs a loaded registry; writes an
allocation of its own, fiscal year 2024, and removes it afterwards).
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NATIONAL_LINES = 84_000
# Lines that are not one exact payment per disbursement, per 1,000 disbursements.
PER_MILLE = {"mismatched": 6, "duplicates": 4, "returns": 3, "unknown": 6, "other_credits": 2}
FISCAL_YEAR = 2024
UNIT = 6_000_000

FLOOR_SQL = """
CREATE TEMP TABLE bench_outcomes ON COMMIT DROP AS
SELECT l.line, l.debit, l.credit, d.id AS disbursement_id,
       CASE WHEN d.id IS NULL THEN 'unmatched_line'
            WHEN l.credit > 0 THEN 'returned'
            WHEN l.debit = d.amount THEN 'matched'
            ELSE 'amount_mismatch' END AS kind
FROM bench_lines l
LEFT JOIN grants_disbursement d ON d.allocation_id = %s AND d.reference_key = l.sp2d_key
"""


def _spelling(reference: str, variant: int) -> str:
    """The reference as one bank or another writes it (as tests/treasury/statements.odd_spelling)."""
    compact = reference.replace(" ", "")
    variants = (
        reference.upper(),
        " / ".join(part.strip() for part in reference.lower().split("/")),
        reference.replace("SP2D", "SP2D NO.", 1),
        "".join(character for character in compact if character.isalnum()),
        reference.upper().replace("SP2D", "").strip(" -"),
    )
    return variants[variant % len(variants)]


def _allocation(actor, disbursements: int):
    """A national allocation: one grant per village (the first `disbursements` active villages by code),
    each paid under an SP2D of its own. Bulk-written: bench data, not the grant services' path."""
    from grants.models import Allocation, Disbursement, Grant, GrantStatus
    from grants.services import reference_key
    from villages.models import Province, Village

    province = Province.objects.order_by("code").first()
    allocation = Allocation.objects.create(
        province=province,
        fiscal_year=FISCAL_YEAR,
        funding_source="APBN bench rekonsiliasi",
        legal_basis="Bench: alokasi nasional",
        total_amount=UNIT * disbursements,
        unit_amount=UNIT,
        status="active",
    )
    villages = list(Village.objects.filter(is_active=True).order_by("code").values_list("pk", flat=True))
    villages = villages[:disbursements]
    date = datetime.date(FISCAL_YEAR, 12, 1)
    references = [f"SP2D-{index:06d}/LS/{FISCAL_YEAR}" for index in range(len(villages))]
    rows = Disbursement.objects.bulk_create(
        [
            Disbursement(
                allocation=allocation,
                reference=reference,
                reference_key=reference_key(reference),
                transfer_date=date,
                amount=UNIT,
                created_by=actor,
            )
            for reference in references
        ],
        batch_size=5000,
    )
    Grant.objects.bulk_create(
        [
            Grant(
                allocation=allocation, village_id=village, amount=UNIT, status=GrantStatus.DISBURSED, disbursement=row
            )
            for village, row in zip(villages, rows, strict=True)
        ],
        batch_size=5000,
    )
    return allocation, rows


def _statement(disbursements, lines: int) -> tuple[bytes, bytes]:
    """(the statement as CSV in the default layout, the same lines with their SP2D key for the floor)."""
    from grants.services import reference_key

    count = len(disbursements)
    extra = {name: max(1, count * share // 1000) for name, share in PER_MILLE.items()}
    rows: list[tuple] = []  # (date, text, bank reference, debit, credit, sp2d key)
    for index, d in enumerate(disbursements):
        text = f"TRF {_spelling(d.reference, index)} KE REK KAS DESA"
        debit = d.amount - 250_000 if index < extra["mismatched"] else d.amount
        rows.append((d.transfer_date, text, f"BL{index:08d}", debit, 0, d.reference_key))
    for index, d in enumerate(disbursements[-extra["duplicates"] :]):
        rows.append((d.transfer_date, f"TRF ULANG {d.reference}", f"BD{index:08d}", d.amount, 0, d.reference_key))
    for index, d in enumerate(disbursements[-extra["returns"] - extra["duplicates"] : -extra["duplicates"]]):
        day = d.transfer_date + datetime.timedelta(days=1)
        rows.append((day, f"RETUR REK TUTUP {d.reference}", f"RT{index:08d}", 0, d.amount, d.reference_key))
    day = disbursements[0].transfer_date
    for index in range(extra["unknown"]):
        rows.append((day, f"BIAYA ADM REKENING {index}", f"AD{index:08d}", 5_000 + index, 0, ""))
    credits = max(0, lines - len(rows)) if lines > len(rows) else extra["other_credits"]
    for index in range(credits):
        rows.append((day, f"BUNGA JASA GIRO {index}", f"JG{index:08d}", 0, 75_000 + index, ""))
    rows.sort(key=lambda row: row[0])
    statement, floor = io.StringIO(), io.StringIO()
    writer, floor_writer = csv.writer(statement, lineterminator="\n"), csv.writer(floor, lineterminator="\n")
    writer.writerow(["tanggal", "keterangan", "referensi_bank", "debet", "kredit"])
    for number, (date, text, bank, debit, credit, key) in enumerate(rows, start=2):
        writer.writerow([date.isoformat(), text, bank, debit or "", credit or ""])
        floor_writer.writerow([number, date.isoformat(), text, bank, debit, credit, reference_key(key) if key else ""])
    return statement.getvalue().encode(), floor.getvalue().encode()


def _floor(allocation_id: int, floor_csv: bytes) -> tuple[float, int]:
    """Seconds to COPY the lines (with their SP2D key) and join them to the disbursements once; rows made."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        start = time.perf_counter()
        cursor.execute(
            "CREATE TEMP TABLE bench_lines (line int, date date, text text, bank text, debit bigint, "
            "credit bigint, sp2d_key text) ON COMMIT DROP"
        )
        cursor.cursor.copy_expert("COPY bench_lines FROM STDIN WITH (FORMAT csv)", io.BytesIO(floor_csv))
        cursor.execute(FLOOR_SQL, [allocation_id])
        cursor.execute("SELECT count(*) FROM bench_outcomes")
        made = cursor.fetchone()[0]
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return elapsed, made


def _delete(allocation_id: int, *tables: str) -> None:
    """Plain DELETEs of the bench allocation's rows (the ORM's delete would first load 84,000 rows to
    collect what depends on them; nothing does)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            column = "id" if table == "grants_allocation" else "allocation_id"
            cursor.execute(f"DELETE FROM {table} WHERE {column} = %s", [allocation_id])  # noqa: S608 (names above)


def _forget(allocation) -> None:
    """The allocation's statements, lines and outcomes removed (the next repeat imports the file afresh)."""
    _delete(allocation.pk, "treasury_outcome", "treasury_statementline", "treasury_statement")


def run(*, lines: int = NATIONAL_LINES, repeat: int = 3) -> dict:
    """The reconciliation of a statement of about `lines` lines against a national allocation (as many
    disbursements as villages allow), `repeat` times; figures `treasury_reconcile_s` (import) against
    the COPY-and-join floor, and `treasury_parse_s` (reading the file)."""
    from accounts.models import Role, User
    from bench.core import _figure
    from treasury.parsers import statement_parse
    from treasury.services import statement_import

    actor, _created = User.objects.get_or_create(username="bench.kas", defaults={"role": Role.PROVINCE_STAFF})
    extra = sum(PER_MILLE.values()) - PER_MILLE["mismatched"]
    disbursements = max(10, lines * 1000 // (1000 + extra))
    allocation, refs = _allocation(actor, disbursements)
    if len(refs) < disbursements:  # fewer villages than the nation's: a statement of their scale
        lines = len(refs) * (1000 + extra) // 1000
    try:
        data, floor_csv = _statement(refs, lines)
        parse_times, import_times, floors = [], [], []
        report = None
        for _ in range(repeat):
            start = time.perf_counter()
            parsed = statement_parse(data=data, file_name="rekening-koran-nasional.csv")
            parse_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            report = statement_import(allocation=allocation, parsed=parsed, actor=actor)
            import_times.append(time.perf_counter() - start)
            _forget(allocation)
            floors.append(_floor(allocation.pk, floor_csv)[0])
        meta = {
            "lines": report.lines,
            "disbursements": len(refs),
            "counts": report.counts,
            "debit_total": report.debit_total,
            "line_outcomes_total": report.line_outcomes_total,
        }
        floor = statistics.median(floors)
        figures = {
            "treasury_reconcile_s": _figure(statistics.median(import_times), "s", floor),
            "treasury_parse_s": _figure(statistics.median(parse_times), "s"),
        }
        return {"meta": meta, "figures": figures}
    finally:
        _forget(allocation)
        _delete(allocation.pk, "grants_grant", "grants_disbursement", "grants_allocation")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartvillage.settings")
    import django

    django.setup()
    result = run()
    print(result["meta"])
    for name, figure in result["figures"].items():
        print(name, figure)
