"""Every write to allocations and grants, and the programme's money rules.

The rules (amounts, states, who is paid how often) live here and nowhere else;
views, the API and tasks only call these functions.

Concurrency: every function that changes grants first locks the allocation
row, then the grants in village-code order (one fixed lock order, so no
deadlocks), and moves states with a guarded UPDATE ... WHERE status IN (...)
whose row count must match. The database backs the rules with constraints:
one grant per village, one payment per grant, references unique within the
allocation, and an allocation that can never be over-committed.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import AuditAction, User
from accounts.services import audit_record, changed_fields, field_values
from grants.models import (
    Allocation,
    AllocationStatus,
    Disbursement,
    Grant,
    GrantAction,
    GrantEvent,
    GrantStatus,
)
from smartvillage.errors import ApplicationError, TransitionRefused
from smartvillage.templatetags.rupiah import rupiah
from villages.models import Province, Regency, Village

# The programme's grant: Rp6,000,000 for every desa and kelurahan (hibah desa cerdas).
GRANT_UNIT_AMOUNT = 6_000_000

# Which states each action moves a grant from, and to.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    GrantAction.APPROVE: ((GrantStatus.PLANNED,), GrantStatus.APPROVED),
    GrantAction.DISBURSE: ((GrantStatus.APPROVED,), GrantStatus.DISBURSED),
    GrantAction.ACCOUNT: ((GrantStatus.DISBURSED,), GrantStatus.ACCOUNTED),
    GrantAction.CLOSE: ((GrantStatus.ACCOUNTED,), GrantStatus.CLOSED),
    GrantAction.CANCEL: ((GrantStatus.PLANNED, GrantStatus.APPROVED), GrantStatus.CANCELLED),
    # A partial return keeps the state; a full one ends in RETURNED (see grant_return).
    GrantAction.RETURN: ((GrantStatus.DISBURSED, GrantStatus.ACCOUNTED), GrantStatus.RETURNED),
}

# Allocation states in which each kind of change is allowed.
PLANNING_STATUSES = (AllocationStatus.DRAFT, AllocationStatus.ACTIVE)
EXECUTION_STATUSES = (AllocationStatus.ACTIVE,)

# Allocation fields whose changes the audit trail records.
ALLOCATION_FIELDS = ("province", "fiscal_year", "funding_source", "legal_basis", "total_amount", "unit_amount")

MAX_AMOUNT = 10**15  # far above any APBD; keeps absurd input out of BIGINT arithmetic

REFERENCE_MAX_LENGTH = 100  # the reference as typed and its canonical form (Disbursement fields)

# (month, day) of the year after the fiscal year until which a late transfer may be dated.
LATE_TRANSFER_UNTIL = (3, 31)


@dataclass(frozen=True)
class PlanResult:
    created: int
    amount: int


# --- validation helpers -------------------------------------------------------------------------


def _positive_amount(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApplicationError(_("Invalid amount."), fields={field: [_("Enter a whole number of rupiah.")]})
    if value <= 0:
        raise ApplicationError(_("Invalid amount."), fields={field: [_("The amount must be greater than zero.")]})
    if value > MAX_AMOUNT:
        raise ApplicationError(_("Invalid amount."), fields={field: [_("The amount is implausibly large.")]})
    return value


# Characters that show nothing beyond the format characters (Unicode category Cf, e.g. zero-width
# spaces, joiners, the byte-order mark, direction marks, the soft hyphen): Unicode's other default
# ignorable code points (fillers, variation selectors, tags).
INVISIBLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0xE0000, 0xE0FFF),
)


def _invisible(character: str) -> bool:
    if unicodedata.category(character) == "Cf":
        return True
    point = ord(character)
    return any(first <= point <= last for first, last in INVISIBLE_RANGES)


def reference_key(value: str) -> str:
    """The canonical form of an SP2D reference: two references with the same form are the same transfer.

    Compatibility forms folded (NFKC: full-width letters, no-break spaces), invisible characters
    removed, letter case folded, whitespace of any kind trimmed and collapsed to one space. Unique
    per allocation in the database (`Disbursement.reference_key`).
    """
    text = unicodedata.normalize("NFKC", value)
    text = "".join(character for character in text if not _invisible(character))
    # Case folding can leave a string that is no longer in NFKC (e.g. a dotted capital I).
    text = unicodedata.normalize("NFKC", text.casefold())
    return " ".join(text.split())


def _reference(value: str, field: str = "reference") -> str:
    """A transfer or deposit reference as typed (surrounding whitespace trimmed), refused when it shows nothing."""
    reference = (value or "").strip()
    if not reference_key(reference):
        raise ApplicationError(_("A transfer reference is required."), fields={field: [_("This field is required.")]})
    if len(reference) > REFERENCE_MAX_LENGTH or len(reference_key(reference)) > REFERENCE_MAX_LENGTH:
        raise ApplicationError(_("Invalid reference."), fields={field: [_("At most 100 characters.")]})
    return reference


def _past_date(value: datetime.date, field: str) -> datetime.date:
    if value > timezone.localdate():
        raise ApplicationError(_("Invalid date."), fields={field: [_("The date cannot be in the future.")]})
    return value


def transfer_window(*, fiscal_year: int) -> tuple[datetime.date, datetime.date]:
    """The dates a transfer (SP2D) of an allocation of `fiscal_year` may carry, first and last.

    The APBD's year runs from January to December and its transfers are made within it; one of the
    year's transfers recorded late may carry a date up to the end of the next year's first quarter.
    Never a date in the future (the last day is at most today).
    """
    late_until = datetime.date(fiscal_year + 1, LATE_TRANSFER_UNTIL[0], LATE_TRANSFER_UNTIL[1])
    return datetime.date(fiscal_year, 1, 1), min(late_until, timezone.localdate())


def _transfer_date(value: datetime.date, fiscal_year: int) -> datetime.date:
    value = _past_date(value, "transfer_date")
    first, last = transfer_window(fiscal_year=fiscal_year)
    if last < first:
        message = _("Fiscal year %(year)s has not begun: no transfer of it can be dated yet.") % {"year": fiscal_year}
        raise ApplicationError(_("Invalid date."), fields={"transfer_date": [message]})
    if not first <= value <= last:
        message = _("A transfer of fiscal year %(year)s is dated from %(first)s to %(last)s.") % {
            "year": fiscal_year,
            "first": date_format(first, "j F Y"),
            "last": date_format(last, "j F Y"),
        }
        raise ApplicationError(_("Invalid date."), fields={"transfer_date": [message]})
    return value


def _lock_allocation(allocation_id: int, allowed: Iterable[str]) -> Allocation:
    allocation = Allocation.objects.select_for_update().get(pk=allocation_id)
    if allocation.status not in allowed:
        raise TransitionRefused(
            _("The allocation is %(status)s; this change is not allowed now.")
            % {"status": allocation.get_status_display()}
        )
    return allocation


def _lock_grants(grant_ids: Iterable[int]) -> list[Grant]:
    # Village order (by the unit's key, which a new code does not change): the one lock order every writer uses.
    return list(
        Grant.objects.select_for_update(of=("self",))
        .select_related("village")
        .filter(pk__in=list(grant_ids))
        .order_by("village_id")
    )


def _refuse_ineligible(grants: Sequence[Grant], action: str) -> None:
    sources, _target = TRANSITIONS[action]
    bad = [grant for grant in grants if grant.status not in sources]
    if bad:
        allowed = ", ".join(str(GrantStatus(status).label) for status in sources)
        raise TransitionRefused(
            _("%(count)d grant(s) cannot be moved by '%(action)s' (allowed from: %(allowed)s).")
            % {"count": len(bad), "action": GrantAction(action).label, "allowed": allowed},
            fields={
                "grants": [
                    _("%(village)s %(name)s is %(status)s")
                    % {"village": grant.village.code, "name": grant.village.name, "status": grant.get_status_display()}
                    for grant in bad[:50]
                ]
            },
        )


def _move(grants: Sequence[Grant], action: str, *, to_status: str | None = None, **fields) -> None:
    """Guarded UPDATE: only rows still in a source state move; anything else means a race was lost."""
    sources, target = TRANSITIONS[action]
    moved = Grant.objects.filter(pk__in=[grant.pk for grant in grants], status__in=sources).update(
        status=to_status or target, updated_at=timezone.now(), **fields
    )
    if moved != len(grants):
        raise TransitionRefused(_("Another change to these grants happened at the same time; try again."))


def _record(
    grants: Sequence[Grant], action: str, actor: User, *, to_status: str, amounts: Sequence[int | None], **details
) -> None:
    GrantEvent.objects.bulk_create(
        GrantEvent(
            grant=grant,
            action=action,
            # A planned grant is new: it comes from no state.
            from_status="" if action == GrantAction.PLAN else grant.status,
            to_status=to_status,
            actor=actor,
            amount=amount,
            **details,
        )
        for grant, amount in zip(grants, amounts, strict=True)
    )


# --- allocations --------------------------------------------------------------------------------


def allocation_required_total(*, province: Province, unit_amount: int = GRANT_UNIT_AMOUNT) -> int:
    """What paying every active desa and kelurahan of `province` costs: units x amount per unit."""
    units = Village.objects.filter(is_active=True, regency__province=province).count()
    return units * unit_amount


@transaction.atomic
def allocation_create(
    *,
    actor: User,
    province: Province,
    fiscal_year: int,
    legal_basis: str,
    funding_source: str = "APBD Provinsi Lampung",
    unit_amount: int = GRANT_UNIT_AMOUNT,
    total_amount: int | None = None,
) -> Allocation:
    """A draft allocation; its total defaults to every active unit of the province at `unit_amount`."""
    unit_amount = _positive_amount(unit_amount, "unit_amount")
    funding_source, legal_basis = funding_source.strip(), legal_basis.strip()
    if total_amount is None:
        total_amount = allocation_required_total(province=province, unit_amount=unit_amount)
    total_amount = _positive_amount(total_amount, "total_amount")
    if Allocation.objects.filter(province=province, fiscal_year=fiscal_year, funding_source=funding_source).exists():
        raise ApplicationError(
            _("This allocation already exists."),
            fields={"fiscal_year": [_("There is already an allocation for this year and funding source.")]},
        )
    allocation = Allocation.objects.create(
        province=province,
        fiscal_year=fiscal_year,
        funding_source=funding_source,
        legal_basis=legal_basis,
        unit_amount=unit_amount,
        total_amount=total_amount,
    )
    changes = {name: [None, value] for name, value in field_values(obj=allocation, fields=ALLOCATION_FIELDS).items()}
    audit_record(actor=actor, action=AuditAction.ALLOCATION_CREATED, obj=allocation, changes=changes)
    return allocation


@transaction.atomic
def allocation_update(
    *,
    allocation: Allocation,
    actor: User,
    legal_basis: str | None = None,
    total_amount: int | None = None,
    unit_amount: int | None = None,
) -> Allocation:
    """Edit an open allocation; the total can never drop below what is already committed."""
    locked = _lock_allocation(allocation.pk, PLANNING_STATUSES)
    before = field_values(obj=locked, fields=ALLOCATION_FIELDS)
    if total_amount is not None:
        total_amount = _positive_amount(total_amount, "total_amount")
        if total_amount < locked.committed_amount:
            raise ApplicationError(
                _("The total cannot be less than the committed amount."),
                fields={
                    "total_amount": [
                        _("At least %(committed)s is committed.") % {"committed": rupiah(locked.committed_amount)}
                    ]
                },
            )
        locked.total_amount = total_amount
    if unit_amount is not None:
        locked.unit_amount = _positive_amount(unit_amount, "unit_amount")
    if legal_basis is not None:
        locked.legal_basis = legal_basis.strip()
    changes = changed_fields(before=before, after=field_values(obj=locked, fields=ALLOCATION_FIELDS))
    if changes:
        locked.save(update_fields=["total_amount", "unit_amount", "legal_basis"])
        audit_record(actor=actor, action=AuditAction.ALLOCATION_CHANGED, obj=locked, changes=changes)
    return locked


def _allocation_move(allocation: Allocation, actor: User, from_status: str, to_status: str, action: str) -> Allocation:
    locked = _lock_allocation(allocation.pk, (from_status,))
    locked.status = to_status
    locked.save(update_fields=["status"])
    audit_record(actor=actor, action=action, obj=locked, changes={"status": [from_status, to_status]})
    return locked


@transaction.atomic
def allocation_activate(*, allocation: Allocation, actor: User) -> Allocation:
    return _allocation_move(
        allocation, actor, AllocationStatus.DRAFT, AllocationStatus.ACTIVE, AuditAction.ALLOCATION_ACTIVATED
    )


@transaction.atomic
def allocation_close(*, allocation: Allocation, actor: User) -> Allocation:
    return _allocation_move(
        allocation, actor, AllocationStatus.ACTIVE, AllocationStatus.CLOSED, AuditAction.ALLOCATION_CLOSED
    )


def _commit(allocation: Allocation, amount: int) -> None:
    """Add `amount` to the allocation's committed sum, refusing to exceed its total."""
    remaining = allocation.total_amount - allocation.committed_amount
    if amount > remaining:
        raise ApplicationError(
            _("The allocation would be exceeded: %(amount)s needed, %(remaining)s remaining.")
            % {"amount": rupiah(amount), "remaining": rupiah(remaining)},
            fields={"amount": [_("Exceeds the remaining allocation.")]},
        )
    Allocation.objects.filter(pk=allocation.pk).update(committed_amount=F("committed_amount") + amount)
    allocation.committed_amount += amount


