"""A statement generator: given an allocation's disbursements, a bank statement of the RKUD account with a
known number of lines of each outcome, written as CSV, XLSX or MT940.

The bank's text is varied on purpose: SP2D numbers in upper and lower case, with "NO." inserted or
separators dropped and spaced, without the word SP2D, with a zero-width space; amounts with and without
Indonesian thousands separators. `Scenario` says how many lines of each kind; `generate` returns the
rows and the outcome counts and amounts the matcher must find. Usable outside the tests (the bench):
it needs only the disbursements (`treasury.selectors.disbursement_refs`).
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from treasury.matching import DisbursementRef

OPENING_BALANCE = 25_000_000_000
ACCOUNT = "0101010001234"  # RKUD Provinsi Lampung at the regional bank (an invented number)


@dataclass(frozen=True)
class Scenario:
    exact: int = 4  # disbursements paid with their amount
    mismatched: int = 2  # paid with another amount
    missing: int = 2  # disbursed in the portal, no line pays them
    unknown: int = 3  # debits naming no SP2D of the allocation
    duplicates: int = 2  # a second line paying an exactly paid SP2D
    returns: int = 1  # paid, then bounced back (retur): the debit matched, the credit returned
    batches: int = 1  # batch SP2D paid as one transfer per village
    other_credits: int = 1  # income that returns no SP2D (interest): no outcome

    @property
    def single_disbursements(self) -> int:
        """How many one-grant disbursements the scenario uses."""
        return self.exact + self.mismatched + self.missing + self.returns


@dataclass(frozen=True)
class Row:
    date: datetime.date
    description: str
    bank_reference: str
    debit: int = 0
    credit: int = 0


@dataclass
class Generated:
    rows: list[Row]
    counts: dict[str, int]
    amounts: dict[str, int]
    opening_balance: int = OPENING_BALANCE
    balances: list[int] = field(default_factory=list)

    @property
    def closing_balance(self) -> int:
        return self.balances[-1] if self.balances else self.opening_balance

    @property
    def period(self) -> tuple[datetime.date, datetime.date]:
        dates = [row.date for row in self.rows]
        return min(dates), max(dates)


def odd_spelling(reference: str, variant: int) -> str:
    """The reference as one bank or another writes it."""
    compact = reference.replace(" ", "")
    variants = [
        reference.upper(),
        " / ".join(part.strip() for part in reference.lower().split("/")),  # sp2d no.0012 / bl / 2024
        reference.replace("SP2D", "SP2D NO.", 1).replace("NO.NO.", "NO.").replace("NO. NO.", "NO."),
        "".join(character for character in compact if character.isalnum()),  # SP2DNO0012BL2024
        reference.replace("/", "\u200b/"),  # a zero-width space, invisible in the bank's portal
        reference.upper().replace("SP2D", "").replace("NO.", "").strip(" -"),  # the word SP2D dropped
    ]
    return variants[variant % len(variants)]


def _text(reference: str, variant: int, village: tuple[str, str] | None, prefix: str = "TRF") -> str:
    text = f"{prefix} {odd_spelling(reference, variant)}"
    if village is not None:
        code, name = village
        text += f" DESA {name.upper()}" if variant % 2 else f" KE REK KAS DESA {code}"
    return text


def generate(disbursements: Sequence[DisbursementRef], scenario: Scenario) -> Generated:
    """Rows for `scenario` from the allocation's `disbursements`: the first ones with one grant serve the
    single cases in the order exact, mismatched, missing, returns; the batches are the first
    disbursements of several grants. The statement's dates are the disbursements' transfer dates."""
    singles = [d for d in disbursements if len(d.grants) == 1]
    batches = [d for d in disbursements if len(d.grants) > 1]
    if len(singles) < scenario.single_disbursements or len(batches) < scenario.batches:
        raise ValueError("not enough disbursements for this scenario")
    cursor = iter(singles)
    exact = [next(cursor) for _ in range(scenario.exact)]
    mismatched = [next(cursor) for _ in range(scenario.mismatched)]
    missing = [next(cursor) for _ in range(scenario.missing)]
    returns = [next(cursor) for _ in range(scenario.returns)]
    batched = batches[: scenario.batches]
    day = min(d.transfer_date for d in [*exact, *mismatched, *missing, *returns, *batched])
    counts = dict.fromkeys(
        ("matched", "amount_mismatch", "duplicate", "unmatched_line", "unmatched_disbursement", "returned"), 0
    )
    amounts = dict(counts)
    rows: list[Row] = []
    number = iter(range(1, 10**6))

    def add(kind: str | None, row: Row) -> None:
        rows.append(row)
        if kind is not None:
            counts[kind] += 1
            amounts[kind] += row.debit or row.credit

    def village(d: DisbursementRef) -> tuple[str, str]:
        return d.grants[0].village_code, d.grants[0].village_name

    for variant, d in enumerate(exact):
        add("matched", Row(d.transfer_date, _text(d.reference, variant, village(d)), f"BL{next(number):08d}", d.amount))
    for variant, d in enumerate(mismatched):
        paid = d.amount - 500_000 * (variant + 1)
        add(
            "amount_mismatch",
            Row(d.transfer_date, _text(d.reference, variant + 1, village(d)), f"BL{next(number):08d}", paid),
        )
    for variant, d in enumerate(exact[: scenario.duplicates]):
        row = Row(d.transfer_date, _text(d.reference, variant + 2, None), f"BL{next(number):08d}", d.amount)
        add("duplicate", row)
    for variant, d in enumerate(returns):
        add("matched", Row(d.transfer_date, _text(d.reference, variant, village(d)), f"BL{next(number):08d}", d.amount))
        text = _text(d.reference, variant + 3, None, prefix="RETUR REK TUTUP")
        add(
            "returned",
            Row(d.transfer_date + datetime.timedelta(days=1), text, f"RT{next(number):08d}", credit=d.amount),
        )
    for d in batched:
        for variant, grant in enumerate(d.grants):
            text = _text(d.reference, variant, (grant.village_code, grant.village_name))
            add("matched", Row(d.transfer_date, text, f"BL{next(number):08d}", grant.amount))
    unknown_texts = ["TRF SP2D NO.9{:03d}/BL/2099 DESA ENTAHLAH", "BIAYA ADM REKENING {}", "PEMBAYARAN HONOR {}"]
    for index in range(scenario.unknown):
        text = unknown_texts[index % len(unknown_texts)].format(index)
        add("unmatched_line", Row(day, text, f"BL{next(number):08d}", 1_250_000 + index))
    for index in range(scenario.other_credits):
        add(None, Row(day, f"BUNGA JASA GIRO {index}", f"JG{next(number):08d}", credit=75_000 + index))
    for d in missing:
        counts["unmatched_disbursement"] += 1
        amounts["unmatched_disbursement"] += d.amount

    rows.sort(key=lambda row: row.date)
    balances = []
    balance = OPENING_BALANCE
    for row in rows:
        balance += row.credit - row.debit
        balances.append(balance)
    return Generated(rows=rows, counts=counts, amounts=amounts, balances=balances)


# --- writers -------------------------------------------------------------------------------------

DEFAULT_HEADER = ("tanggal", "keterangan", "referensi_bank", "debet", "kredit", "saldo")


def indonesian(amount: int) -> str:
    return f"{amount:,}".replace(",", ".")


def _amount_text(amount: int, index: int) -> str:
    if not amount:
        return ""
    return indonesian(amount) if index % 2 else str(amount)


def _date_text(date: datetime.date, index: int) -> str:
    return date.isoformat() if index % 3 else date.strftime("%d/%m/%Y")


def to_csv(generated: Generated, *, header: Sequence[str] = DEFAULT_HEADER, delimiter: str = ",") -> bytes:
    """The statement as CSV: dates and amounts written both ways the default layout accepts."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    for index, (row, balance) in enumerate(zip(generated.rows, generated.balances, strict=True)):
        writer.writerow(
            [
                _date_text(row.date, index),
                row.description,
                row.bank_reference,
                _amount_text(row.debit, index),
                _amount_text(row.credit, index),
                _amount_text(balance, index),
            ]
        )
    return out.getvalue().encode()


