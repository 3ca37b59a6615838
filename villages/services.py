"""Writes to the region registry: loading an official Kemendagri region list, and applying a newer list's
reviewed change set (issue 14).

`regions_load` is an idempotent, all-or-nothing upsert. The file is parsed and
validated completely before anything is written; any invalid row aborts the
load with errors naming the line. Units missing from the file, within the
provinces the file covers, are deactivated (never deleted). It keeps today's
behaviour for an empty registry or a list with the same codes; a list that
would move codes is refused: it is planned (`regions_plan`), reviewed, and
applied (`regions_apply`), which keeps each unit's identity, and so its grants,
reports and statuses, across a new code.

Every change to a unit's code, name, parent or kind closes its current
`RegionVersion` and opens the next, with the decree and the date it is valid
from; nothing older is rewritten.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AuditAction, AuditEntry, User
from villages.models import (
    RegionListUpload,
    RegionVersion,
    VersionCause,
    regency_kind_for_code,
)
from villages.region_files import (
    BATCH_SIZE,
    DEFAULT_REGIONS_FILE,
    LEVEL_MODELS,
    LEVELS,
    RegionFileError,
    RegionRow,
    _read_text,
    region_text,
    regions_parse,
)
from villages.region_plan import (
    CHANGES,
    DECREES_FILE,
    MATCHED_CHANGES,
    PLAN_COLUMNS,
    Change,
    Plan,
    PlanFileError,
    PlanRow,
    UnitRow,
    _unescape,
    plan_changes,
    plan_parse,
    plan_to_csv,
)

__all__ = [
    "DEFAULT_REGIONS_FILE",
    "LEVELS",
    "PlanFileError",
    "RegionFileError",
    "regions_apply",
    "regions_load",
    "regions_plan",
]


@dataclass
class LevelCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0


@dataclass
class LoadReport:
    dry_run: bool
    levels: dict[str, LevelCounts] = field(default_factory=lambda: {level: LevelCounts() for level in LEVELS})

    def total(self, name: str) -> int:
        return sum(getattr(counts, name) for counts in self.levels.values())


# The fields a row sets besides code and is_active, per level; the parents are the units' keys.
LEVEL_FIELDS = {
    "province": ("name",),
    "regency": ("name", "kind", "province_id"),
    "district": ("name", "regency_id"),
    "village": ("name", "kind", "district_id", "regency_id"),
}


def _field_values(row: RegionRow, ids: dict[str, dict[str, int]]) -> tuple:
    """The values of LEVEL_FIELDS[row.level] for a row, in that order; `ids` maps each level's codes to keys."""
    if row.level == "province":
        return (row.name,)
    if row.level == "regency":
        return (row.name, row.kind, ids["province"].get(row.parent_code))
    if row.level == "district":
        return (row.name, ids["regency"].get(row.parent_code))
    return (row.name, row.kind, ids["district"].get(row.parent_code), ids["regency"].get(row.code[:5]))


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _listed_decree(path: Path) -> tuple[str, datetime.date | None]:
    """The decree and date of a bundled list (villages/data/decrees.csv), or ('', None) for another file."""
    with DECREES_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if (DECREES_FILE.parent / row["file"]).resolve() == Path(path).resolve():
                return row["decree"], datetime.date.fromisoformat(row["date"])
    return "", None


def _touched(provinces: Iterable[str]) -> Q:
    touched = Q(code__in=[])
    for province in sorted(provinces):
        touched |= Q(code__startswith=province)
    return touched


# --- versions -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Version:
    unit_id: int
    code: str
    name: str
    parent_code: str
    kind: str
    cause: str


def _versions_close(level: str, unit_ids: Sequence[int], *, valid_to: datetime.date) -> None:
    """End the current versions of these units (once: a closed version is never changed again)."""
    for chunk in _chunks(list(unit_ids), BATCH_SIZE):
        RegionVersion.objects.filter(**{f"{level}__in": chunk}, valid_to__isnull=True).update(valid_to=valid_to)


def _versions_open(level: str, versions: Sequence[_Version], *, decree: str, valid_from: datetime.date) -> None:
    RegionVersion.objects.bulk_create(
        (
            RegionVersion(
                level=level,
                **{f"{level}_id": version.unit_id},
                code=version.code,
                name=version.name,
                parent_code=version.parent_code,
                kind=version.kind,
                decree=decree,
                valid_from=valid_from,
                cause=version.cause,
            )
            for version in versions
        ),
        batch_size=BATCH_SIZE,
    )


