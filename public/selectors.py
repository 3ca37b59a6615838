"""What the public pages and downloads publish, read through the apps' selectors as `accounts.access.PUBLIC`.

Published: region codes and names, adoption figures (the snapshots), each village's pillar statuses, signal,
blocker category and grant stage with its amount, and the money of the allocation. Never a person (no
user, officer, reviewer or e-mail) and no text typed by a user (no notes, blocker notes, LPJ notes,
rejection reasons, SP2D references, evidence links): every village and grant row here is read with
`.values()` of the fields named below, so a field added to a model is not published until it is named here.

Each page first reads its *edition* (one query: the unit, the latest allocation of its province, the time of
the province's latest snapshot and of its latest grant movement, the demo flag): the time the page's figures
are as of, its ETag and Last-Modified, and the key its cached figures are stored under.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext_lazy as _

from accounts.access import PUBLIC
from grants import selectors as grant_selectors
from grants.models import PAID_STATUSES, Allocation, GrantEvent, GrantStatus
from rollout import overview
from rollout import selectors as rollout_selectors
from rollout.models import AdoptionSnapshot, Blocker, PillarStatus, Signal, SnapshotLevel
from treasury import selectors as treasury_selectors
from villages.models import District, Province, Regency, Village, VillageKind

# --- the edition --------------------------------------------------------------------------------


def _edition_of(province_code: str, province: str) -> dict:
    """Annotations giving a unit's edition: `province_code` and `province` lead from the unit to its province's
    code and to the province itself."""
    snapshots = AdoptionSnapshot.objects.filter(level=SnapshotLevel.PROVINCE, code=OuterRef(province_code))
    movements = GrantEvent.objects.filter(grant__allocation__province=OuterRef(province))
    return {
        "snapshot_at": Subquery(snapshots.order_by("-date").values("computed_at")[:1]),
        "money_at": Subquery(movements.order_by("-created_at").values("created_at")[:1]),
        "bank_at": treasury_selectors.bank_changed_at(province=OuterRef(province)),
    }


@dataclass(frozen=True)
class Edition:
    """The state a public page shows: as of the province's latest snapshot, latest grant movement and latest
    change of what the bank confirmed (a statement imported, an item resolved)."""

    snapshot_at: datetime.datetime | None
    money_at: datetime.datetime | None
    bank_at: datetime.datetime | None
    allocation: tuple  # (pk, total, fiscal year, legal basis) of the latest allocation, or ()
    demo_data: bool

    @classmethod
    def of(cls, unit) -> Edition:
        allocation = grant_selectors.joined_allocation(unit=unit)
        return cls(
            snapshot_at=unit.snapshot_at,
            money_at=unit.money_at,
            bank_at=unit.bank_at,
            allocation=(
                (allocation.pk, allocation.total_amount, allocation.fiscal_year, allocation.legal_basis)
                if allocation is not None
                else ()
            ),
            demo_data=bool(unit.demo_data),
        )

    @property
    def last_modified(self) -> datetime.datetime | None:
        times = [time for time in (self.snapshot_at, self.money_at, self.bank_at) if time is not None]
        return max(times) if times else None

    @property
    def tag(self) -> str:
        """A short digest of the edition: the ETag's and the cache key's part that changes with the figures."""
        parts = (self.snapshot_at, self.money_at, self.bank_at, self.allocation, self.demo_data)
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


def province_unit() -> Province | None:
    """The province the portal shows (the first active one by code, as the dashboard), with its edition."""
    return overview.provinces_with_allocation().annotate(**_edition_of("code", "pk")).first()


def regency_unit(*, code: str) -> Regency | None:
    regencies = overview.regencies_with_allocation().filter(code=code, is_active=True)
    return regencies.annotate(**_edition_of("province__code", "province")).first()


def _with_allocation(queryset: QuerySet, relation: str, province: str) -> QuerySet:
    return grant_selectors.with_latest_allocation(
        queryset=queryset, relation=relation, province_field=province
    ).annotate(demo_data=rollout_selectors.demo_data_flag(), **_edition_of(f"{province}__code", province))


def district_unit(*, code: str) -> District | None:
    districts = District.objects.filter(code=code, is_active=True).select_related("regency__province")
    return _with_allocation(districts, "regency__province__allocations", "regency__province").first()


def village_unit(*, code: str) -> Village | None:
    villages = Village.objects.filter(code=code, is_active=True).select_related("district", "regency__province")
    return _with_allocation(villages, "regency__province__allocations", "regency__province").first()


# --- villages -----------------------------------------------------------------------------------

# The public words for a grant's state: the stages a village can follow (README "Public pages").
GRANT_STAGES = {
    GrantStatus.PLANNED: _("Planned"),
    GrantStatus.APPROVED: _("Approved"),
    GrantStatus.DISBURSED: _("Disbursed"),
    GrantStatus.ACCOUNTED: _("LPJ received"),
    GrantStatus.CLOSED: _("LPJ received, closed"),
    GrantStatus.RETURNED: _("Returned"),
    GrantStatus.CANCELLED: _("Cancelled"),
}


@dataclass(frozen=True)
class PublicVillage:
    """One village as published: status and categories only."""

    code: str
    name: str
    kind: str
    district_code: str
    district_name: str
    regency_code: str
    regency_name: str
    adopted: bool
    pillar1: str
    pillar2: str
    pillar3: str
    signal: str
    signal_sufficient: bool
    blocker: str
    grant_status: str | None = None
    grant_amount: int | None = None
    disbursed_on: datetime.date | None = None  # published to the month
    returned_amount: int | None = None

    @property
    def kind_label(self) -> str:
        return VillageKind(self.kind).label

    def pillar_label(self, pillar: int) -> str:
        return PillarStatus(getattr(self, f"pillar{pillar}")).label

    @property
    def pillar1_label(self) -> str:
        return self.pillar_label(1)

    @property
    def pillar2_label(self) -> str:
        return self.pillar_label(2)

    @property
    def pillar3_label(self) -> str:
        return self.pillar_label(3)

    @property
    def signal_label(self) -> str:
        return Signal(self.signal).label

    @property
    def blocker_label(self) -> str:
        return Blocker(self.blocker).label if self.blocker else ""

    @property
    def grant_stage(self) -> str:
        return str(GRANT_STAGES[self.grant_status]) if self.grant_status else ""

    @property
    def disbursed_month(self) -> str:
        """The month the grant was paid, YYYY-MM (the open data's form; pages write the month's name)."""
        return self.disbursed_on.strftime("%Y-%m") if self.disbursed_on else ""

    @property
    def paid(self) -> bool:
        return self.grant_status in PAID_STATUSES


VILLAGE_FIELDS = ("code", "name", "kind")
VILLAGE_EXPRESSIONS = {
    "district_code": F("district__code"),
    "district_name": F("district__name"),
    "regency_code": F("regency__code"),
    "regency_name": F("regency__name"),
    "adopted": F("is_adopted"),
    "pillar1": F("rollout__pillar1"),
    "pillar2": F("rollout__pillar2"),
    "pillar3": F("rollout__pillar3"),
    "signal": F("rollout__signal"),
    "signal_sufficient": F("rollout__signal_sufficient"),
    "blocker": F("rollout__blocker"),
}
GRANT_FIELDS = {
    "grant_status": F("status"),
    "grant_amount": F("amount"),
    "disbursed_on": F("disbursement__transfer_date"),
    "returned": F("returned_amount"),
}
# A village without a status row yet: what a new status holds.
NO_STATUS = {
    "pillar1": PillarStatus.NOT_STARTED,
    "pillar2": PillarStatus.NOT_STARTED,
    "pillar3": PillarStatus.NOT_STARTED,
    "signal": Signal.NONE,
    "signal_sufficient": False,
    "blocker": "",
}


def villages(
    *, allocation: Allocation | None, district: District | None = None, village: Village | None = None
) -> list[PublicVillage]:
    """The published rows of the active villages (of a district, or one village), ordered by code, each with
    its grant of `allocation`: two queries."""
    rows = rollout_selectors.village_rollout_list(user=PUBLIC)
    grants = grant_selectors.grant_list(user=PUBLIC, allocation=allocation) if allocation is not None else None
    if district is not None:
        rows = rows.filter(district=district)
        grants = grants.filter(village__district=district) if grants is not None else None
    if village is not None:
        rows = rows.filter(pk=village.pk)
        grants = grants.filter(village=village) if grants is not None else None
    by_village = {}
    if grants is not None:
        published_grants = grants.values(village_code=F("village__code"), **GRANT_FIELDS)
        by_village = {row.pop("village_code"): row for row in published_grants}
    published = []
    for row in rows.values(*VILLAGE_FIELDS, **VILLAGE_EXPRESSIONS):
        status = row if row["pillar1"] is not None else {**row, **NO_STATUS}
        grant = by_village.get(row["code"], {})
        returned = grant.pop("returned", None)
        published.append(PublicVillage(**status, **grant, returned_amount=returned))
    return published


# --- figures per level, for the downloads -------------------------------------------------------


def snapshot_rows(*, level: str, province: Province) -> list[AdoptionSnapshot]:
    """The latest snapshot rows of `level` within the province, with the target of their year."""
    parent = None if level == SnapshotLevel.PROVINCE else province.code
    rows = rollout_selectors.latest_snapshot_groups(user=PUBLIC, groups=[(level, parent)], with_target=True)[0]
    if level == SnapshotLevel.PROVINCE:
        return [row for row in rows if row.code == province.code]
    if level == SnapshotLevel.DISTRICT:
        return [row for row in rows if row.code.startswith(f"{province.code}.")]
    return rows


def ledger_rows(*, allocation: Allocation | None, level: str) -> dict[str, grant_selectors.LedgerRow]:
    if allocation is None:
        return {}
    return {row.code: row for row in grant_selectors.ledger(allocation=allocation, user=PUBLIC, level=level)}


@dataclass(frozen=True)
class BankConfirmed:
    """Disbursements the treasury's bank statement confirms (issue 15's reconciliation), in whole rupiah."""

    total: int
    by_regency: dict[str, int]


def bank_confirmed(*, allocation: Allocation | None) -> BankConfirmed | None:
    """What the bank confirmed of `allocation`, where the treasury knows it (a statement was imported for
    it); None otherwise, and the pages then show nothing. The one place the public pages read the
    treasury's figures: `treasury.selectors.bank_confirmed` (regency codes as keys)."""
    if allocation is None:
        return None
    confirmed = treasury_selectors.bank_confirmed(allocation=allocation)
    if not confirmed:
        return None
    return BankConfirmed(total=int(confirmed["total"]), by_regency=dict(confirmed.get("by_regency") or {}))