@transaction.atomic
def allocation_plan(*, allocation: Allocation, actor: User, regency: Regency | None = None) -> PlanResult:
    """Plan a grant at the default amount for every active village in scope that has none yet.

    Scope: the whole province of the allocation, or one regency of it. Re-running
    plans only the villages still missing. All or nothing: if the allocation
    cannot cover them all, nothing is planned.
    """
    locked = _lock_allocation(allocation.pk, PLANNING_STATUSES)
    villages = Village.objects.filter(is_active=True, regency__province_id=locked.province_id)
    if regency is not None:
        if regency.province_id != locked.province_id:
            raise ApplicationError(
                _("The regency is not in the allocation's province."), fields={"regency": [_("Wrong province.")]}
            )
        villages = villages.filter(regency=regency)
    missing = list(villages.exclude(grants__allocation=locked).order_by("code").values_list("pk", flat=True))
    if not missing:
        return PlanResult(created=0, amount=0)
    _commit(locked, len(missing) * locked.unit_amount)
    grants = Grant.objects.bulk_create(
        Grant(allocation=locked, village_id=village_id, amount=locked.unit_amount) for village_id in missing
    )
    _record(
        grants,
        GrantAction.PLAN,
        actor,
        to_status=GrantStatus.PLANNED,
        amounts=[grant.amount for grant in grants],
    )
    return PlanResult(created=len(grants), amount=len(grants) * locked.unit_amount)


