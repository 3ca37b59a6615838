"""Reading a bank statement of the RKUD account (rekening koran) into plain values.

`statement_parse` recognises the format from the file's name: `.csv`, `.xlsx`, MT940 as `.sta`,
`.mt940` or `.txt`. A bad file is refused whole with `StatementFileError`, every problem with its line
(the header, or MT940's first line, is line 1); nothing is written by parsing in any case.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path, PurePath

from django.utils.translation import gettext as _

from treasury.parsers.common import (
    MAX_FILE_BYTES,
    ParsedStatement,
    StatementFileError,
    StatementHeader,
    StatementLine,
)
from treasury.parsers.swift import parse_mt940
from treasury.parsers.tabular import COLUMNS, columns_parse, csv_rows, parse_rows, xlsx_rows

__all__ = [
    "COLUMNS",
    "FORMATS",
    "ParsedStatement",
    "StatementFileError",
    "StatementHeader",
    "StatementLine",
    "columns_parse",
    "statement_format",
    "statement_parse",
    "statement_parse_file",
]

# File name suffix -> format.
FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".sta": "mt940", ".mt940": "mt940", ".txt": "mt940"}


def statement_format(file_name: str) -> str:
    """The format of a statement file from its name; StatementFileError for any other name."""
    suffix = PurePath(file_name).suffix.casefold()
    if suffix not in FORMATS:
        raise StatementFileError(
            [
                (
                    0,
                    _("%(name)s: the format is recognised from the file name: %(suffixes)s.")
                    % {"name": PurePath(file_name).name, "suffixes": ", ".join(FORMATS)},
                )
            ]
        )
    return FORMATS[suffix]


def statement_parse(*, data: bytes, file_name: str, columns: Mapping[str, str] | None = None) -> ParsedStatement:
    """Parse a statement file's bytes. `columns` maps the CSV/XLSX columns (COLUMNS) to the file's own
    headers, for a bank whose layout is not the default one; MT940 has no columns to map."""
    kind = statement_format(file_name)
    if len(data) > MAX_FILE_BYTES:
        raise StatementFileError(
            [(0, _("The file is larger than %(limit)d MB.") % {"limit": MAX_FILE_BYTES // (1024 * 1024)})]
        )
    errors: list[tuple[int, str]] = []
    if kind == "mt940":
        header, lines = parse_mt940(data, errors)
    else:
        rows = csv_rows(data, errors) if kind == "csv" else xlsx_rows(data, errors)
        header, lines = parse_rows(rows, columns, errors)
    if errors:
        raise StatementFileError(errors)
    return ParsedStatement(
        format=kind,
        file_name=PurePath(file_name).name,
        sha256=hashlib.sha256(data).hexdigest(),
        header=header,
        lines=lines,
    )


def statement_parse_file(path: Path, *, columns: Mapping[str, str] | None = None) -> ParsedStatement:
    statement_format(path.name)  # refuse a wrong name before reading anything
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise StatementFileError(
            [(0, _("%(name)s cannot be read (%(problem)s).") % {"name": path, "problem": exc.strerror})]
        ) from None
    return statement_parse(data=data, file_name=path.name, columns=columns)
