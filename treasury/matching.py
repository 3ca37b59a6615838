"""The matching core: a statement's lines against an allocation's disbursements, as pure functions.

Every debit line and every disbursement of the statement's period ends in exactly one outcome, with its
reason (`OutcomeKind`); a credit line returning an SP2D's transfer is `returned`, so a bounced transfer
shows twice (its debit `matched`, its credit `returned`). Nothing here reads or writes the database:
the caller passes the lines (`treasury.parsers`) and the disbursements (`treasury.selectors`), and
stores what comes back.

The rules, per disbursement D and the debit lines whose text names its SP2D (`treasury.references`),
taken in date order:
- a line of D's amount is `matched`; any other line naming D is then `duplicate` (the bank paid twice);
- a batch D (several villages' grants under one SP2D) may also be paid as one transfer per village:
  lines whose amounts are its grants' (the village named in the text decides between equal amounts)
  are `matched` when they cover every grant;
- otherwise the first line (and, for a batch, each line paying one of its villages) is
  `amount_mismatch`, and the others are `duplicate`;
- a D already confirmed by an earlier statement (`settled`) makes every line naming it `duplicate`;
- a line naming no SP2D of the allocation is `unmatched_line` (its reason quotes an SP2D number the
  allocation does not have, if it names one); one naming several that its amount cannot tell apart too;
- a D dated within the statement's period that no line pays is `unmatched_disbursement`. A D dated
  outside it only gets an outcome when a line pays it (an SP2D of 31 December paid on 2 January).
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from grants.services import reference_key
from smartvillage.templatetags.rupiah import rupiah
from treasury.models import OutcomeKind
from treasury.parsers.common import StatementLine
from treasury.references import BankText, ReferenceIndex, sp2d_token, village_codes

# Every debit line ends in exactly one of these; their amounts add up to the statement's debit total.
LINE_KINDS = (
    OutcomeKind.MATCHED,
    OutcomeKind.AMOUNT_MISMATCH,
    OutcomeKind.DUPLICATE,
    OutcomeKind.UNMATCHED_LINE,
)
# Every disbursement with an outcome has one of these, and one only (a batch paid per village: matched
# on each of its lines).
DISBURSEMENT_KINDS = (OutcomeKind.MATCHED, OutcomeKind.AMOUNT_MISMATCH, OutcomeKind.UNMATCHED_DISBURSEMENT)


@dataclass(frozen=True)
class GrantRef:
    id: int
    village_code: str
    village_name: str
    amount: int


@dataclass(frozen=True)
class DisbursementRef:
    """A disbursement as the matcher sees it: its SP2D, amount, date and the grants it pays."""

    id: int
    reference: str
    amount: int
    transfer_date: datetime.date
    grants: tuple[GrantRef, ...] = ()

    @property
    def is_batch(self) -> bool:
        return len(self.grants) > 1


# Reason codes -> message; params are JSON values (amounts as integer rupiah, dates ISO), so that a
# stored reason is shown in the reader's language.
MESSAGES = {
    "exact": _("%(reference)s paid with its amount, %(amount)s."),
    "batch_leg": _("Transfer to %(village)s, %(leg)d of %(legs)d of the batch %(reference)s (%(amount)s)."),
    "amount_differs": _("%(reference)s: the bank paid %(paid)s, the portal disbursed %(disbursed)s."),
    "batch_incomplete": _(
        "Batch %(reference)s: the statement pays %(found)d of its %(legs)d villages' transfers "
        "(%(paid)s of %(disbursed)s)."
    ),
    "paid_again": _("%(reference)s is already paid by line %(first_line)d; this line pays it again."),
    "paid_earlier": _("%(reference)s was already confirmed by an earlier statement (%(statement)s)."),
    "no_reference": _("The bank's text names no SP2D of this allocation."),
    "unknown_reference": _("The bank's text names SP2D %(token)s, which this allocation does not have."),
    "ambiguous": _(
        "The bank's text names several SP2D of this allocation (%(references)s) and the amount does not tell which."
    ),
    "not_on_statement": _("No line of this statement pays %(reference)s of %(date)s (%(amount)s)."),
    "return_full": _("Returns %(reference)s in full (%(amount)s): the grant's return is proposed."),
    "return_partial": _("Returns %(amount)s of %(reference)s (%(disbursed)s paid): a partial return is proposed."),
    # Notes, shown after a reason.
    "names_village": _("The text names %(village)s."),
    "other_village": _("The text names village %(named)s, which this SP2D does not pay."),
    "before_sp2d": _("Dated before the SP2D (%(date)s)."),
    "chosen_by_amount": _("The text also names %(others)s; the amount tells which."),
}
AMOUNT_PARAMS = {"amount", "paid", "disbursed"}
DATE_PARAMS = {"date"}
REFERENCE_PARAMS = {"reference", "others", "references"}
LIST_SEPARATOR = "\n"  # between the references of one param


def sp2d_label(reference: str) -> str:
    """An SP2D reference as shown: "SP2D 0012/BL/2024" for a reference that does not say SP2D itself."""
    return reference if reference_key(reference).startswith("sp2d") else f"SP2D {reference}"


@dataclass(frozen=True)
class Reason:
    code: str
    params: Mapping[str, object] = field(default_factory=dict)
    notes: tuple[Reason, ...] = ()

    def __str__(self) -> str:
        values = {}
        for name, value in self.params.items():
            if name in AMOUNT_PARAMS:
                value = rupiah(value)
            elif name in DATE_PARAMS:
                value = date_format(datetime.date.fromisoformat(value), "j F Y")
            elif name in REFERENCE_PARAMS:
                value = ", ".join(sp2d_label(reference) for reference in value.split(LIST_SEPARATOR))
            values[name] = value
        text = str(MESSAGES[self.code]) % values
        return " ".join([text, *(str(note) for note in self.notes)])


@dataclass(frozen=True)
class Outcome:
    kind: str
    reason: Reason
    line: StatementLine | None = None
    disbursement: DisbursementRef | None = None
    grant: GrantRef | None = None  # the village's grant: a batch's transfer, or the grant a return is for
    villages: tuple[str, ...] = ()  # the village codes the line's text names

    @property
    def amount(self) -> int:
        """The bank's amount where there is a line, the portal's otherwise."""
        if self.line is not None:
            return self.line.amount
        return self.disbursement.amount if self.disbursement is not None else 0


@dataclass(frozen=True)
class Reconciliation:
    outcomes: tuple[Outcome, ...]
    debit_total: int
    # Credit lines that return no SP2D of the allocation (the account's other income): no outcome.
    other_credits: tuple[StatementLine, ...] = ()

    def counts(self) -> dict[str, int]:
        counted = Counter(outcome.kind for outcome in self.outcomes)
        return {kind: counted.get(kind, 0) for kind in OutcomeKind.values}

    def amounts(self) -> dict[str, int]:
        totals = dict.fromkeys(OutcomeKind.values, 0)
        for outcome in self.outcomes:
            totals[outcome.kind] += outcome.amount
        return totals


class ReconciliationInvariantError(RuntimeError):
    """The outcomes break a rule every reconciliation keeps: a bug, never bad input."""


def _param_reference(disbursement: DisbursementRef) -> dict[str, object]:
    return {"reference": disbursement.reference}


def _village_label(grant: GrantRef) -> str:
    return f"{grant.village_name} ({grant.village_code})"


@dataclass
class _Line:
    """A line with what its text says: the disbursements it names and the villages."""

    line: StatementLine
    text: BankText
    candidates: list[DisbursementRef]
    villages: tuple[str, ...]
    chosen: DisbursementRef | None = None
    notes: list[Reason] = field(default_factory=list)


def _names_grant(item: _Line, grant: GrantRef) -> bool:
    return grant.village_code in item.villages or item.text.names(grant.village_name)


def _choose(item: _Line) -> Reason | None:
    """Pick the one disbursement a line pays; the reason it pays none otherwise."""
    if len(item.candidates) == 1:
        item.chosen = item.candidates[0]
        return None
    if not item.candidates:
        token = sp2d_token(item.text.text)
        return Reason("unknown_reference", {"token": token}) if token else Reason("no_reference")
    amount = item.line.amount
    fitting = [
        candidate
        for candidate in item.candidates
        if candidate.amount == amount or any(grant.amount == amount for grant in candidate.grants)
    ]
    if len(fitting) == 1:
        item.chosen = fitting[0]
        others = LIST_SEPARATOR.join(c.reference for c in item.candidates if c is not fitting[0])
        item.notes.append(Reason("chosen_by_amount", {"others": others}))
        return None
    return Reason("ambiguous", {"references": LIST_SEPARATOR.join(c.reference for c in item.candidates)})


def _notes(item: _Line, disbursement: DisbursementRef, grant: GrantRef | None = None) -> tuple[Reason, ...]:
    notes = list(item.notes)
    paid = {grant.village_code for grant in disbursement.grants}
    for code in item.villages:
        if paid and code not in paid:
            notes.append(Reason("other_village", {"named": code}))
    if len(disbursement.grants) == 1 and _names_grant(item, disbursement.grants[0]):
        notes.append(Reason("names_village", {"village": _village_label(disbursement.grants[0])}))
    if item.line.date < disbursement.transfer_date:
        notes.append(Reason("before_sp2d", {"date": disbursement.transfer_date.isoformat()}))
    return tuple(notes)


def _assign_legs(disbursement: DisbursementRef, items: list[_Line]) -> dict[int, GrantRef]:
    """Lines (by index) paying one village's grant of a batch each, by amount; the named village first."""
    free = list(disbursement.grants)
    assigned: dict[int, GrantRef] = {}
    for index, item in enumerate(items):
        same_amount = [grant for grant in free if grant.amount == item.line.debit]
        if not same_amount:
            continue
        grant = next((g for g in same_amount if _names_grant(item, g)), same_amount[0])
        free.remove(grant)
        assigned[index] = grant
    return assigned