# --- single grants ------------------------------------------------------------------------------


@transaction.atomic
def grant_plan(*, allocation: Allocation, village: Village, actor: User, amount: int | None = None) -> Grant:
    """Plan one village's grant (e.g. a unit added after the bulk plan)."""
    locked = _lock_allocation(allocation.pk, PLANNING_STATUSES)
    amount = _positive_amount(locked.unit_amount if amount is None else amount, "amount")
    if not village.is_active or village.regency.province_id != locked.province_id:
        raise ApplicationError(
            _("This village cannot receive a grant from this allocation."),
            fields={"village": [_("Inactive, or outside the allocation's province.")]},
        )
    if Grant.objects.filter(allocation=locked, village=village).exists():
        raise TransitionRefused(_("%(village)s already has a grant in this allocation.") % {"village": village.code})
    _commit(locked, amount)
    try:
        with transaction.atomic():
            grant = Grant.objects.create(allocation=locked, village=village, amount=amount)
    except IntegrityError:
        raise TransitionRefused(
            _("%(village)s already has a grant in this allocation.") % {"village": village.code}
        ) from None
    _record([grant], GrantAction.PLAN, actor, to_status=GrantStatus.PLANNED, amounts=[amount])
    return grant


def _single(grant: Grant, allowed_allocation_statuses: Iterable[str]) -> Grant:
    _lock_allocation(grant.allocation_id, allowed_allocation_statuses)
    return _lock_grants([grant.pk])[0]


