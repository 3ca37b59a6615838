"""Reads for the reconciliation: an allocation's disbursements as the matching core takes them, and the
reconciliation as the pages, the API and the public figures read it (within the reader's scope)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest

from accounts.access import restrict_to_scope
from accounts.models import User
from grants.models import PAID_STATUSES, Allocation, Disbursement, Grant
from treasury.matching import DisbursementRef, GrantRef
from treasury.models import Outcome, OutcomeKind, Resolution, ResolutionAction, Statement

# Outcomes a line settles its disbursement with (a later line paying it: duplicate; a missing one: paid).
SETTLING_KINDS = (OutcomeKind.MATCHED, OutcomeKind.AMOUNT_MISMATCH)


def disbursement_refs(*, allocation: Allocation) -> list[DisbursementRef]:
    """Every disbursement (SP2D) of the allocation with the grants it pays: two queries, whatever the size."""
    grants: dict[int, list[GrantRef]] = defaultdict(list)
    rows = (
        Grant.objects.filter(allocation=allocation, disbursement__isnull=False)
        .order_by("village__code")
        .values_list("disbursement_id", "pk", "village__code", "village__name", "amount")
    )
    for disbursement_id, grant_id, code, name, amount in rows:
        grants[disbursement_id].append(GrantRef(id=grant_id, village_code=code, village_name=name, amount=amount))
    disbursements = (
        Disbursement.objects.filter(allocation=allocation)
        .order_by("transfer_date", "pk")
        .values_list("pk", "reference", "amount", "transfer_date")
    )
    return [
        DisbursementRef(
            id=pk, reference=reference, amount=amount, transfer_date=transfer_date, grants=tuple(grants[pk])
        )
        for pk, reference, amount, transfer_date in disbursements
    ]


# --- the reconciliation as staff, auditors and officers read it -----------------------------------


def statement_list(*, allocation: Allocation) -> QuerySet[Statement]:
    """The statements imported for `allocation`, newest first: who imported which file, its period and totals
    (no regional rows: what an officer sees of them is the outcomes of the own regency)."""
    return Statement.objects.filter(allocation=allocation).select_related("imported_by").order_by("-imported_at", "-pk")


def _superseded() -> Q:
    """A missing disbursement that a later statement paid, or staff matched by hand: no longer missing."""
    paid_later = Outcome.objects.filter(
        disbursement=OuterRef("disbursement"), kind__in=SETTLING_KINDS, line__isnull=False
    )
    matched_by_hand = Resolution.objects.filter(
        action=ResolutionAction.MANUAL_MATCH, disbursement=OuterRef("disbursement")
    )
    return Q(kind=OutcomeKind.UNMATCHED_DISBURSEMENT) & (Q(Exists(paid_later)) | Q(Exists(matched_by_hand)))


def outcome_list(*, user: User, allocation: Allocation | None = None) -> QuerySet[Outcome]:
    """The outcomes (of `allocation`, or of every allocation) that `user` may see (officers: their regency's
    only; a line naming no SP2D concerns no regency, so province-wide readers only), each with `resolved`,
    `superseded` and `is_open` (an item staff still have to resolve), a row's objects loaded in the query."""
    outcomes = Outcome.objects.all() if allocation is None else Outcome.objects.filter(allocation=allocation)
    outcomes = (
        outcomes.select_related("line", "statement", "disbursement", "grant__village", "regency")
        .annotate(
            resolved=Exists(Resolution.objects.filter(outcome=OuterRef("pk"))),
            superseded=ExpressionWrapper(_superseded(), output_field=BooleanField()),
        )
        .annotate(
            is_open=ExpressionWrapper(
                ~Q(kind=OutcomeKind.MATCHED) & Q(resolved=False) & Q(superseded=False), output_field=BooleanField()
            )
        )
        .order_by("statement_id", "line__date", "line__line_number", "pk")
    )
    return restrict_to_scope(outcomes, user, regency_field="regency_id")


@dataclass(frozen=True)
class OutcomeFigures:
    count: int
    amount: int


@dataclass(frozen=True)
class RegencyFigures:
    code: str | None  # None: lines naming no SP2D, which concern no regency
    name: str
    by_kind: dict[str, OutcomeFigures]
    open_items: int


@dataclass(frozen=True)
class ReconciliationSummary:
    """An allocation's reconciliation as a reader sees it: what every statement found so far, a missing
    disbursement paid later no longer counted as missing."""

    by_kind: dict[str, OutcomeFigures]
    regencies: list[RegencyFigures]
    open_items: int
    statements: int

    @property
    def imported(self) -> bool:
        return self.statements > 0


def reconciliation_summary(*, allocation: Allocation, user: User) -> ReconciliationSummary:
    """Counts and amounts per outcome, and per regency: one GROUP BY query (and one count of statements)."""
    rows = (
        outcome_list(allocation=allocation, user=user)
        .filter(superseded=False)
        .order_by()
        .values("regency__code", "regency__name", "kind")
        .annotate(count=Count("pk"), amount=Coalesce(Sum("amount"), 0), open=Count("pk", filter=Q(is_open=True)))
        .order_by("regency__code", "kind")
    )
    total: dict[str, list[int]] = {kind: [0, 0] for kind in OutcomeKind.values}
    regencies: dict[str | None, dict] = {}
    open_items = 0
    for row in rows:
        code = row["regency__code"]
        entry = regencies.setdefault(code, {"name": row["regency__name"] or "", "by_kind": {}, "open": 0})
        entry["by_kind"][row["kind"]] = OutcomeFigures(row["count"], row["amount"])
        entry["open"] += row["open"]
        total[row["kind"]][0] += row["count"]
        total[row["kind"]][1] += row["amount"]
        open_items += row["open"]
    empty = OutcomeFigures(0, 0)
    return ReconciliationSummary(
        by_kind={kind: OutcomeFigures(*figures) for kind, figures in total.items()},
        regencies=[
            RegencyFigures(
                code=code,
                name=entry["name"],
                by_kind={kind: entry["by_kind"].get(kind, empty) for kind in OutcomeKind.values},
                open_items=entry["open"],
            )
            for code, entry in sorted(regencies.items(), key=lambda item: (item[0] is None, item[0] or ""))
        ],
        open_items=open_items,
        statements=Statement.objects.filter(allocation=allocation).count(),
    )


