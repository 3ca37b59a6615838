"""Statements as tables: CSV and XLSX, one booking per row under a header row (line 1).

The default layout's header is `tanggal,keterangan,referensi_bank,debet,kredit,saldo` (names compared
without regard to case or surrounding spaces; other columns are ignored). `referensi_bank` and `saldo`
may be absent. A bank's own layout is read through a column mapping, e.g.
`tanggal=Tgl,keterangan=Uraian,referensi_bank=No. Ref,debet=Mutasi Debet,kredit=Mutasi Kredit,saldo=Saldo`.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Iterator, Mapping

from django.utils.translation import gettext as _

from treasury.models import BANK_REFERENCE_MAX_LENGTH
from treasury.parsers.common import (
    StatementHeader,
    StatementLine,
    ValueRefused,
    bounded_amount,
    check_running_balance,
    number_occurrences,
    parse_amount,
    parse_date,
)

COLUMNS = ("tanggal", "keterangan", "referensi_bank", "debet", "kredit", "saldo")
REQUIRED_COLUMNS = ("tanggal", "keterangan", "debet", "kredit")
MAX_TEXT_LENGTH = 1000  # of one cell of free text; longer is not a bank's description

# Excel stores numbers as binary floating point: whole numbers up to 2**53 are exact, nothing else is.
EXACT_FLOAT_LIMIT = 2**53


def columns_parse(text: str) -> dict[str, str]:
    """`tanggal=Tgl,keterangan=Uraian,...` -> {"tanggal": "Tgl", ...}; raises ValueError naming the problem."""
    mapping: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, separator, header = part.partition("=")
        name, header = name.strip().casefold(), header.strip()
        if not separator or not header:
            raise ValueError(_("%(part)s: write column=Header.") % {"part": part.strip()})
        if name not in COLUMNS:
            raise ValueError(
                _("%(name)s is not a statement column (%(columns)s).") % {"name": name, "columns": ", ".join(COLUMNS)}
            )
        mapping[name] = header
    return mapping


def _locate_columns(header: list, columns: Mapping[str, str] | None) -> tuple[dict[str, int], list[str]]:
    """Each statement column's index in the header row, and the problems with the header."""
    wanted = {name: (columns or {}).get(name, name) for name in COLUMNS}
    found: dict[str, int] = {}
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        title = " ".join(str(cell if cell is not None else "").split()).casefold()
        positions.setdefault(title, index)
    problems = []
    for name, title in wanted.items():
        index = positions.get(" ".join(title.split()).casefold())
        if index is not None:
            found[name] = index
        elif name in REQUIRED_COLUMNS or (columns and name in columns):
            problems.append(
                _("the header has no column %(title)s (for %(name)s).") % {"title": title, "name": name}
                if title != name
                else _("the header has no column %(name)s.") % {"name": name}
            )
    return found, problems


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    return str(value)


def _cell_amount(value: object, column: str) -> int:
    # XLSX cells arrive typed; CSV cells and XLSX text cells as text.
    if isinstance(value, bool):
        raise ValueRefused(_("%(column)s: %(value)s is not an amount.") % {"column": column, "value": value})
    if isinstance(value, int):
        return bounded_amount(value, column)
    if isinstance(value, float):
        if not value.is_integer() or abs(value) >= EXACT_FLOAT_LIMIT:
            raise ValueRefused(
                _("%(column)s: %(value)s has a fraction of a rupiah; amounts are whole rupiah.")
                % {"column": column, "value": value}
            )
        return bounded_amount(int(value), column)
    return parse_amount(_text(value), column)