@transaction.atomic
def grant_approve(*, grant: Grant, actor: User, note: str = "") -> Grant:
    locked = _single(grant, EXECUTION_STATUSES)
    return _approve([locked], actor, note=note)[0]


@transaction.atomic
def grant_disburse(*, grant: Grant, actor: User, reference: str, transfer_date: datetime.date, note: str = "") -> Grant:
    """Pay one approved grant with its own transfer (SP2D)."""
    locked = _single(grant, EXECUTION_STATUSES)
    return _disburse([locked], actor, reference=reference, transfer_date=transfer_date, note=note)[0]


@transaction.atomic
def grant_cancel(*, grant: Grant, actor: User, note: str = "") -> Grant:
    locked = _single(grant, PLANNING_STATUSES)
    return _cancel([locked], actor, note=note)[0]


@transaction.atomic
def grant_account(*, grant: Grant, actor: User, spent_amount: int, note: str = "", document_url: str = "") -> Grant:
    """Record the village's accountability report (LPJ): what it actually spent."""
    locked = _single(grant, EXECUTION_STATUSES)
    _refuse_ineligible([locked], GrantAction.ACCOUNT)
    if isinstance(spent_amount, bool) or not isinstance(spent_amount, int) or spent_amount < 0:
        raise ApplicationError(
            _("Invalid amount."), fields={"spent_amount": [_("Enter a whole number of rupiah, zero or more.")]}
        )
    available = locked.amount - locked.returned_amount
    if spent_amount > available:
        raise ApplicationError(
            _("More than the village received."),
            fields={"spent_amount": [_("At most %(available)s.") % {"available": rupiah(available)}]},
        )
    now = timezone.now()
    _move(
        [locked],
        GrantAction.ACCOUNT,
        spent_amount=spent_amount,
        report_note=note,
        report_url=document_url,
        accounted_at=now,
    )
    _record([locked], GrantAction.ACCOUNT, actor, to_status=GrantStatus.ACCOUNTED, amounts=[spent_amount], note=note)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def grant_return(*, grant: Grant, actor: User, amount: int, reference: str, note: str = "") -> Grant:
    """Record money the village returned to the regional treasury, in full or in part.

    A partial return keeps the grant's state; returning everything still held
    ends the grant in RETURNED.
    """
    locked = _single(grant, EXECUTION_STATUSES)
    _refuse_ineligible([locked], GrantAction.RETURN)
    amount = _positive_amount(amount, "amount")
    reference = _reference(reference)
    _refuse_repeated_return(locked, reference)
    held = locked.amount - locked.returned_amount - (locked.spent_amount or 0)
    if amount > held:
        raise ApplicationError(
            _("More than the village still holds."),
            fields={"amount": [_("At most %(held)s can be returned.") % {"held": rupiah(held)}]},
        )
    returned_total = locked.returned_amount + amount
    full = returned_total == locked.amount
    to_status = GrantStatus.RETURNED if full else locked.status
    _move([locked], GrantAction.RETURN, to_status=to_status, returned_amount=returned_total)
    _record([locked], GrantAction.RETURN, actor, to_status=to_status, amounts=[amount], reference=reference, note=note)
    locked.refresh_from_db()
    return locked