def confirmed_condition() -> Q:
    """The grants whose payment the bank confirmed ("confirmed by bank"), as a condition on Grant: a
    statement line `matched` its disbursement (the whole SP2D, or this village's transfer of a batch), or
    staff matched a line to its disbursement by hand. A line of another amount does not confirm."""
    matched = Outcome.objects.filter(kind=OutcomeKind.MATCHED, disbursement=OuterRef("disbursement")).filter(
        Q(grant__isnull=True) | Q(grant=OuterRef("pk"))
    )
    matched_by_hand = Resolution.objects.filter(
        action=ResolutionAction.MANUAL_MATCH, disbursement=OuterRef("disbursement")
    )
    return Q(disbursement__isnull=False) & (Q(Exists(matched)) | Q(Exists(matched_by_hand)))


@dataclass(frozen=True)
class ConfirmedRow:
    code: str
    name: str
    disbursed: int
    confirmed: int

    @property
    def unconfirmed(self) -> int:
        return self.disbursed - self.confirmed


def confirmed_ledger(*, allocation: Allocation, user: User) -> list[ConfirmedRow]:
    """Per regency (by code): disbursed (gross, as the grants' ledger) and confirmed by bank, in the
    reader's scope. One query."""
    grants = restrict_to_scope(
        Grant.objects.filter(allocation=allocation, status__in=PAID_STATUSES), user, regency_field="village__regency_id"
    )
    rows = (
        grants.order_by()
        .values("village__regency__code", "village__regency__name")
        .annotate(
            disbursed=Coalesce(Sum("amount"), 0),
            confirmed=Coalesce(Sum("amount", filter=confirmed_condition()), 0),
        )
        .order_by("village__regency__code")
    )
    return [
        ConfirmedRow(row["village__regency__code"], row["village__regency__name"], row["disbursed"], row["confirmed"])
        for row in rows
    ]


def bank_confirmed(*, allocation: Allocation) -> dict | None:
    """What the bank confirmed of `allocation`'s disbursements, for the public pages: {"total": rupiah,
    "by_regency": {regency code: rupiah}}; None while no statement was imported for it (nothing known)."""
    if not Statement.objects.filter(allocation=allocation).exists():
        return None
    rows = (
        Grant.objects.filter(allocation=allocation, status__in=PAID_STATUSES)
        .filter(confirmed_condition())
        .order_by()
        .values("village__regency__code")
        .annotate(total=Sum("amount"))
        .order_by("village__regency__code")
    )
    by_regency = {row["village__regency__code"]: row["total"] for row in rows}
    return {"total": sum(by_regency.values()), "by_regency": by_regency}


def bank_changed_at(*, province: OuterRef | F) -> Subquery:
    """The last time the bank's figures of a province's allocations changed (an import, a resolution), as a
    subquery on `province` (the province's key): part of the public pages' edition."""
    imports = Statement.objects.filter(allocation__province=province).order_by("-imported_at").values("imported_at")
    resolutions = Resolution.objects.filter(outcome__allocation__province=province).order_by("-created_at")
    imported_at = Subquery(imports[:1])
    resolved_at = Subquery(resolutions.values("created_at")[:1])
    # GREATEST ignores NULLs on PostgreSQL but not on SQLite: each side stands in for a missing other.
    return Greatest(Coalesce(imported_at, resolved_at), Coalesce(resolved_at, imported_at))


def grant_bank_lines(*, grant: Grant) -> QuerySet[Outcome]:
    """The statement lines about `grant`'s payment: its disbursement's outcomes (a batch: the ones of the
    whole SP2D or this village's transfer), with the lines and statements loaded."""
    if grant.disbursement_id is None:
        return Outcome.objects.none()
    return (
        Outcome.objects.filter(disbursement_id=grant.disbursement_id)
        .filter(Q(grant__isnull=True) | Q(grant=grant))
        .select_related("line", "statement")
        .order_by("line__date", "pk")
    )


def statements_imported(*, allocation: Allocation) -> bool:
    return Statement.objects.filter(allocation=allocation).exists()


@dataclass(frozen=True)
class BankLine:
    """A bank line about a grant's payment, as the grant's page shows it."""

    outcome_id: int
    kind: str
    kind_label: str
    file_name: str
    line_number: int
    date: object
    description: str
    bank_reference: str
    amount: int
    is_debit: bool


def bank_lines(*, grant: Grant) -> list[BankLine]:
    """The statement lines about `grant`'s payment (grants.selectors.BankView.lines): one query."""
    return [
        BankLine(
            outcome_id=outcome.pk,
            kind=outcome.kind,
            kind_label=outcome.get_kind_display(),
            file_name=outcome.statement.file_name,
            line_number=outcome.line.line_number,
            date=outcome.line.date,
            description=outcome.line.description,
            bank_reference=outcome.line.bank_reference,
            amount=outcome.amount,
            is_debit=outcome.line.debit > 0,
        )
        for outcome in grant_bank_lines(grant=grant).filter(line__isnull=False)
    ]