def to_xlsx(generated: Generated, *, header: Sequence[str] = DEFAULT_HEADER) -> bytes:
    """The statement as a workbook: dates as dates, amounts as numbers, a few as text with separators."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Rekening Koran"
    sheet.append(list(header))
    for index, (row, balance) in enumerate(zip(generated.rows, generated.balances, strict=True)):
        debit = indonesian(row.debit) if row.debit and index % 4 == 1 else (row.debit or None)
        sheet.append([row.date, row.description, row.bank_reference, debit, row.credit or None, balance])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _swift_date(date: datetime.date) -> str:
    return date.strftime("%y%m%d")


def _swift_amount(amount: int) -> str:
    return f"{amount},00"


def to_mt940(generated: Generated, *, account: str = ACCOUNT, messages: int = 1) -> bytes:
    """The statement as MT940, in `messages` messages (e.g. one per day), each with its balances."""
    rows = list(zip(generated.rows, generated.balances, strict=True))
    size = max(1, -(-len(rows) // messages))
    chunks = [rows[start : start + size] for start in range(0, len(rows), size)] or [[]]
    out = ["{1:F01BPDLIDJAXXX0000000000}{2:I940BPDLIDJAXXXXN}{4:"]
    opening = generated.opening_balance
    first_date = generated.rows[0].date if generated.rows else datetime.date.today()  # noqa: DTZ011
    for number, chunk in enumerate(chunks, start=1):
        start = chunk[0][0].date if chunk else first_date
        out += [f":20:RK{_swift_date(start)}{number:04d}", f":25:{account}", f":28C:{number}/1"]
        out.append(f":60F:C{_swift_date(start)}IDR{_swift_amount(opening)}")
        for row, balance in chunk:
            mark, amount = ("D", row.debit) if row.debit else ("C", row.credit)
            day = _swift_date(row.date)
            out.append(f":61:{day}{day[2:]}{mark}{_swift_amount(amount)}NTRFNONREF//{row.bank_reference}")
            text = row.description
            out.append(":86:" + text[:65])
            out += [text[start : start + 65] for start in range(65, len(text), 65)]
            opening = balance
        end = chunk[-1][0].date if chunk else first_date
        out.append(f":62F:C{_swift_date(end)}IDR{_swift_amount(opening)}")
    out.append("-}")
    return ("\r\n".join(out) + "\r\n").encode()