def _refuse_before_current(level: str, unit_ids: Sequence[int], valid_from: datetime.date) -> None:
    """A list valid before a unit's current version would end that version before it began."""
    later = (
        RegionVersion.objects.filter(
            **{f"{level}__in": list(unit_ids)}, valid_to__isnull=True, valid_from__gt=valid_from
        )
        .order_by("-valid_from")
        .values_list("code", "valid_from", "decree")
        .first()
    )
    if later is not None:
        code, begins, decree = later
        raise RegionFileError(
            [f"valid from {valid_from}: {code}'s current version ({decree or 'unknown list'}) begins later, {begins}"]
        )


# --- the plain load ---------------------------------------------------------------------------------------


def _refuse_moving_codes(rows: list[RegionRow]) -> None:
    """A plain load keeps codes as identities; when the file would move codes, it must be planned first."""
    complete = {row.code for row in rows if row.level == "province"}
    if not complete:
        return
    in_file = {row.code for row in rows}
    registry = registry_units(provinces=complete)
    missing = {unit.code for unit in registry} - in_file
    if not missing:
        return
    known = set()
    for level, model in LEVEL_MODELS.items():
        codes = [row.code for row in rows if row.level == level]
        known.update(model.objects.filter(code__in=codes).values_list("code", flat=True))
    if not in_file - known:
        return
    plan = plan_changes(old=registry, new=[_unit_row(row) for row in rows if row.code[:2] in complete])
    moved = Counter(row.change for row in plan.rows if row.change in (*MATCHED_CHANGES, Change.UNRESOLVED))
    del moved[Change.RENAME]
    if moved:
        found = ", ".join(f"{count} {change}" for change, count in sorted(moved.items()))
        raise RegionFileError(
            [
                f"the file moves codes ({found}): a plain load would detach their grants, reports and history. "
                "Plan first: load_regions PATH --plan PLAN.csv, review the plan, then load_regions PATH "
                '--apply PLAN.csv --decree "..." --valid-from YYYY-MM-DD'
            ]
        )


def regions_load(
    *,
    path: Path = DEFAULT_REGIONS_FILE,
    dry_run: bool = False,
    decree: str | None = None,
    valid_from: datetime.date | None = None,
) -> LoadReport:
    """Upsert the official region list in `path`; see the module docstring for the rules.

    A file that includes a province's own row is that province's complete list:
    its units missing from the file are deactivated. A file without province
    rows only adds and updates. Refused (RegionFileError) when the file would
    move codes: see `regions_plan` and `regions_apply`.

    New and changed units get a version from `decree` and `valid_from` (defaults: the bundled list's decree
    and date from villages/data/decrees.csv; for another file, no decree and today).
    """
    rows = regions_parse(path=path)
    listed_decree, listed_date = _listed_decree(path)
    decree = listed_decree if decree is None else decree
    valid_from = valid_from or listed_date or timezone.localdate()
    report = LoadReport(dry_run=dry_run)
    complete_provinces = {row.code for row in rows if row.level == "province"}
    touched = _touched({row.code[:2] for row in rows})

    ids: dict[str, dict[str, int]] = {}
    with transaction.atomic():
        _refuse_moving_codes(rows)
        # Parents first, so foreign keys always point at existing rows.
        for level in LEVELS:
            model, field_names = LEVEL_MODELS[level], LEVEL_FIELDS[level]
            counts = report.levels[level]
            level_rows = [row for row in rows if row.level == level]
            in_file = {row.code for row in level_rows}
            existing = {
                values[0]: values[1:]
                for values in model.objects.filter(touched).values_list("code", "id", "is_active", *field_names)
            }
            to_create, to_update, renamed = [], [], set()
            for row in level_rows:
                wanted = _field_values(row, ids)
                current = existing.get(row.code)
                instance = model(code=row.code, is_active=True, **dict(zip(field_names, wanted, strict=True)))
                if current is None:
                    to_create.append(instance)
                elif current[1:] != (True, *wanted):
                    instance.pk = current[0]
                    to_update.append(instance)
                    if current[2] != row.name:
                        renamed.add(row.code)
                else:
                    counts.unchanged += 1
            to_deactivate = [
                code
                for code, values in existing.items()
                if values[1] and code[:2] in complete_provinces and code not in in_file
            ]
            counts.created, counts.updated, counts.deactivated = len(to_create), len(to_update), len(to_deactivate)
            if not dry_run:
                model.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
                model.objects.bulk_update(to_update, ["is_active", *field_names], batch_size=BATCH_SIZE)
                for chunk in _chunks(to_deactivate, BATCH_SIZE):
                    model.objects.filter(code__in=chunk).update(is_active=False)
                by_code = {row.code: row for row in level_rows}
                ended = [unit.pk for unit in to_update] + [existing[code][0] for code in to_deactivate]
                _refuse_before_current(level, ended, valid_from)
                _versions_close(level, ended, valid_to=valid_from)
                _versions_open(
                    level,
                    [
                        _Version(
                            unit.pk,
                            unit.code,
                            by_code[unit.code].name,
                            by_code[unit.code].parent_code,
                            by_code[unit.code].kind,
                            VersionCause.RENAME if unit.code in renamed else VersionCause.LISTED,
                        )
                        for unit in (*to_create, *to_update)
                    ],
                    decree=decree,
                    valid_from=valid_from,
                )
            ids[level] = {code: values[0] for code, values in existing.items()}
            ids[level].update((unit.code, unit.pk) for unit in to_create if unit.pk is not None)
    return report


