"""MT940 (SWIFT customer statement) through the `mt-940` package, with the file's line numbers.

The package reads a whole file at once and forgets where each tag stood, so the file is cut here into
its tags (a tag starts a line, `:61:`, `:86:`, ...; the lines up to the next tag continue it) and each
tag is handed to the package's parser in turn, on one `Transactions` collection: the package keeps its
grammar and its state, and an error names the tag's line. A file may hold several messages (e.g. one
per day): each `:20:` starts one, and each must add up from its opening balance (`:60F:`/`:60M:`) to
its closing balance (`:62F:`/`:62M:`), the next one opening where the last one closed.
"""

from __future__ import annotations

import datetime
import decimal
import re
from dataclasses import dataclass, field

import mt940
from django.utils.translation import gettext as _

from treasury.parsers.common import (
    CURRENCY,
    StatementHeader,
    StatementLine,
    ValueRefused,
    bounded_amount,
    check_balances,
    number_occurrences,
)

_TAG_RE = re.compile(r":(?P<tag>[0-9]{2}|NS)(?P<sub>[A-Z])?:")
OPENING_TAGS = {60, "60F", "60M"}
CLOSING_TAGS = {62, "62F", "62M"}
# Marks of money leaving the account: a debit, and the reversal of a credit (SWIFT's RC).
DEBIT_MARKS = {"D", "RC"}
CREDIT_MARKS = {"C", "RD"}
# The :61: customer reference when there is none.
NO_REFERENCE = "NONREF"

# The package's fixes that a reader of today's files wants (its next major release turns them all on).
OPTIONS = mt940.Options.all()


@dataclass
class _Message:
    """One statement message (from :20: to the next): its balances and lines, to check they add up."""

    opening: int | None = None
    opening_line: int = 0
    opening_date: datetime.date | None = None
    closing: int | None = None
    closing_line: int = 0
    closing_date: datetime.date | None = None
    lines: list[StatementLine] = field(default_factory=list)


def _tag_id(tag: str, sub: str | None) -> int | str:
    full = tag + (sub or "")
    if full in mt940.tags.TAG_BY_ID:
        return full
    return int(tag) if tag.isdigit() else tag


