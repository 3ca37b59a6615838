"""Reads of allocations and grants: the ledger and the grant lists, within the reader's scope.

Every figure is an aggregate query (SUM/COUNT ... GROUP BY); nothing loops over grants in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from django.db.models import Case, Count, F, FilteredRelation, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from accounts.access import regency_scope, restrict_to_scope
from accounts.models import User
from grants.models import APPROVED_OR_LATER, PAID_STATUSES, Allocation, AllocationStatus, Grant, GrantStatus

LEVELS = ("province", "regency", "district")

# level -> (code path, name path) of the unit a ledger row totals.
GROUPING = {
    "province": ("allocation__province__code", "allocation__province__name"),
    "regency": ("village__regency__code", "village__regency__name"),
    "district": ("village__district__code", "village__district__name"),
}

LEDGER_AMOUNTS = ("committed", "approved", "disbursed", "returned", "accounted")


def committed(*, path: str = "", where: Q | None = None) -> Coalesce:
    """*Committed* money: the sum of the amounts of the grants that are not cancelled (`path` leads from
    the queried model to Grant, e.g. "grants__" from an allocation; `where` narrows the grants further),
    what an allocation has promised.

    The one definition. `Allocation.committed_amount` stores it for the whole allocation, kept equal to
    this sum by grants.services in the grants' own transaction so that the database refuses an
    over-commitment; the ledger (API field `planned`) and an officer's view of an allocation sum it here.
    """
    condition = ~Q(**{f"{path}status": GrantStatus.CANCELLED})
    if where is not None:
        condition &= where
    return Coalesce(Sum(f"{path}amount", filter=condition), 0)


def _ledger_aggregates() -> dict:
    return {
        "units": Count("pk", filter=~Q(status=GrantStatus.CANCELLED)),
        "committed": committed(),
        "approved": Coalesce(Sum("amount", filter=Q(status__in=APPROVED_OR_LATER)), 0),
        "disbursed": Coalesce(Sum("amount", filter=Q(status__in=PAID_STATUSES)), 0),
        "returned": Coalesce(Sum("returned_amount"), 0),
        "accounted": Coalesce(Sum("spent_amount"), 0),
        "cancelled_units": Count("pk", filter=Q(status=GrantStatus.CANCELLED)),
    }


@dataclass(frozen=True)
class LedgerRow:
    code: str
    name: str
    units: int
    committed: int
    approved: int
    disbursed: int
    returned: int
    accounted: int
    cancelled_units: int
    # Counts a caller asked `ledger` for besides the ledger's own figures, by name.
    counts: Mapping[str, int] = field(default_factory=dict, compare=False)
    # Of `disbursed`, what the treasury's bank statements confirm (BankView), where the caller asked for it.
    confirmed: int | None = None

    @property
    def net_disbursed(self) -> int:
        """Paid to villages and not returned to the treasury."""
        return self.disbursed - self.returned

    @property
    def to_disburse(self) -> int:
        """Committed but not yet paid."""
        return self.committed - self.disbursed

    @property
    def disbursed_pct(self) -> float:
        return _pct(self.disbursed, self.committed)

    @property
    def accounted_pct(self) -> float:
        """Share of the money the villages hold that their LPJs account for."""
        return _pct(self.accounted, self.net_disbursed)


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


@dataclass(frozen=True)
class MoneySummary:
    """What became of a budget, in the figures every page, export and the API show under the same names:

    - disbursed: gross, every grant paid (a later return does not undo a payment);
    - returned: paid back to the treasury;
    - net disbursed: disbursed minus returned, the money still with the villages;
    - remaining (sisa): the budget minus the net disbursed, what is not (or no longer) in the villages' hands.

    The budget is the allocation's total for the province (`of_allocation`), a regency's committed
    grants for a regency (`of_regency`).
    """

    budget: int
    totals: LedgerRow

    @classmethod
    def of_allocation(cls, *, totals: LedgerRow, allocation: Allocation) -> MoneySummary:
        return cls(budget=allocation.total_amount, totals=totals)

    @classmethod
    def of_regency(cls, *, totals: LedgerRow) -> MoneySummary:
        return cls(budget=totals.committed, totals=totals)

    @property
    def disbursed(self) -> int:
        return self.totals.disbursed

    @property
    def returned(self) -> int:
        return self.totals.returned

    @property
    def net_disbursed(self) -> int:
        return self.totals.net_disbursed

    @property
    def remaining(self) -> int:
        return self.budget - self.totals.net_disbursed

    @property
    def disbursed_pct(self) -> float:
        return _pct(self.disbursed, self.budget)

    @property
    def net_disbursed_pct(self) -> float:
        return _pct(self.net_disbursed, self.budget)

    @property
    def remaining_pct(self) -> float:
        return _pct(self.remaining, self.budget)


@dataclass(frozen=True)
class AllocationSummary(MoneySummary):
    """The allocation as a whole: its money (budget: the allocation's total) and what is not committed."""

    allocation: Allocation

    @property
    def unallocated(self) -> int:
        return self.allocation.total_amount - self.totals.committed

    # The API's names of the shares (`disbursed_pct_of_total`), kept for its clients.
    @property
    def disbursed_pct_of_total(self) -> float:
        return self.disbursed_pct

    @property
    def net_disbursed_pct_of_total(self) -> float:
        return self.net_disbursed_pct


def shown_first() -> tuple:
    """The order in which a province's allocations compete to be shown: decided ones (active or closed)
    before drafts, then the latest fiscal year. Next year's draft, being prepared with nothing paid,
    does not replace this year's figures; a province with drafts only shows its latest draft."""
    draft_last = Case(When(status=AllocationStatus.DRAFT, then=Value(1)), default=Value(0))
    return (draft_last.asc(), F("fiscal_year").desc())


def latest_allocation(*, province_code: str) -> Allocation | None:
    """The province's shown allocation (`shown_first`): the one the dashboard and the public pages show."""
    return Allocation.objects.filter(province__code=province_code).order_by(*shown_first()).first()


def with_latest_allocation(*, queryset: QuerySet, relation: str, province_field: str) -> QuerySet:
    """`queryset` (provinces or regencies) with the province's shown allocation (as
    `latest_allocation`) joined in the same query through `relation` (read it with `joined_allocation`);
    `province_field` leads from a row to its province ("pk" for provinces, "province" for regencies)."""
    latest = Allocation.objects.filter(province=OuterRef(province_field)).order_by(*shown_first()).values("pk")[:1]
    return queryset.annotate(
        latest_allocation=FilteredRelation(relation, condition=Q(**{f"{relation}__pk": Subquery(latest)})),
    ).select_related("latest_allocation")


def joined_allocation(*, unit) -> Allocation | None:
    # Django sets a FilteredRelation's select_related attribute only where the join found a row.
    return getattr(unit, "latest_allocation", None)


def allocation_list(*, user: User) -> QuerySet[Allocation]:
    """Allocations with `committed`: what `user` may see committed. The province-wide sum (stored) for
    province roles; for an officer, the own regency's grants only (the province-wide sum minus the own
    share would reveal the other regencies')."""
    allocations = Allocation.objects.select_related("province").order_by("-fiscal_year", "id")
    scope = regency_scope(user)
    if scope is None:
        return allocations.annotate(committed=F("committed_amount"))
    return allocations.annotate(committed=committed(path="grants__", where=Q(grants__village__regency_id=scope)))


def grant_list(*, user: User, allocation: Allocation | None = None) -> QuerySet[Grant]:
    """Grants visible to `user`, with everything a list row shows loaded in the same query."""
    queryset = Grant.objects.select_related(
        "allocation", "village", "village__district", "village__regency", "disbursement"
    ).order_by("village__code")
    if allocation is not None:
        queryset = queryset.filter(allocation=allocation)
    return restrict_to_scope(queryset, user, regency_field="village__regency")


# --- what the bank says of the payments (a hook: the treasury app sits above grants) ----------------


@dataclass(frozen=True)
class BankView:
    """What the treasury's bank statements say of the grants' payments, registered by the treasury app
    when it loads (treasury/apps.py) so that the grant pages show "confirmed by bank" and a payment's bank
    lines without importing an app above them."""

    # Whether a statement was imported for the allocation (else nothing is known: no figure shown).
    known: Callable[..., bool]  # (allocation=) -> bool
    # The grants whose payment the bank confirmed, as a condition on Grant.
    confirmed: Callable[[], Q]
    # The bank lines about one grant's payment, for its page: objects with date, file_name, line_number,
    # description, amount, kind_label, outcome_id.
    lines: Callable[..., list]  # (grant=) -> list


_bank_view: BankView | None = None


def bank_view_register(*, view: BankView) -> None:
    global _bank_view  # set once, when the apps load
    _bank_view = view


def bank_view() -> BankView | None:
    return _bank_view


def ledger(
    *,
    allocation: Allocation,
    user: User,
    level: str = "regency",
    regency_code: str | None = None,
    counts: Mapping[str, Q] | None = None,
    with_confirmed: bool = False,
) -> list[LedgerRow]:
    """One row per unit of `level` (province, regency or district), ordered by code.

    `regency_code` narrows a district ledger to one regency (the drill-down). `counts` (name ->
    condition on Grant) adds the number of each unit's grants meeting a condition, counted in the
    same GROUP BY and given in the row's `counts`. `with_confirmed` adds what the bank confirmed of the
    disbursed money (`LedgerRow.confirmed`), where a BankView is registered.
    """
    code_path, name_path = GROUPING[level]
    grants = grant_list(user=user, allocation=allocation)
    if regency_code:
        grants = grants.filter(village__regency__code=regency_code)
    extra = {f"count_{name}": Count("pk", filter=condition) for name, condition in (counts or {}).items()}
    if with_confirmed and _bank_view is not None:
        extra["confirmed"] = Coalesce(Sum("amount", filter=Q(status__in=PAID_STATUSES) & _bank_view.confirmed()), 0)
    rows = grants.order_by().values(code_path, name_path).annotate(**_ledger_aggregates(), **extra).order_by(code_path)
    return [
        LedgerRow(
            code=row.pop(code_path),
            name=row.pop(name_path),
            counts={name: row.pop(f"count_{name}") for name in counts or {}},
            **row,
        )
        for row in rows
    ]


def ledger_total(*, rows: Sequence[LedgerRow], code: str, name: str) -> LedgerRow:
    """The sum of ledger rows: one unit's totals from its children's rows (no query)."""
    figures = ("units", *LEDGER_AMOUNTS, "cancelled_units")
    return LedgerRow(code=code, name=name, **{figure: sum(getattr(row, figure) for row in rows) for figure in figures})


def allocation_summary(*, allocation: Allocation, user: User) -> AllocationSummary:
    """The province-wide totals of one allocation against its total; for a regency officer, the own
    regency's totals against the own regency's committed grants (as the officer's dashboard shows them)."""
    totals = grant_list(user=user, allocation=allocation).order_by().aggregate(**_ledger_aggregates())
    row = LedgerRow(code=allocation.province.code, name=allocation.province.name, **totals)
    money = MoneySummary.of_allocation(totals=row, allocation=allocation)
    if regency_scope(user) is not None:
        money = MoneySummary.of_regency(totals=row)
    return AllocationSummary(budget=money.budget, totals=row, allocation=allocation)
