"""The open data: a CSV per level, a Frictionless Data Package describing them, a DCAT catalogue.

Each table is declared once (TABLES): its fields (name, Table Schema type, constraints, titles) and the
values of a row. The CSV writer and the data package's Table Schema read the same declaration, so the
files and their description cannot drift apart. Codes carry the Kemendagri pattern of their level
(villages.models), enums the values the models allow; the package names the decree of the region list
(villages/data/decrees.csv) and the licence, CC BY 4.0 (Satu Data Indonesia, Perpres 39/2019: standard
metadata and reference codes).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from accounts.access import PUBLIC
from grants import selectors as grant_selectors
from grants.models import GrantStatus
from public import selectors
from public.selectors import PublicVillage
from rollout import overview
from rollout.models import Blocker, PillarStatus, Signal, SnapshotLevel
from smartvillage.exports import safe_cell
from villages.models import (
    DISTRICT_CODE_RE,
    PROVINCE_CODE_RE,
    REGENCY_CODE_RE,
    VILLAGE_CODE_RE,
    District,
    Province,
    Regency,
    RegencyKind,
    VillageKind,
)
from villages.region_plan import Decree, decrees_read

LICENSE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0 International",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
PUBLISHER = "Dinas Pemberdayaan Masyarakat Desa dan Transmigrasi Provinsi Lampung"


def _pattern(regex: str) -> str:
    """A model's code regex as a Table Schema pattern (XML Schema style: the whole value, no anchors)."""
    return regex.removeprefix("^").removesuffix("$")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    title: object  # lazy: translated when the schema is written
    value: Callable[[object], object]
    description: object = ""
    constraints: dict | None = None

    def schema(self) -> dict:
        described = {"name": self.name, "type": self.type, "title": str(self.title)}
        if self.description:
            described["description"] = str(self.description)
        if self.constraints:
            described["constraints"] = self.constraints
        return described


def _code(name: str, regex: str, title, *, required: bool = True) -> Field:
    constraints = {"pattern": _pattern(regex), **({"required": True} if required else {})}
    return Field(name, "string", title, lambda row, name=name: row[name], _("Kemendagri code"), constraints)


def _enum(name: str, choices, title, *, required: bool = True) -> Field:
    constraints = {"enum": list(choices.values), **({"required": True} if required else {})}
    described = "; ".join(f"{value}: {label}" for value, label in choices.choices)
    return Field(name, "string", title, lambda row, name=name: row[name], described, constraints)


def _count(name: str, title) -> Field:
    return Field(name, "integer", title, lambda row, name=name: row[name], constraints={"minimum": 0})


def _rupiah(name: str, title) -> Field:
    return Field(
        name, "integer", title, lambda row, name=name: row[name], _("Whole rupiah"), constraints={"minimum": 0}
    )


# The adoption figures of a snapshot row (province, regency, district), with their titles.
SNAPSHOT_FIELDS = (
    Field("snapshot_date", "date", _("Snapshot date"), lambda row: row["snapshot_date"]),
    _count("units", _("Units (desa and kelurahan)")),
    _count("desa", _("Desa")),
    _count("kelurahan", _("Kelurahan")),
    _count("adopted_units", _("Adopted units")),
    _count("adopted_desa", _("Adopted desa")),
    Field(
        "adopted_desa_pct",
        "number",
        _("Adopted desa (%)"),
        lambda row: row["adopted_desa_pct"],
        _("Empty where the unit has no desa."),
        {"minimum": 0, "maximum": 100},
    ),
    Field("adopted_pct", "number", _("Adopted units (%)"), lambda row: row["adopted_pct"], "", {"minimum": 0}),
    _count("pillar1_live", _("Pillar 1 live")),
    _count("pillar2_live", _("Pillar 2 live")),
    _count("pillar3_live", _("Pillar 3 live")),
    _count("blocked_no_signal", _("Blocked by no signal")),
)
MONEY_FIELDS = (
    _rupiah("disbursed", _("Disbursed (Rp)")),
    _rupiah("returned", _("Returned (Rp)")),
    _rupiah("net_disbursed", _("Net disbursed (Rp)")),
)