# --- planning and applying a newer list -------------------------------------------------------------------

# Per level: the values that describe a current unit as the planner reads it (code, name, parent code, kind).
_UNIT_VALUES = {
    "province": ("code", "name", None, None),
    "regency": ("code", "name", "province__code", "kind"),
    "district": ("code", "name", "regency__code", None),
    "village": ("code", "name", "district__code", "kind"),
}


def registry_units(*, provinces: Iterable[str]) -> list[UnitRow]:
    """The registry's active units in `provinces` (codes), as the planner reads a list."""
    touched = _touched(set(provinces))
    units = []
    for level, model in LEVEL_MODELS.items():
        code, name, parent, kind = _UNIT_VALUES[level]
        fields = [code, name] + [f for f in (parent, kind) if f]
        for values in model.objects.filter(touched, is_active=True).order_by("code").values_list(*fields):
            value = dict(zip(fields, values, strict=True))
            units.append(
                UnitRow(value["code"], value["name"], level, value.get(parent, "") or "", value.get(kind) or "")
            )
    return units


def _unit_row(row: RegionRow) -> UnitRow:
    return UnitRow(row.code, row.name, row.level, row.parent_code, row.kind)


def _file_units(path: Path | None = None, text: str | None = None) -> list[UnitRow]:
    return [_unit_row(row) for row in regions_parse(path=path, text=text)]


def regions_plan(*, path: Path | None = None, text: str | None = None) -> Plan:
    """The change set from the registry to the list in `path` (or `text`), its provinces; writes nothing."""
    new = _file_units(path, text)
    return plan_changes(old=registry_units(provinces={unit.code[:2] for unit in new}), new=new)


# The code kept by a unit while its final code may still belong to another (a chain or a swap of codes):
# in the `0x` provinces, which Kemendagri never numbers (the lowest province is 11), with the right form per level.
_TEMPORARY_SPACE = {"province": 10, "regency": 10 * 99, "district": 10 * 100 * 100, "village": 10 * 100 * 100 * 999}


def _temporary_code(level: str, index: int, kind: str) -> str:
    if level == "province":
        return f"0{index}"
    if level == "regency":
        # Regency part 01-69 for a kabupaten, 71-99 for a kota (the check constraint).
        start, count = (1, 69) if kind == "kabupaten" else (71, 29)
        province, number = divmod(index, count)
        return f"0{province}.{start + number:02d}"
    if level == "district":
        province, rest = divmod(index, 100 * 100)
        return f"0{province}.{rest // 100:02d}.{rest % 100:02d}"
    district, number = divmod(index, 999)
    province, rest = divmod(district, 100 * 100)
    digit = {"kelurahan": "1", "desa": "2", "desa_adat": "3"}[kind]
    return f"0{province}.{rest // 100:02d}.{rest % 100:02d}.{digit}{number + 1:03d}"