def _disbursement_outcomes(
    disbursement: DisbursementRef, items: list[_Line], settled: Mapping[int, str]
) -> list[Outcome]:
    """The outcomes of the debit lines naming one disbursement (in date order)."""

    def outcome(kind: str, item: _Line, reason: Reason, grant: GrantRef | None = None) -> Outcome:
        reason = Reason(reason.code, reason.params, _notes(item, disbursement, grant))
        return Outcome(kind, reason, item.line, disbursement, grant, item.villages)

    base = _param_reference(disbursement)
    if disbursement.id in settled:
        reason = Reason("paid_earlier", {**base, "statement": settled[disbursement.id]})
        return [outcome(OutcomeKind.DUPLICATE, item, reason) for item in items]

    exact = next((item for item in items if item.line.debit == disbursement.amount), None)
    if exact is not None:
        single = disbursement.grants[0] if len(disbursement.grants) == 1 else None
        again = Reason("paid_again", {**base, "first_line": exact.line.line})
        return [
            outcome(OutcomeKind.MATCHED, item, Reason("exact", {**base, "amount": item.line.debit}), single)
            if item is exact
            else outcome(OutcomeKind.DUPLICATE, item, again)
            for item in items
        ]

    legs = _assign_legs(disbursement, items) if disbursement.is_batch else {}
    if legs and len(legs) == len(disbursement.grants):
        first = items[min(legs)].line.line
        results = []
        for index, item in enumerate(items):
            if index in legs:
                params = {**base, "amount": item.line.debit, "village": _village_label(legs[index])}
                params |= {"leg": sorted(legs).index(index) + 1, "legs": len(legs)}
                results.append(outcome(OutcomeKind.MATCHED, item, Reason("batch_leg", params), legs[index]))
            else:
                results.append(
                    outcome(OutcomeKind.DUPLICATE, item, Reason("paid_again", {**base, "first_line": first}))
                )
        return results

    # Not paid as SP2D says: the first line, and each line paying one village of a batch, differ.
    mismatched = set(legs) | {0}
    found = {"found": len(legs), "legs": len(disbursement.grants)}
    found["paid"] = sum(items[index].line.debit for index in mismatched)
    results = []
    for index, item in enumerate(items):
        if index not in mismatched:
            again = Reason("paid_again", {**base, "first_line": items[0].line.line})
            results.append(outcome(OutcomeKind.DUPLICATE, item, again))
            continue
        if disbursement.is_batch:
            reason = Reason("batch_incomplete", {**base, **found, "disbursed": disbursement.amount})
        else:
            reason = Reason("amount_differs", {**base, "paid": item.line.debit, "disbursed": disbursement.amount})
        results.append(outcome(OutcomeKind.AMOUNT_MISMATCH, item, reason, legs.get(index)))
    return results