@dataclass(frozen=True)
class Table:
    name: str  # the file's name, without .csv
    title: object
    description: object
    fields: tuple[Field, ...]
    rows: Callable[[Province], list[dict]]
    foreign_key: tuple[str, str] | None = None  # (field, referenced table): its code

    def csv(self, province: Province) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([field.name for field in self.fields])
        for row in self.rows(province):
            writer.writerow([_cell(field.value(row)) for field in self.fields])
        return buffer.getvalue()

    def resource(self) -> dict:
        schema = {"fields": [field.schema() for field in self.fields], "primaryKey": ["code"]}
        if self.foreign_key:
            field, table = self.foreign_key
            schema["foreignKeys"] = [{"fields": [field], "reference": {"resource": table, "fields": ["code"]}}]
        return {
            "name": self.name,
            "path": f"{self.name}.csv",
            "title": str(self.title),
            "description": str(self.description),
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "profile": "tabular-data-resource",
            "licenses": [LICENSE],
            "schema": schema,
        }


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_cell(value)


def _snapshot_values(row) -> dict:
    if row is None:
        return {field.name: None for field in SNAPSHOT_FIELDS}
    return {
        "snapshot_date": row.date.isoformat(),
        "units": row.units,
        "desa": row.desa,
        "kelurahan": row.kelurahan,
        "adopted_units": row.adopted_units,
        "adopted_desa": row.adopted_desa,
        "adopted_desa_pct": row.adopted_desa_pct,
        "adopted_pct": row.adopted_pct,
        "pillar1_live": row.pillar1_live,
        "pillar2_live": row.pillar2_live,
        "pillar3_live": row.pillar3_live,
        "blocked_no_signal": row.blocked_no_signal,
    }


def _money_values(row) -> dict:
    if row is None:
        return {"disbursed": None, "returned": None, "net_disbursed": None}
    return {"disbursed": row.disbursed, "returned": row.returned, "net_disbursed": row.net_disbursed}


def _province_rows(province: Province) -> list[dict]:
    allocation = grant_selectors.joined_allocation(unit=province)
    figures = overview.province_overview(user=PUBLIC, province=province)
    money = figures.money
    confirmed = selectors.bank_confirmed(allocation=allocation)
    return [
        {
            "code": province.code,
            "name": province.name,
            **_snapshot_values(figures.headline),
            "target_pct": figures.target,
            "fiscal_year": allocation.fiscal_year if allocation else None,
            "allocation": money.budget if money else None,
            **_money_values(money),
            "remaining": money.remaining if money else None,
            "bank_confirmed": confirmed.total if confirmed else None,
        }
    ]


def _regency_rows(province: Province) -> list[dict]:
    allocation = grant_selectors.joined_allocation(unit=province)
    snapshots = {row.code: row for row in selectors.snapshot_rows(level=SnapshotLevel.REGENCY, province=province)}
    ledger = selectors.ledger_rows(allocation=allocation, level="regency")
    regencies = Regency.objects.filter(province=province, is_active=True).order_by("code")
    return [
        {
            "code": code,
            "name": name,
            "kind": kind,
            "province_code": province.code,
            **_snapshot_values(snapshots.get(code)),
            **_money_values(ledger.get(code)),
        }
        for code, name, kind in regencies.values_list("code", "name", "kind")
    ]


def _district_rows(province: Province) -> list[dict]:
    allocation = grant_selectors.joined_allocation(unit=province)
    snapshots = {row.code: row for row in selectors.snapshot_rows(level=SnapshotLevel.DISTRICT, province=province)}
    ledger = selectors.ledger_rows(allocation=allocation, level="district")
    districts = District.objects.filter(regency__province=province, is_active=True).order_by("code")
    return [
        {
            "code": code,
            "name": name,
            "regency_code": regency_code,
            **_snapshot_values(snapshots.get(code)),
            **_money_values(ledger.get(code)),
        }
        for code, name, regency_code in districts.values_list("code", "name", "regency__code")
    ]


def _village_rows(province: Province) -> list[dict]:
    allocation = grant_selectors.joined_allocation(unit=province)
    return [_village_values(village) for village in selectors.villages(allocation=allocation)]


def _village_values(village: PublicVillage) -> dict:
    return {
        "code": village.code,
        "name": village.name,
        "kind": village.kind,
        "district_code": village.district_code,
        "regency_code": village.regency_code,
        "adopted": village.adopted,
        "pillar1": village.pillar1,
        "pillar2": village.pillar2,
        "pillar3": village.pillar3,
        "signal": village.signal,
        "signal_sufficient": village.signal_sufficient,
        "blocker": village.blocker,
        "grant_status": village.grant_status,
        "grant_amount": village.grant_amount,
        "disbursed_month": village.disbursed_month or None,
        "returned_amount": village.returned_amount,
    }