@dataclass
class ApplyReport:
    plan: Plan
    decree: str
    valid_from: datetime.date
    applied: dict[str, Counter] = field(default_factory=lambda: {level: Counter() for level in LEVELS})


def _refuse(errors: list[tuple[int, str]]) -> None:
    if errors:
        raise PlanFileError([f"line {line}: {message}" for line, message in sorted(errors)])


@transaction.atomic
def regions_apply(
    *,
    path: Path | None = None,
    text: str | None = None,
    plan_text: str,
    decree: str,
    valid_from: datetime.date,
    actor: User | None = None,
) -> ApplyReport:
    """Apply a reviewed (possibly hand-edited) plan of the list in `path` (or `text`) to the registry, all or
    nothing: the one service behind `load_regions --apply` and the province administrators' page.

    The plan is validated against the registry as it is now and the file, with every problem and its line
    (`plan_parse`): a plan written before the registry changed no longer fits and is refused. Each matched
    unit keeps its identity (its key: grants, reports, statuses, officers stay attached) and takes its new
    code, name, parent and kind; new units are created, gone units deactivated. Every change closes the
    unit's current version and opens the next (`decree`, `valid_from`), and is audited.
    """
    decree = decree.strip()
    if not decree:
        raise PlanFileError(["the decree is required: the list's decree, e.g. Kepmendagri 300.2.2-2138/2025"])
    new = _file_units(path, text)
    provinces = sorted({unit.code[:2] for unit in new})
    # One apply at a time per province: the registry read below is the one the plan is checked against.
    list(LEVEL_MODELS["province"].objects.select_for_update().filter(code__in=provinces).order_by("code"))
    old = registry_units(provinces=provinces)
    plan = plan_parse(text=plan_text, old=old, new=new)
    report = ApplyReport(plan=plan, decree=decree, valid_from=valid_from)
    new_units = {unit.code: unit for unit in new}
    ids: dict[str, dict[str, int]] = {}
    audit: list[AuditEntry] = []
    now = timezone.now()
    for level in LEVELS:
        model = LEVEL_MODELS[level]
        rows = [row for row in plan.rows if row.level == level]
        matched = [row for row in rows if row.change in MATCHED_CHANGES]
        units = {
            unit.code: unit
            for unit in model.objects.select_for_update().filter(
                code__in=[row.old_code for row in rows if row.old_code]
            )
        }
        _refuse_taken_codes(model, rows, units)
        _refuse_before_current(level, [unit.pk for unit in units.values()], valid_from)
        # Codes first moved aside, then given: a chain (A -> B, B -> C) or a swap never meets the unique code.
        moving = [row for row in matched if row.old_code != row.new_code]
        for index, row in enumerate(moving):
            unit = units[row.old_code]
            unit.code = _temporary_code(level, index, getattr(unit, "kind", ""))
        if len(moving) > _TEMPORARY_SPACE[level]:
            _refuse([(moving[0].line or 1, f"more than {_TEMPORARY_SPACE[level]} {level} codes move at once")])
        model.objects.bulk_update([units[row.old_code] for row in moving], ["code"], batch_size=BATCH_SIZE)
        ids[level] = {}
        changed, created = [], []
        for row in matched:
            unit = units[row.old_code]
            target = new_units[row.new_code]
            before = _describe(unit, level, row.old_code)
            unit.code, unit.name, unit.is_active = target.code, target.name, True
            _set_parent(unit, level, target, ids)
            changed.append((row, unit, before))
        model.objects.bulk_update(
            [unit for _row, unit, _before in changed],
            ["code", "name", "is_active", *LEVEL_FIELDS[level][1:]],
            batch_size=BATCH_SIZE,
        )
        inactive = {
            unit.code: unit
            for unit in model.objects.select_for_update().filter(
                code__in=[row.new_code for row in rows if row.change == Change.NEW], is_active=False
            )
        }
        for row in rows:
            if row.change != Change.NEW:
                continue
            target = new_units[row.new_code]
            # A code that was gone and comes back names the unit it named before.
            unit = inactive.get(row.new_code) or model(code=target.code)
            unit.name, unit.is_active = target.name, True
            _set_parent(unit, level, target, ids)
            created.append((row, unit))
        model.objects.bulk_create([unit for _row, unit in created if unit.pk is None], batch_size=BATCH_SIZE)
        model.objects.bulk_update(
            [unit for _row, unit in created if unit.pk is not None and unit.code in inactive],
            ["name", "is_active", *LEVEL_FIELDS[level][1:]],
            batch_size=BATCH_SIZE,
        )
        gone = [(row, units[row.old_code]) for row in rows if row.change == Change.GONE]
        model.objects.filter(pk__in=[unit.pk for _row, unit in gone]).update(is_active=False)

        ended = [unit.pk for _row, unit, _before in changed] + [unit.pk for _row, unit in created + gone]
        _versions_close(level, ended, valid_to=valid_from)
        _versions_open(
            level,
            [
                _Version(
                    unit.pk,
                    unit.code,
                    unit.name,
                    new_units[unit.code].parent_code,
                    new_units[unit.code].kind,
                    row.change,
                )
                for row, unit in [(row, unit) for row, unit, _before in changed] + created
            ],
            decree=decree,
            valid_from=valid_from,
        )
        for row, unit, before in changed:
            audit.append(
                _audit_entry(actor, unit, row, before, _describe(unit, level, unit.code), decree, valid_from, now)
            )
        for row, unit in created:
            audit.append(_audit_entry(actor, unit, row, {}, _describe(unit, level, unit.code), decree, valid_from, now))
        for row, unit in gone:
            after = {**_describe(unit, level, unit.code), "active": False}
            audit.append(_audit_entry(actor, unit, row, {"active": True}, after, decree, valid_from, now))
        ids[level].update({unit.code: unit.pk for unit in model.objects.filter(_touched(provinces)).only("pk", "code")})
        for row in rows:
            report.applied[level][row.change] += 1
    AuditEntry.objects.bulk_create(audit, batch_size=BATCH_SIZE)
    return report