def _refuse_repeated_return(grant: Grant, reference: str) -> None:
    """A deposit slip (STS) records one return: the same reference again on the grant, in any spelling,
    is the same deposit sent twice (a double click, a retried request), not a second return. The grant's
    row is locked, so two concurrent sends are decided one after the other."""
    key = reference_key(reference)
    earlier = grant.events.filter(action=GrantAction.RETURN).values_list("reference", flat=True)
    if any(reference_key(recorded) == key for recorded in earlier):
        raise ApplicationError(
            _("This deposit is already recorded as a return of this grant."),
            fields={"reference": [_("Reference %(reference)s is already recorded.") % {"reference": reference}]},
        )


@transaction.atomic
def grant_close(*, grant: Grant, actor: User, note: str = "") -> Grant:
    """Close an accounted grant once spent and returned money add up to the payment."""
    locked = _single(grant, EXECUTION_STATUSES)
    _refuse_ineligible([locked], GrantAction.CLOSE)
    unexplained = locked.amount - locked.returned_amount - (locked.spent_amount or 0)
    if unexplained:
        raise TransitionRefused(
            _("%(amount)s is neither spent nor returned; record the return before closing.")
            % {"amount": rupiah(unexplained)}
        )
    _move([locked], GrantAction.CLOSE, closed_at=timezone.now())
    _record([locked], GrantAction.CLOSE, actor, to_status=GrantStatus.CLOSED, amounts=[None], note=note)
    locked.refresh_from_db()
    return locked