def _blocks(text: str) -> list[tuple[int, int | str, str]]:
    """(line of the tag, tag id, the tag with its continuation lines) for every tag the package knows."""
    blocks: list[tuple[int, int | str, list[str]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        match = _TAG_RE.match(raw)
        if match is not None:
            tag_id = _tag_id(match["tag"], match["sub"])
            if tag_id in mt940.tags.TAG_BY_ID:
                blocks.append((number, tag_id, [raw]))
                continue
        if blocks:
            blocks[-1][2].append(raw)
        # Before the first tag: the SWIFT envelope ({1:...}{4:), which the package ignores too.
    return [(number, tag_id, "\n".join(lines)) for number, tag_id, lines in blocks]


def _rupiah(amount: object, what: str) -> int:
    """Whole rupiah from one of the package's Amounts (a Decimal with its sign)."""
    value = getattr(amount, "amount", None)
    currency = getattr(amount, "currency", None)
    if currency and currency != CURRENCY:
        raise ValueRefused(
            _("%(what)s is in %(currency)s; the RKUD account is in %(expected)s.")
            % {"what": what, "currency": currency, "expected": CURRENCY}
        )
    if not isinstance(value, decimal.Decimal) or not value.is_finite():
        raise ValueRefused(_("%(what)s has no amount.") % {"what": what})
    if value != value.to_integral_value():
        raise ValueRefused(
            _("%(what)s: %(value)s has a fraction of a rupiah; amounts are whole rupiah.")
            % {"what": what, "value": value}
        )
    return int(value)


def _balance(collection: mt940.models.Transactions, tag_id: int | str, what: str) -> tuple[int, datetime.date | None]:
    """The balance the tag just parsed (the package signs a D, overdrawn, balance negative) and its date."""
    balance = collection.data.get(mt940.tags.TAG_BY_ID[tag_id].slug)
    date = getattr(balance, "date", None)
    return _rupiah(getattr(balance, "amount", None), what), _plain_date(date) if date else None


def _plain_date(value: datetime.date) -> datetime.date:
    # The package's Date is a subclass; the statement holds plain dates.
    return datetime.date(value.year, value.month, value.day)


def _statement_line(number: int, data: dict) -> StatementLine:
    mark = (data.get("status") or "").upper()
    if mark not in DEBIT_MARKS | CREDIT_MARKS:
        raise ValueRefused(_("the debit/credit mark %(mark)s is not D, C, RD or RC.") % {"mark": mark})
    amount = bounded_amount(abs(_rupiah(data.get("amount"), ":61:")), ":61:")
    if amount == 0:
        raise ValueRefused(_("the line has neither a debet nor a kredit."))
    customer_reference = (data.get("customer_reference") or "").strip()
    texts = [
        "" if customer_reference.upper() == NO_REFERENCE else customer_reference,
        data.get("extra_details") or "",
        # Structured (German-style "?20") details are split by the package into a purpose and more.
        data.get("transaction_details") or data.get("purpose") or "",
    ]
    return StatementLine(
        line=number,
        date=_plain_date(data["date"]),
        description=" ".join(" ".join(texts).split()),
        bank_reference=(data.get("bank_reference") or "").strip(),
        debit=amount if mark in DEBIT_MARKS else 0,
        credit=amount if mark in CREDIT_MARKS else 0,
    )


def parse_mt940(data: bytes, errors: list[tuple[int, str]]) -> tuple[StatementHeader, tuple[StatementLine, ...]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # SWIFT's character set is ASCII; banks' files are at most Latin-1.
        text = data.decode("latin-1")
    blocks = _blocks(text)
    if not any(tag_id == 61 or tag_id in OPENING_TAGS for _line, tag_id, _text in blocks):
        errors.append((1, _("the file is not an MT940 statement (no :60F: balance, no :61: line).")))
        return StatementHeader("", None, None, None, None), ()

    collection = mt940.models.Transactions(options=OPTIONS)
    messages: list[_Message] = []
    pending: list[tuple[int, int]] = []  # (file line, index in the collection) of :61: lines
    account = ""
    for number, tag_id, block in blocks:
        count = len(collection)
        try:
            collection.parse(block)
        except (RuntimeError, ValueError, TypeError, KeyError, IndexError, ArithmeticError) as exc:
            errors.append(
                (number, _("%(tag)s cannot be read (%(problem)s).") % {"tag": f":{tag_id}:", "problem": _reason(exc)})
            )
            continue
        if tag_id == 20 or not messages:
            messages.append(_Message())
        message = messages[-1]
        try:
            if tag_id == 25:
                account = (collection.data.get("account_identification") or "").strip()
            elif tag_id in OPENING_TAGS:
                message.opening, message.opening_date = _balance(collection, tag_id, _("the opening balance"))
                message.opening_line = number
            elif tag_id in CLOSING_TAGS:
                message.closing, message.closing_date = _balance(collection, tag_id, _("the closing balance"))
                message.closing_line = number
            elif tag_id == 61:
                if len(collection) != count + 1 or not collection[count].data.get("id"):
                    # The package merges the :61: after one without its transaction type (e.g. NTRF) into it.
                    raise ValueRefused(_("the :61: line has no transaction type code (e.g. NTRF)."))
                pending.append((number, count))
                message.lines.append(_statement_line(number, collection[count].data))
        except ValueRefused as exc:
            errors.append((number, str(exc)))
    if errors:
        return StatementHeader("", None, None, None, None), ()

    # The :86: that follows a :61: belongs to it: read each line's text once everything is parsed.
    lines_by_number = {}
    for number, index in pending:
        lines_by_number[number] = _statement_line(number, collection[index].data)
    previous_closing: tuple[int, int] | None = None
    for message in messages:
        message.lines = [lines_by_number[line.line] for line in message.lines]
        if message.opening is not None and message.closing is not None:
            check_balances(
                opening=message.opening,
                closing=message.closing,
                lines=message.lines,
                line=message.closing_line,
                errors=errors,
            )
        if previous_closing is not None and message.opening is not None and message.opening != previous_closing[0]:
            errors.append(
                (
                    message.opening_line,
                    _("the opening balance is not the previous message's closing balance (line %(line)d).")
                    % {"line": previous_closing[1]},
                )
            )
        if message.closing is not None:
            previous_closing = (message.closing, message.closing_line)
    lines = [line for message in messages for line in message.lines]
    # The period runs from the first opening balance's date (or line) to the last closing balance's.
    starts = [line.date for line in lines] + [m.opening_date for m in messages[:1] if m.opening_date]
    ends = [line.date for line in lines] + [m.closing_date for m in messages[-1:] if m.closing_date]
    header = StatementHeader(
        account=account,
        period_from=min(starts, default=None),
        period_to=max(ends, default=None),
        opening_balance=next((m.opening for m in messages if m.opening is not None), None),
        closing_balance=next((m.closing for m in reversed(messages) if m.closing is not None), None),
    )
    return header, number_occurrences(lines)


def _reason(exc: Exception) -> str:
    # The package's RuntimeError carries (message, tag, value); its message says what did not parse.
    return str(exc.args[0]) if exc.args else exc.__class__.__name__