def _cell_date(value: object, column: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return parse_date(_text(value), column)


def _row_line(number: int, row: list, found: dict[str, int], errors: list[tuple[int, str]]) -> StatementLine | None:
    def cell(name: str) -> object:
        index = found.get(name)
        return row[index] if index is not None and index < len(row) else None

    problems = []
    values: dict[str, object] = {}
    for name, read in (("tanggal", _cell_date), ("debet", _cell_amount), ("kredit", _cell_amount)):
        try:
            values[name] = read(cell(name), name)
        except ValueRefused as exc:
            problems.append(str(exc))
    balance = None
    if "saldo" in found and _text(cell("saldo")).strip():
        try:
            balance = _cell_amount(cell("saldo"), "saldo")
        except ValueRefused as exc:
            problems.append(str(exc))
    description = " ".join(_text(cell("keterangan")).split())
    reference = " ".join(_text(cell("referensi_bank")).split())
    if len(description) > MAX_TEXT_LENGTH:
        problems.append(_("keterangan: longer than %(limit)d characters.") % {"limit": MAX_TEXT_LENGTH})
    if len(reference) > BANK_REFERENCE_MAX_LENGTH:
        problems.append(_("referensi_bank: longer than %(limit)d characters.") % {"limit": BANK_REFERENCE_MAX_LENGTH})
    if not problems:
        debit, credit = values["debet"], values["kredit"]
        if debit and credit:
            problems.append(_("a line has either a debet or a kredit, not both."))
        elif not debit and not credit:
            problems.append(_("the line has neither a debet nor a kredit."))
    if problems:
        errors.extend((number, problem) for problem in problems)
        return None
    return StatementLine(
        line=number,
        date=values["tanggal"],
        description=description,
        bank_reference=reference,
        debit=values["debet"],
        credit=values["kredit"],
        balance=balance,
    )


def _blank(row: list) -> bool:
    return all(not _text(value).strip() for value in row)


def parse_rows(
    rows: Iterator[tuple[int, list]], columns: Mapping[str, str] | None, errors: list[tuple[int, str]]
) -> tuple[StatementHeader, tuple[StatementLine, ...]]:
    """The statement of a table: `rows` yields (line number, cells), the header first."""
    try:
        number, header = next(rows)
    except StopIteration:
        if not errors:
            message = _("the file is empty; the first line is the header (%(columns)s).") % {
                "columns": ",".join(COLUMNS)
            }
            errors.append((1, message))
        return StatementHeader("", None, None, None, None), ()
    found, problems = _locate_columns(header, columns)
    if problems:
        errors.extend((number, problem) for problem in problems)
        return StatementHeader("", None, None, None, None), ()
    lines = []
    for number, row in rows:
        if _blank(row):
            continue
        line = _row_line(number, row, found, errors)
        if line is not None:
            lines.append(line)
    if not lines and not errors:
        errors.append((1, _("the file has no lines under its header.")))
    opening, closing = check_running_balance(lines, errors)
    dates = [line.date for line in lines]
    header_values = StatementHeader(
        account="",
        period_from=min(dates, default=None),
        period_to=max(dates, default=None),
        opening_balance=opening,
        closing_balance=closing,
    )
    return header_values, number_occurrences(lines)


def csv_rows(data: bytes, errors: list[tuple[int, str]]) -> Iterator[tuple[int, list]]:
    """Rows of a UTF-8 CSV file; a header with more semicolons than commas means `;` separates fields,
    as spreadsheets in Indonesian locales write it."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        errors.append((line, _("the file is not UTF-8 text; save it as CSV UTF-8.")))
        return
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        errors.append((reader.line_num, _("malformed CSV (%(problem)s).") % {"problem": exc}))


def xlsx_rows(data: bytes, errors: list[tuple[int, str]]) -> Iterator[tuple[int, list]]:
    """Rows of the first sheet of an XLSX workbook, numbered as Excel numbers them."""
    from openpyxl import load_workbook  # imported here: only XLSX statements need it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError, OSError):
        errors.append((0, _("The file is not an XLSX workbook.")))
        return
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows():
            cells = [cell for cell in row if getattr(cell, "row", None) is not None]
            if not cells:
                continue
            yield cells[0].row, _by_column(cells)
    finally:
        workbook.close()


def _by_column(cells: list) -> list:
    # A read-only sheet may skip empty cells: place each value at its column.
    values: list = [None] * max(cell.column for cell in cells)
    for cell in cells:
        values[cell.column - 1] = cell.value
    return values
