"""Reading an official Kemendagri region list: parsed and validated completely, every problem with its line.

Shared by the loader (`villages.services`) and the planner (`villages.region_plan`).
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass
from pathlib import Path

from villages.models import (
    DISTRICT_CODE_RE,
    PROVINCE_CODE_RE,
    REGENCY_CODE_RE,
    VILLAGE_CODE_RE,
    District,
    Province,
    Regency,
    Village,
    regency_kind_for_code,
    village_kind_for_code,
)

DEFAULT_REGIONS_FILE = Path(__file__).resolve().parent / "data" / "lampung_regions.csv"

# The national file is about 4.3 MB; anything far beyond that is not a region list.
MAX_FILE_BYTES = 64 * 1024 * 1024
REQUIRED_COLUMNS = ("code", "name", "level", "parent_code")
MAX_NAME_LENGTH = Village._meta.get_field("name").max_length
BATCH_SIZE = 2000

LEVELS = ("province", "regency", "district", "village")
LEVEL_MODELS = {"province": Province, "regency": Regency, "district": District, "village": Village}
LEVEL_CODE_RES = {
    "province": re.compile(PROVINCE_CODE_RE),
    "regency": re.compile(REGENCY_CODE_RE),
    "district": re.compile(DISTRICT_CODE_RE),
    "village": re.compile(VILLAGE_CODE_RE),
}
PARENT_LEVEL = {"regency": "province", "district": "regency", "village": "district"}


class RegionFileError(Exception):
    """The file cannot be loaded; `errors` lists every problem with its line number."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


@dataclass(frozen=True)
class RegionRow:
    line: int
    level: str
    code: str
    name: str
    parent_code: str
    kind: str  # regency: kabupaten/kota; village: desa/kelurahan/desa_adat; otherwise empty


def _read_text(path: Path) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise RegionFileError([f"{path}: file not found"]) from None
    except (OSError, EOFError) as exc:
        raise RegionFileError([f"{path}: cannot be read ({exc})"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise RegionFileError([f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB, refused"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RegionFileError(
            [f"line {line}: not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"]
        ) from None


def _parse_row(line: int, raw: dict[str, str | None], errors: list[tuple[int, str]]) -> RegionRow | None:
    values = {key: (value or "").strip() for key, value in raw.items() if key is not None}
    if None in raw:
        errors.append((line, "more fields than the header has columns"))
        return None
    code, name, level, parent_code = (values.get(column, "") for column in REQUIRED_COLUMNS)
    problems = []
    if level not in LEVELS:
        problems.append(f"level {level!r} is not one of {', '.join(LEVELS)}")
    elif not LEVEL_CODE_RES[level].match(code):
        problems.append(f"code {code!r} is not a valid {level} code")
    if not name:
        problems.append("name is empty")
    elif len(name) > MAX_NAME_LENGTH:
        problems.append(f"name is longer than {MAX_NAME_LENGTH} characters")
    if problems:
        errors.extend((line, problem) for problem in problems)
        return None

    expected_parent = code.rsplit(".", 1)[0] if level != "province" else ""
    if parent_code != expected_parent:
        errors.append((line, f"parent_code {parent_code!r} does not match code {code} (expected {expected_parent!r})"))
        return None

    kind = ""
    if level == "regency":
        kind = regency_kind_for_code(code)
        given = values.get("regency_kind", "")
        if kind is None:
            errors.append((line, f"regency code {code} is neither a kabupaten (01-69) nor a kota (71-99)"))
            return None
        if given and given != kind:
            errors.append((line, f"regency_kind {given!r} contradicts code {code}, which is a {kind}"))
            return None
    elif level == "village":
        kind = village_kind_for_code(code)
        given = values.get("kind", "")
        if kind is None:
            errors.append((line, f"village code {code} must start its last part with 1, 2 or 3"))
            return None
        if given and given != kind:
            errors.append((line, f"kind {given!r} contradicts code {code}, which is a {kind}"))
            return None
    return RegionRow(line=line, level=level, code=code, name=name, parent_code=parent_code, kind=kind)


def region_text(data: bytes) -> str:
    """An uploaded region list's text: gzip-compressed or not, UTF-8, size-limited (RegionFileError)."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise RegionFileError([f"line 1: not a readable gzip file ({exc})"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise RegionFileError([f"line 1: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB, refused"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RegionFileError(
            [f"line {line}: not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"]
        ) from None


def regions_parse(*, path: Path | None = None, text: str | None = None) -> list[RegionRow]:
    """Read and validate a region file (or its `text`) completely; raise RegionFileError listing every bad row."""
    reader = csv.DictReader(io.StringIO(_read_text(path) if text is None else text, newline=""))
    header = reader.fieldnames or []
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise RegionFileError([f"line 1: missing column(s) {', '.join(missing)}; the header is {header}"])

    errors: list[tuple[int, str]] = []
    rows: list[RegionRow] = []
    first_line: dict[str, int] = {}
    try:
        for raw in reader:
            line = reader.line_num
            row = _parse_row(line, raw, errors)
            if row is None:
                continue
            if row.code in first_line:
                errors.append((line, f"duplicate code {row.code} (first on line {first_line[row.code]})"))
                continue
            first_line[row.code] = line
            rows.append(row)
    except csv.Error as exc:
        errors.append((reader.line_num, f"malformed CSV ({exc})"))

    if not rows and not errors:
        errors.append((1, "the file has no rows"))

    # A parent may come later in the file or already be in the registry.
    known = set(first_line)
    wanted = {row.parent_code for row in rows if row.parent_code and row.parent_code not in known}
    for level in ("province", "regency", "district"):
        codes = [code for code in wanted if LEVEL_CODE_RES[level].match(code)]
        known.update(LEVEL_MODELS[level].objects.filter(code__in=codes).values_list("code", flat=True))
    for row in rows:
        if row.parent_code and row.parent_code not in known:
            errors.append((row.line, f"unknown parent {row.parent_code} for {row.level} {row.code}"))

    if errors:
        raise RegionFileError([f"line {line}: {message}" for line, message in sorted(errors)])
    return rows