def _name(title) -> Field:
    return Field("name", "string", title, lambda row: row["name"], constraints={"required": True})


TABLES = (
    Table(
        "provinsi",
        _("Province"),
        _(
            "The province's adoption figures from the latest snapshot, its target, and the money of its latest "
            "grant allocation: disbursed (gross), returned to the treasury, net disbursed, remaining."
        ),
        (
            _code("code", PROVINCE_CODE_RE, _("Province code")),
            _name(_("Province")),
            *SNAPSHOT_FIELDS,
            Field("target_pct", "integer", _("Target (%)"), lambda row: row["target_pct"]),
            Field("fiscal_year", "integer", _("Fiscal year"), lambda row: row["fiscal_year"]),
            _rupiah("allocation", _("Allocation (Rp)")),
            *MONEY_FIELDS,
            _rupiah("remaining", _("Remaining (Rp)")),
            Field(
                "bank_confirmed",
                "integer",
                _("Confirmed by the bank (Rp)"),
                lambda row: row["bank_confirmed"],
                _("Disbursements the treasury's bank statement confirms; empty where not known."),
                {"minimum": 0},
            ),
        ),
        _province_rows,
    ),
    Table(
        "kabupaten",
        _("Regencies and cities"),
        _("Each regency's (kabupaten/kota) adoption figures and grant money."),
        (
            _code("code", REGENCY_CODE_RE, _("Regency code")),
            _name(_("Regency/city")),
            _enum("kind", RegencyKind, _("Kind")),
            _code("province_code", PROVINCE_CODE_RE, _("Province code")),
            *SNAPSHOT_FIELDS,
            *MONEY_FIELDS,
        ),
        _regency_rows,
        ("province_code", "provinsi"),
    ),
    Table(
        "kecamatan",
        _("Districts"),
        _("Each district's (kecamatan) adoption figures and grant money."),
        (
            _code("code", DISTRICT_CODE_RE, _("District code")),
            _name(_("District")),
            _code("regency_code", REGENCY_CODE_RE, _("Regency code")),
            *SNAPSHOT_FIELDS,
            *MONEY_FIELDS,
        ),
        _district_rows,
        ("regency_code", "kabupaten"),
    ),
    Table(
        "desa",
        _("Villages"),
        _(
            "Each desa and kelurahan: its pillar statuses, best signal, blocker category, and the stage and "
            "amount of its grant (the month it was disbursed, what was returned)."
        ),
        (
            _code("code", VILLAGE_CODE_RE, _("Village code")),
            _name(_("Village")),
            _enum("kind", VillageKind, _("Kind")),
            _code("district_code", DISTRICT_CODE_RE, _("District code")),
            _code("regency_code", REGENCY_CODE_RE, _("Regency code")),
            Field("adopted", "boolean", _("Adopted smart village"), lambda row: row["adopted"]),
            _enum("pillar1", PillarStatus, _("Pillar 1: digital administration and public services")),
            _enum("pillar2", PillarStatus, _("Pillar 2: creative economy")),
            _enum("pillar3", PillarStatus, _("Pillar 3: UMKM, BUMDes and koperasi online")),
            _enum("signal", Signal, _("Best signal")),
            Field(
                "signal_sufficient",
                "boolean",
                _("Signal enough for the services"),
                lambda r: r["signal_sufficient"],
            ),
            _enum("blocker", Blocker, _("Blocker"), required=False),
            _enum("grant_status", GrantStatus, _("Grant stage"), required=False),
            _rupiah("grant_amount", _("Grant amount (Rp)")),
            Field("disbursed_month", "yearmonth", _("Month disbursed"), lambda row: row["disbursed_month"]),
            _rupiah("returned_amount", _("Returned (Rp)")),
        ),
        _village_rows,
        ("district_code", "kecamatan"),
    ),
)
TABLES_BY_NAME = {table.name: table for table in TABLES}


def region_decree() -> Decree:
    """The decree of the bundled region list (the latest of villages/data/decrees.csv)."""
    return decrees_read()[-1]


