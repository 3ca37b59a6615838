"""The overview of a province or a regency: adoption from the latest snapshots, the money of the latest
allocation, the map, the trend and the forecasts. Built once here for the two pages that show it, the
dashboard (portal/) and the public pages (public/), so that they show the same figures for the same snapshot;
`user` decides what the reader may see (accounts.access; the public pages read as `accounts.access.PUBLIC`).

Queries: the unit with its allocation (and the demo flag), the latest snapshots with the target, the snapshot
history (forecasts and trend), and the ledger with the paid-but-not-live counts: four, whatever the size.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.db.models import QuerySet

from accounts.models import User
from grants import selectors as grant_selectors
from grants.models import Allocation
from grants.selectors import LedgerRow, MoneySummary
from rollout import selectors
from rollout.models import AdoptionSnapshot, SnapshotLevel
from villages.models import Province, Regency

BOUNDARIES_FILE = Path(__file__).resolve().parent.parent / "villages" / "data" / "lampung_regencies.geojson"


@cache
def _boundaries() -> dict:
    return json.loads(BOUNDARIES_FILE.read_text(encoding="utf-8"))


def map_features(rows) -> dict:
    """The regency boundaries of the shown rows, each carrying its adoption figures."""
    figures = {row.code: row for row in rows}
    features = []
    for feature in _boundaries()["features"]:
        row = figures.get(feature["properties"]["code"])
        if row is None:
            continue
        properties = {
            **feature["properties"],
            "adopted_desa_pct": row.adopted_desa_pct,
            "shade_pct": row.shown_pct,
            "adopted_pct": row.adopted_pct,
            "units": row.units,
            "adopted_units": row.adopted_units,
            "blocked": row.blocked_no_signal,
        }
        features.append({**feature, "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def trend(histories: dict[str, list], codes: list[str]) -> dict:
    """Chart data: the adoption % shown (AdoptionSnapshot.shown_pct) per snapshot for each code."""
    series = {}
    for code in codes:
        history = histories.get(code, [])
        points = [(row.date, row.shown_pct) for row in history]
        forecast = selectors.forecast_completion(points=points)
        series[code] = {
            "name": history[-1].name if history else code,
            "points": [[day.isoformat(), value] for day, value in points],
            "forecast": {"status": forecast.status, "date": forecast.date.isoformat() if forecast.date else None},
        }
    return series


def ledger_by_code(
    *, user: User, allocation: Allocation | None, level: str, regency_code: str | None = None
) -> dict[str, LedgerRow]:
    """The ledger rows by unit code, each counting its paid-but-not-live grants in `counts`."""
    if allocation is None:
        return {}
    rows = grant_selectors.ledger(
        allocation=allocation,
        user=user,
        level=level,
        regency_code=regency_code,
        counts={"paid_not_live": selectors.paid_not_live_condition()},
    )
    return {row.code: row for row in rows}


def provinces_with_allocation() -> QuerySet[Province]:
    """Active provinces, first by code, each with its latest allocation and the demo flag (one query)."""
    provinces = Province.objects.filter(is_active=True).order_by("code")
    return grant_selectors.with_latest_allocation(
        queryset=provinces, relation="allocations", province_field="pk"
    ).annotate(demo_data=selectors.demo_data_flag())


def regencies_with_allocation() -> QuerySet[Regency]:
    """Regencies with their province, its latest allocation and the demo flag (one query)."""
    return grant_selectors.with_latest_allocation(
        queryset=Regency.objects.select_related("province"),
        relation="province__allocations",
        province_field="province",
    ).annotate(demo_data=selectors.demo_data_flag())


@dataclass(frozen=True)
class Overview:
    unit: Province | Regency
    regency: Regency | None  # None: a province's overview, whose rows are its regencies
    headline: AdoptionSnapshot | None
    table: list[dict]  # per row: the snapshot row, its forecast, ledger row and paid-but-not-live count
    allocation: Allocation | None
    money: MoneySummary | None
    map: dict
    trend: dict
    target: int
    forecasts: dict = field(default_factory=dict)
    chosen: str | None = None  # the regency whose trend is shown beside the province's
    regency_choices: list[tuple[str, str]] = field(default_factory=list)

    @property
    def row_level(self) -> str:
        return "district" if self.regency else "regency"

    @property
    def unit_forecast(self):
        return self.forecasts.get(self.unit.code)


def _table(rows, forecasts: dict, ledger: dict) -> list[dict]:
    table = []
    for row in rows:
        ledger_row = ledger.get(row.code)
        table.append(
            {
                "row": row,
                "forecast": forecasts.get(row.code),
                "ledger": ledger_row,
                "paid_not_live": ledger_row.counts["paid_not_live"] if ledger_row else 0,
            }
        )
    return table


def _build(
    *,
    user: User,
    unit: Province | Regency,
    regency: Regency | None,
    headline,
    rows: list,
    histories: dict,
    trend_codes: list[str],
    map_rows: list,
    **extra,
) -> Overview:
    allocation = grant_selectors.joined_allocation(unit=unit)
    ledger = ledger_by_code(
        user=user,
        allocation=allocation,
        level="district" if regency else "regency",
        regency_code=regency.code if regency else None,
    )
    money = None
    if allocation is not None:
        # The unit's totals are the sum of its rows (every grant is in one regency and one district).
        totals = grant_selectors.ledger_total(rows=list(ledger.values()), code=unit.code, name=unit.name)
        money = (
            MoneySummary.of_regency(totals=totals)
            if regency
            else MoneySummary.of_allocation(totals=totals, allocation=allocation)
        )
    forecasts = selectors.forecasts_of(histories=histories)
    return Overview(
        unit=unit,
        regency=regency,
        headline=headline,
        table=_table(rows, forecasts, ledger),
        allocation=allocation,
        money=money,
        map=map_features(map_rows),
        trend=trend(histories, trend_codes),
        target=headline.target_pct if headline else selectors.DEFAULT_TARGET_PCT,
        forecasts=forecasts,
        **extra,
    )


def province_overview(*, user: User, province: Province, chosen: str | None = None) -> Overview:
    """A province (from `provinces_with_allocation`): its headline, a row per regency, the trend of the
    province beside that of `chosen` (default: its first regency)."""
    headlines, rows = selectors.latest_snapshot_groups(
        user=user,
        groups=[(SnapshotLevel.PROVINCE, None), (SnapshotLevel.REGENCY, province.code)],
        with_target=True,
    )
    chosen = chosen or (rows[0].code if rows else None)
    trend_codes = [province.code, *([chosen] if chosen else [])]
    histories = selectors.snapshot_histories(
        user=user, level=SnapshotLevel.REGENCY, parent=province.code, codes=trend_codes
    )
    return _build(
        user=user,
        unit=province,
        regency=None,
        headline=next((row for row in headlines if row.code == province.code), None),
        rows=rows,
        histories=histories,
        trend_codes=trend_codes,
        map_rows=rows,
        chosen=chosen,
        regency_choices=[(row.code, row.name) for row in rows],
    )


def regency_overview(*, user: User, regency: Regency) -> Overview:
    """A regency (from `regencies_with_allocation`): its headline and a row per district."""
    regency_rows, rows = selectors.latest_snapshot_groups(
        user=user,
        groups=[(SnapshotLevel.REGENCY, regency.province.code), (SnapshotLevel.DISTRICT, regency.code)],
        with_target=True,
    )
    headline = next((row for row in regency_rows if row.code == regency.code), None)
    histories = selectors.snapshot_histories(
        user=user, level=SnapshotLevel.DISTRICT, parent=regency.code, codes=[regency.code]
    )
    return _build(
        user=user,
        unit=regency,
        regency=regency,
        headline=headline,
        rows=rows,
        histories=histories,
        trend_codes=[regency.code],
        map_rows=[headline] if headline else [],
        chosen=regency.code,
    )