def _refuse_taken_codes(model, rows: list[PlanRow], units: dict) -> None:
    """A unit's new code must be free once the plan is applied: not the code of a unit that keeps it."""
    leaving = {row.old_code for row in rows if row.change in MATCHED_CHANGES and row.old_code != row.new_code}
    wanted = {
        row.new_code: row
        for row in rows
        if (row.change in MATCHED_CHANGES and row.old_code != row.new_code) or row.change == Change.NEW
    }
    held = model.objects.filter(code__in=list(wanted)).values_list("code", "name", "is_active")
    errors = []
    for code, name, is_active in held:
        row = wanted[code]
        if code in leaving:
            continue
        if row.change == Change.NEW and not is_active:
            continue  # the unit comes back: see regions_apply
        holder = "an inactive unit" if not is_active else "a unit the plan keeps or marks gone"
        errors.append(
            (row.line or 1, f"{code} is still the code of {holder} ({name!r}): a unit's code must be free to take it")
        )
    _refuse(errors)


def _set_parent(unit, level: str, target: UnitRow, ids: dict[str, dict[str, int]]) -> None:
    if level == "regency":
        unit.kind = regency_kind_for_code(target.code)
        unit.province_id = ids["province"][target.parent_code]
    elif level == "district":
        unit.regency_id = ids["regency"][target.parent_code]
    elif level == "village":
        unit.kind = target.kind
        unit.district_id = ids["district"][target.parent_code]
        unit.regency_id = ids["regency"][target.code[:5]]


def _describe(unit, level: str, code: str) -> dict:
    described = {"code": code, "name": unit.name}
    if level in ("regency", "village"):
        described["kind"] = unit.kind
    return described


def _audit_entry(
    actor: User | None,
    unit,
    row: PlanRow,
    before: dict,
    after: dict,
    decree: str,
    valid_from: datetime.date,
    now: datetime.datetime,
) -> AuditEntry:
    changes = {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}
    changes["change"] = [None, row.change]
    changes["decree"] = [None, decree]
    changes["valid_from"] = [None, valid_from.isoformat()]
    return AuditEntry(
        created_at=now,
        actor=actor if actor is not None and actor.pk else None,
        action=AuditAction.REGION_CHANGED,
        object_type=unit._meta.label_lower,
        object_id=str(unit.pk),
        object_repr=f"{unit.code} {unit.name}"[:200],
        changes=changes,
    )


def plan_text_read(*, path: Path) -> str:
    """A plan file's text (UTF-8, size-limited like a region file)."""
    return _read_text(Path(path))