def datapackage(*, province: Province, edition: selectors.Edition, absolute: Callable[[str], str]) -> dict:
    """The Frictionless Data Package descriptor (datapackage.json) of the CSV files, resources beside it."""
    decree = region_decree()
    modified = edition.last_modified
    package = {
        "profile": "tabular-data-package",
        "name": f"smart-village-{province.code}",
        "title": _("Smart villages of %(province)s: adoption and grants") % {"province": province.name},
        "description": _(
            "Where every desa and kelurahan of the province stands on the smart-village programme's three "
            "pillars, and the grant of Rp6,000,000 each from the APBD allocation: figures per province, "
            "regency, district and village. Region codes: %(decree)s."
        )
        % {"decree": decree.decree},
        "homepage": absolute("../"),
        "licenses": [LICENSE],
        "sources": [
            {"title": f"{decree.decree}: {decree.title} ({decree.date})"},
            {"title": PUBLISHER},
        ],
        "contributors": [{"title": PUBLISHER, "role": "publisher"}],
        "keywords": ["desa cerdas", "smart village", "Lampung", "APBD", "hibah", "Satu Data Indonesia"],
        "resources": [table.resource() for table in TABLES],
    }
    if modified is not None:
        package["created"] = modified.isoformat()
    return package


def catalogue(*, province: Province, edition: selectors.Edition, absolute: Callable[[str], str]) -> dict:
    """A DCAT catalogue (JSON-LD) of the datasets, so a CKAN portal (ckanext-dcat, data.go.id style) harvests
    them: a dataset per table, each with its CSV and the data package as distributions."""
    decree = region_decree()
    modified = edition.last_modified.isoformat() if edition.last_modified else None
    publisher = {"@type": "foaf:Organization", "foaf:name": PUBLISHER}
    package_url = absolute("datapackage.json")
    datasets = []
    for table in TABLES:
        dataset = {
            "@id": absolute(f"{table.name}.csv") + "#dataset",
            "@type": "dcat:Dataset",
            "dct:identifier": f"smart-village-{province.code}-{table.name}",
            "dct:title": f"{table.title} · {province.name}",
            "dct:description": str(table.description),
            "dcat:keyword": ["desa cerdas", "smart village", province.name],
            "dct:publisher": publisher,
            "dct:license": {"@id": LICENSE["path"]},
            "dct:language": [{"@id": "http://id.loc.gov/vocabulary/iso639-1/id"}],
            "dct:spatial": {"@type": "dct:Location", "skos:prefLabel": province.name, "dct:identifier": province.code},
            "dct:conformsTo": {"@id": "https://specs.frictionlessdata.io/tabular-data-package/"},
            "dct:source": f"{decree.decree}: {decree.title}",
            "dcat:landingPage": {"@id": absolute("../")},
            "dcat:distribution": [
                {
                    "@type": "dcat:Distribution",
                    "dct:title": f"{table.name}.csv",
                    "dcat:accessURL": {"@id": absolute(f"{table.name}.csv")},
                    "dcat:downloadURL": {"@id": absolute(f"{table.name}.csv")},
                    "dcat:mediaType": "text/csv",
                    "dct:format": "CSV",
                    "dct:license": {"@id": LICENSE["path"]},
                },
                {
                    "@type": "dcat:Distribution",
                    "dct:title": "datapackage.json",
                    "dcat:accessURL": {"@id": package_url},
                    "dcat:downloadURL": {"@id": package_url},
                    "dcat:mediaType": "application/json",
                    "dct:format": "Frictionless Data Package",
                    "dct:conformsTo": {"@id": "https://specs.frictionlessdata.io/data-package/"},
                    "dct:license": {"@id": LICENSE["path"]},
                },
            ],
        }
        if modified:
            dataset["dct:modified"] = {"@value": modified, "@type": "xsd:dateTime"}
        datasets.append(dataset)
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "skos": "http://www.w3.org/2004/02/skos/core#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
        },
        "@id": absolute("catalog.jsonld"),
        "@type": "dcat:Catalog",
        "dct:title": _("Open data of the smart-village programme, %(province)s") % {"province": province.name},
        "dct:description": _("Adoption and grant figures per province, regency, district and village."),
        "dct:publisher": publisher,
        "dct:language": [{"@id": "http://id.loc.gov/vocabulary/iso639-1/id"}],
        "dct:license": {"@id": LICENSE["path"]},
        "foaf:homepage": {"@id": absolute("../")},
        "dcat:dataset": datasets,
    }