def _return_outcome(item: _Line) -> Outcome:
    disbursement = item.chosen
    credit = item.line.credit
    grant = None
    if len(disbursement.grants) == 1:
        grant = disbursement.grants[0]
    else:
        same = [g for g in disbursement.grants if g.amount == credit]
        grant = next((g for g in same if _names_grant(item, g)), same[0] if len(same) == 1 else None)
    full = credit == disbursement.amount or (grant is not None and credit == grant.amount)
    params = {**_param_reference(disbursement), "amount": credit}
    reason = (
        Reason("return_full", params) if full else Reason("return_partial", params | {"disbursed": disbursement.amount})
    )
    reason = Reason(reason.code, reason.params, _notes(item, disbursement, grant))
    return Outcome(OutcomeKind.RETURNED, reason, item.line, disbursement, grant, item.villages)


def reconcile(
    *,
    lines: Sequence[StatementLine],
    disbursements: Iterable[DisbursementRef],
    period_from: datetime.date | None,
    period_to: datetime.date | None,
    settled: Mapping[int, str] | None = None,
) -> Reconciliation:
    """The outcomes of a statement's `lines` against an allocation's `disbursements`.

    `period_from`/`period_to`: the statement's period; the disbursements dated within it that no line
    pays are `unmatched_disbursement`. `settled`: disbursement id -> where an earlier statement
    confirmed it (a later line paying it is `duplicate`, and it is not missing from this one).
    """
    settled = settled or {}
    disbursements = list(disbursements)
    index = ReferenceIndex((disbursement.id, disbursement.reference) for disbursement in disbursements)
    by_id = {disbursement.id: disbursement for disbursement in disbursements}
    known_villages = {grant.village_code: grant.village_name for d in disbursements for grant in d.grants}

    outcomes: list[Outcome] = []
    other_credits: list[StatementLine] = []
    paying: dict[int, list[_Line]] = defaultdict(list)
    for line in sorted(lines, key=lambda item: (item.date, item.line)):
        text = BankText(f"{line.description} {line.bank_reference}")
        candidates = [by_id[key] for key in index.keys_in(text)]
        item = _Line(line, text, candidates, tuple(village_codes(text.text, known_villages)))
        unpaid = _choose(item)
        if line.is_debit and unpaid is not None:
            outcomes.append(Outcome(OutcomeKind.UNMATCHED_LINE, unpaid, line, villages=item.villages))
        elif line.is_debit:
            paying[item.chosen.id].append(item)
        elif unpaid is None:
            outcomes.append(_return_outcome(item))
        else:
            other_credits.append(line)

    for disbursement_id, items in paying.items():
        outcomes += _disbursement_outcomes(by_id[disbursement_id], items, settled)

    missing = [
        disbursement
        for disbursement in disbursements
        if disbursement.id not in paying
        and disbursement.id not in settled
        and (period_from is None or disbursement.transfer_date >= period_from)
        and (period_to is None or disbursement.transfer_date <= period_to)
    ]
    for disbursement in sorted(missing, key=lambda d: (d.transfer_date, d.reference)):
        params = {
            **_param_reference(disbursement),
            "date": disbursement.transfer_date.isoformat(),
            "amount": disbursement.amount,
        }
        outcomes.append(
            Outcome(OutcomeKind.UNMATCHED_DISBURSEMENT, Reason("not_on_statement", params), disbursement=disbursement)
        )

    outcomes.sort(key=lambda o: (o.line is None, o.line.line if o.line else 0))
    result = Reconciliation(
        outcomes=tuple(outcomes),
        debit_total=sum(line.debit for line in lines),
        other_credits=tuple(other_credits),
    )
    check_invariants(result, lines=lines)
    return result