def plan_csv_text(data: bytes) -> str:
    """An uploaded plan's text; RegionFileError for one that is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PlanFileError([f"line {line}: not valid UTF-8; save the plan as UTF-8"]) from None


# --- the province administrators' page: upload, review, edit, apply ------------------------------------------


@transaction.atomic
def region_list_upload(*, actor: User, file_name: str, data: bytes) -> RegionListUpload:
    """Keep an uploaded list and its proposed change set for review; RegionFileError (with lines) otherwise."""
    text = region_text(data)
    plan = regions_plan(text=text)
    return RegionListUpload.objects.create(
        file_name=file_name[:200], text=text, plan=plan_to_csv(plan), uploaded_by=actor
    )


def region_list_rows(*, upload: RegionListUpload) -> list[PlanRow]:
    """The rows of an upload's plan as they stand (edited or not), with their line numbers; no validation."""
    reader = csv.DictReader(io.StringIO(upload.plan, newline=""))
    return [
        PlanRow(
            **{key: _unescape(value or "") for key, value in raw.items() if key in PLAN_COLUMNS}, line=reader.line_num
        )
        for raw in reader
    ]


def _locked_open(upload: RegionListUpload) -> RegionListUpload:
    locked = RegionListUpload.objects.select_for_update().get(pk=upload.pk)
    if locked.applied_at is not None:
        raise PlanFileError([f"line 1: this list was applied on {locked.applied_at:%Y-%m-%d %H:%M}; upload it again"])
    return locked


@transaction.atomic
def region_list_row_edit(*, upload: RegionListUpload, actor: User, line: int, change: str, new_code: str) -> PlanRow:
    """Decide one row of the plan by hand: its change and the unit of the new list it matches (`new_code`,
    empty for `gone`). Checked against the list here; against the registry when the plan is applied."""
    locked = _locked_open(upload)
    rows = region_list_rows(upload=locked)
    row = next((row for row in rows if row.line == line), None)
    if row is None:
        raise PlanFileError([f"line {line}: the plan has no such row"])
    new_code = new_code.strip()
    if change not in CHANGES or change == Change.UNRESOLVED:
        raise PlanFileError([f"line {line}: choose rename, recode, kind_change, new or gone"])
    units = {unit.code: unit for unit in _file_units(text=locked.text)}
    target = units.get(new_code)
    if change == Change.GONE:
        if new_code:
            raise PlanFileError([f"line {line}: a gone unit has no new code"])
    elif target is None or target.level != row.level:
        raise PlanFileError([f"line {line}: {new_code or '(empty)'} is not a {row.level} of the uploaded list"])
    edited = PlanRow(
        old_code=row.old_code if change != Change.NEW else "",
        new_code=new_code,
        change=change,
        old_name=row.old_name if change != Change.NEW else "",
        new_name=target.name if target else "",
        level=row.level,
        reason=f"decided by {actor.get_username()}",
        line=line,
    )
    locked.plan = plan_to_csv(Plan(rows=[edited if r.line == line else r for r in rows]))
    locked.save(update_fields=["plan"])
    before = {"change": row.change, "old_code": row.old_code, "new_code": row.new_code}
    after = {"change": edited.change, "old_code": edited.old_code, "new_code": edited.new_code}
    AuditEntry.objects.create(
        actor=actor,
        action=AuditAction.REGION_PLAN_EDITED,
        object_type=locked._meta.label_lower,
        object_id=str(locked.pk),
        object_repr=f"{locked.file_name}, line {line}"[:200],
        changes={name: [before[name], value] for name, value in after.items() if before[name] != value},
    )
    return edited


@transaction.atomic
def region_list_apply(*, upload: RegionListUpload, actor: User, decree: str, valid_from: datetime.date) -> ApplyReport:
    """Apply the reviewed plan of an upload: `regions_apply`, as `load_regions --apply` does."""
    locked = _locked_open(upload)
    report = regions_apply(text=locked.text, plan_text=locked.plan, decree=decree, valid_from=valid_from, actor=actor)
    locked.applied_by, locked.applied_at = actor, timezone.now()
    locked.decree, locked.valid_from = report.decree, valid_from
    locked.save(update_fields=["applied_by", "applied_at", "decree", "valid_from"])
    return report