# --- shared by single and batch actions (grants already locked) ----------------------------------


def _approve(grants: list[Grant], actor: User, *, note: str) -> list[Grant]:
    _refuse_ineligible(grants, GrantAction.APPROVE)
    _move(grants, GrantAction.APPROVE, approved_at=timezone.now())
    _record(
        grants,
        GrantAction.APPROVE,
        actor,
        to_status=GrantStatus.APPROVED,
        amounts=[g.amount for g in grants],
        note=note,
    )
    return _reloaded(grants)


def _disburse(
    grants: list[Grant], actor: User, *, reference: str, transfer_date: datetime.date, note: str
) -> list[Grant]:
    _refuse_ineligible(grants, GrantAction.DISBURSE)
    reference = _reference(reference)
    key = reference_key(reference)
    allocation_id = grants[0].allocation_id
    fiscal_year = Allocation.objects.values_list("fiscal_year", flat=True).get(pk=allocation_id)
    transfer_date = _transfer_date(transfer_date, fiscal_year)
    try:
        # Savepoint: a duplicate reference must not poison the outer transaction.
        with transaction.atomic():
            disbursement = Disbursement.objects.create(
                allocation_id=allocation_id,
                reference=reference,
                reference_key=key,
                transfer_date=transfer_date,
                amount=sum(grant.amount for grant in grants),
                created_by=actor,
            )
    except IntegrityError:
        # Named as first written, so that a reference written another way is recognised.
        used = (
            Disbursement.objects.filter(allocation_id=allocation_id, reference_key=key)
            .values_list("reference", flat=True)
            .first()
        )
        raise ApplicationError(
            _("This transfer reference is already used in this allocation."),
            fields={"reference": [_("Reference %(reference)s is already used.") % {"reference": used or reference}]},
        ) from None
    _move(grants, GrantAction.DISBURSE, disbursement=disbursement)
    _record(
        grants,
        GrantAction.DISBURSE,
        actor,
        to_status=GrantStatus.DISBURSED,
        amounts=[g.amount for g in grants],
        reference=reference,
        note=note,
    )
    return _reloaded(grants)