def check_invariants(result: Reconciliation, *, lines: Sequence[StatementLine]) -> None:
    """Every debit line in exactly one line outcome, their amounts adding up to the debit total to the
    rupiah; every credit outcome a return; one outcome kind per disbursement."""
    debit_lines = Counter(line.line for line in lines if line.is_debit)
    in_outcomes = Counter(o.line.line for o in result.outcomes if o.kind in LINE_KINDS)
    if in_outcomes != debit_lines:
        raise ReconciliationInvariantError("debit lines and line outcomes differ")
    if any(o.kind == OutcomeKind.RETURNED and (o.line is None or o.line.is_debit) for o in result.outcomes):
        raise ReconciliationInvariantError("a return that is not a credit line")
    line_total = sum(o.amount for o in result.outcomes if o.kind in LINE_KINDS)
    if line_total != result.debit_total:
        raise ReconciliationInvariantError(f"line outcomes total {line_total}, debits {result.debit_total}")
    kinds: dict[int, set[str]] = defaultdict(set)
    for o in result.outcomes:
        if o.kind in DISBURSEMENT_KINDS and o.disbursement is not None:
            kinds[o.disbursement.id].add(o.kind)
    if any(len(found) != 1 for found in kinds.values()):
        raise ReconciliationInvariantError("a disbursement with more than one outcome")