def _cancel(grants: list[Grant], actor: User, *, note: str) -> list[Grant]:
    _refuse_ineligible(grants, GrantAction.CANCEL)
    _move(grants, GrantAction.CANCEL, cancelled_at=timezone.now())
    Allocation.objects.filter(pk=grants[0].allocation_id).update(
        committed_amount=F("committed_amount") - sum(grant.amount for grant in grants)
    )
    _record(
        grants,
        GrantAction.CANCEL,
        actor,
        to_status=GrantStatus.CANCELLED,
        amounts=[g.amount for g in grants],
        note=note,
    )
    return _reloaded(grants)


def _reloaded(grants: list[Grant]) -> list[Grant]:
    return list(
        Grant.objects.select_related("village", "disbursement")
        .filter(pk__in=[g.pk for g in grants])
        .order_by("village__code")
    )


# --- batches per regency ------------------------------------------------------------------------


BATCH_ACTIONS = (GrantAction.APPROVE, GrantAction.DISBURSE, GrantAction.CANCEL)


def _batch(
    allocation: Allocation, regency: Regency, action: str, grant_ids: Sequence[int] | None, allowed: Iterable[str]
) -> list[Grant]:
    """Lock the batch: the given grants of the regency, or all its grants eligible for `action`."""
    locked_allocation = _lock_allocation(allocation.pk, allowed)
    if regency.province_id != locked_allocation.province_id:
        raise ApplicationError(
            _("The regency is not in the allocation's province."), fields={"regency": [_("Wrong province.")]}
        )
    in_regency = Grant.objects.filter(allocation=locked_allocation, village__regency=regency)
    if grant_ids is None:
        sources, _target = TRANSITIONS[action]
        grant_ids = list(in_regency.filter(status__in=sources).values_list("pk", flat=True))
    else:
        grant_ids = list(dict.fromkeys(grant_ids))
        outside = set(grant_ids) - set(in_regency.filter(pk__in=grant_ids).values_list("pk", flat=True))
        if outside:
            raise ApplicationError(
                _("Some grants are not in this regency and allocation."),
                fields={"grant_ids": [_("Not in this batch's scope: %(ids)s") % {"ids": sorted(outside)}]},
            )
    if not grant_ids:
        raise TransitionRefused(_("No grant of this regency is eligible for this action."))
    return _lock_grants(grant_ids)


@transaction.atomic
def grants_approve_batch(
    *, allocation: Allocation, regency: Regency, actor: User, grant_ids: Sequence[int] | None = None, note: str = ""
) -> list[Grant]:
    """Approve the regency's planned grants (or exactly `grant_ids`): all or nothing."""
    grants = _batch(allocation, regency, GrantAction.APPROVE, grant_ids, EXECUTION_STATUSES)
    return _approve(grants, actor, note=note)


@transaction.atomic
def grants_disburse_batch(
    *,
    allocation: Allocation,
    regency: Regency,
    actor: User,
    reference: str,
    transfer_date: datetime.date,
    grant_ids: Sequence[int] | None = None,
    note: str = "",
) -> list[Grant]:
    """Pay the regency's approved grants (or exactly `grant_ids`) with one transfer: all or nothing."""
    grants = _batch(allocation, regency, GrantAction.DISBURSE, grant_ids, EXECUTION_STATUSES)
    return _disburse(grants, actor, reference=reference, transfer_date=transfer_date, note=note)


@transaction.atomic
def grants_cancel_batch(
    *, allocation: Allocation, regency: Regency, actor: User, grant_ids: Sequence[int] | None = None, note: str = ""
) -> list[Grant]:
    """Cancel the regency's planned and approved grants (or exactly `grant_ids`): all or nothing."""
    grants = _batch(allocation, regency, GrantAction.CANCEL, grant_ids, PLANNING_STATUSES)
    return _cancel(grants, actor, note=note)
