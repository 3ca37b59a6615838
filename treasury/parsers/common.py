"""What every statement format parses into, and the rules every format shares: integer rupiah, dates,
balances that add up, and errors that name the file's line.

Nothing here touches the database: a parsed statement is plain values, so the matching core and the
tests can use it as it is.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grants.services import MAX_AMOUNT
from smartvillage.errors import ApplicationError
from smartvillage.templatetags.rupiah import rupiah
from treasury.references import canonical

# The largest file accepted: a year of a national allocation's statement is far below it.
MAX_FILE_BYTES = 50 * 1024 * 1024

# Errors listed in one refusal; a file with more is refused with the first ones and their count.
MAX_LISTED_ERRORS = 50


# Debits and credits with this mark: the account's own currency. Other currencies are refused.
CURRENCY = "IDR"


class StatementFileError(ApplicationError):
    """The statement file is refused: `errors` lists (line, message), the header being line 1; line 0 is
    the file as a whole (its name, size or kind). Raised before anything is written."""

    def __init__(self, errors: Iterable[tuple[int, str]]):
        self.errors = sorted(errors, key=lambda error: error[0])
        listed = [self.describe(line, message) for line, message in self.errors[:MAX_LISTED_ERRORS]]
        hidden = len(self.errors) - len(listed)
        if hidden > 0:
            listed.append(
                ngettext("... and %(count)d more problem.", "... and %(count)d more problems.", hidden)
                % {"count": hidden}
            )
        super().__init__(_("The statement file was refused; nothing was imported."), fields={"file": listed})

    @staticmethod
    def describe(line: int, message: str) -> str:
        if line <= 0:
            return message
        return _("Line %(line)d: %(message)s") % {"line": line, "message": message}


@dataclass(frozen=True)
class StatementLine:
    """One booking on the account. `line` is its line in the file (header = 1; for MT940, its :61:)."""

    line: int
    date: datetime.date
    description: str  # the bank's free text (keterangan, MT940 :86:)
    bank_reference: str
    debit: int  # money out of the RKUD account (debet), rupiah
    credit: int  # money in (kredit), rupiah
    balance: int | None = None  # the balance after this line (saldo), where the file states it
    # 1 for the first line with this bank reference, date and amount in the file, 2 for the second...
    occurrence: int = 1

    @property
    def is_debit(self) -> bool:
        return self.debit > 0

    @property
    def amount(self) -> int:
        return self.debit or self.credit

    @property
    def identity(self) -> tuple[str, str, int, int]:
        """What identifies the line across statements (an overlapping one does not count it twice): the
        bank reference, date and signed amount, and which of the file's equal lines it is (two transfers of
        Rp6.000.000 on one day without a bank reference are two lines)."""
        # canonical(): reference_key with a fast path for ASCII, the bank references' usual alphabet.
        return (canonical(self.bank_reference), self.date.isoformat(), self.credit - self.debit, self.occurrence)


@dataclass(frozen=True)
class StatementHeader:
    account: str  # the account's number as the file states it (MT940 :25:); empty when it does not
    period_from: datetime.date | None
    period_to: datetime.date | None
    opening_balance: int | None  # stated by the file (MT940 :60F:) or derived from the first saldo
    closing_balance: int | None


@dataclass(frozen=True)
class ParsedStatement:
    format: str  # "csv", "xlsx" or "mt940"
    file_name: str
    sha256: str  # of the file's bytes: the same file imported again is recognised
    header: StatementHeader
    lines: tuple[StatementLine, ...] = field(repr=False)

    @property
    def debit_total(self) -> int:
        return sum(line.debit for line in self.lines)

    @property
    def credit_total(self) -> int:
        return sum(line.credit for line in self.lines)


# --- values --------------------------------------------------------------------------------------

# Integer rupiah, plain (1500000) or with Indonesian thousands dots (1.500.000); a ",00" that
# states no sen is tolerated, as many bank exports write it.
_AMOUNT_RE = re.compile(r"(?P<units>[0-9]+|[0-9]{1,3}(?:\.[0-9]{3})+)(?:,(?P<fraction>[0-9]+))?")
_ISO_DATE_RE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})")
_DMY_DATE_RE = re.compile(r"(?P<day>[0-9]{2})/(?P<month>[0-9]{2})/(?P<year>[0-9]{4})")


class ValueRefused(ValueError):
    """One value of a line is refused; the caller adds the line number."""


def _other_digits(text: str) -> bool:
    return any(unicodedata.digit(character, None) is not None and not "0" <= character <= "9" for character in text)


def parse_amount(text: str, column: str) -> int:
    """Integer rupiah from a statement's text: empty is 0; never a float, a fraction or a negative."""
    value = text.strip()
    if not value:
        return 0
    if _other_digits(value):
        raise ValueRefused(_("%(column)s: write amounts with the digits 0-9.") % {"column": column})
    if value.startswith(("-", "(", "\u2212")):
        raise ValueRefused(
            _("%(column)s: %(value)s is negative; money out is written in debet, money in in kredit.")
            % {"column": column, "value": value}
        )
    match = _AMOUNT_RE.fullmatch(value)
    if match is None:
        raise ValueRefused(
            _("%(column)s: %(value)s is not a whole number of rupiah (e.g. 1500000 or 1.500.000).")
            % {"column": column, "value": value}
        )
    if match["fraction"] and match["fraction"].strip("0"):
        raise ValueRefused(
            _("%(column)s: %(value)s has a fraction of a rupiah; amounts are whole rupiah.")
            % {"column": column, "value": value}
        )
    return bounded_amount(int(match["units"].replace(".", "")), column)


def bounded_amount(amount: int, column: str) -> int:
    if amount < 0:
        raise ValueRefused(
            _("%(column)s: %(value)s is negative; money out is written in debet, money in in kredit.")
            % {"column": column, "value": amount}
        )
    if amount > MAX_AMOUNT:
        raise ValueRefused(_("%(column)s: the amount is implausibly large.") % {"column": column})
    return amount


def parse_date(text: str, column: str) -> datetime.date:
    """A date written YYYY-MM-DD or DD/MM/YYYY."""
    value = text.strip()
    if _other_digits(value):
        raise ValueRefused(_("%(column)s: write dates with the digits 0-9.") % {"column": column})
    match = _ISO_DATE_RE.fullmatch(value) or _DMY_DATE_RE.fullmatch(value)
    if match is None:
        raise ValueRefused(
            _("%(column)s: %(value)s is not a date (YYYY-MM-DD or DD/MM/YYYY).") % {"column": column, "value": value}
        )
    try:
        return datetime.date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        raise ValueRefused(
            _("%(column)s: %(value)s is not a calendar date.") % {"column": column, "value": value}
        ) from None


# --- checks shared by the formats ----------------------------------------------------------------


def number_occurrences(lines: Sequence[StatementLine]) -> tuple[StatementLine, ...]:
    """The lines with `occurrence` set: the n-th line of the file with the same reference, date and amount."""
    seen: dict[tuple, int] = {}
    numbered = []
    for line in lines:
        key = line.identity[:3]
        seen[key] = seen.get(key, 0) + 1
        numbered.append(line if seen[key] == line.occurrence else dataclasses.replace(line, occurrence=seen[key]))
    return tuple(numbered)


def check_running_balance(
    lines: Sequence[StatementLine], errors: list[tuple[int, str]]
) -> tuple[int | None, int | None]:
    """Each stated saldo must be the previous one plus kredit minus debet; returns (opening, closing).

    The opening balance is derived from the first stated saldo (it less that line's and the earlier
    lines' movements); both are None when the file states no saldo at all.
    """
    running: int | None = None
    movement_before_first = 0
    for line in lines:
        if running is not None:
            running += line.credit - line.debit
            if line.balance is not None and line.balance != running:
                errors.append(
                    (
                        line.line,
                        _(
                            "saldo %(stated)s does not follow from the previous saldo (expected %(expected)s: "
                            "previous saldo + kredit - debet)."
                        )
                        % {"stated": rupiah(line.balance), "expected": rupiah(running)},
                    )
                )
                running = line.balance
        elif line.balance is not None:
            opening = line.balance - movement_before_first - (line.credit - line.debit)
            running = line.balance
            continue
        else:
            movement_before_first += line.credit - line.debit
    if running is None:
        return None, None
    return opening, running


def check_balances(
    *, opening: int, closing: int, lines: Sequence[StatementLine], line: int, errors: list[tuple[int, str]]
) -> None:
    """The opening balance plus the lines' credits less their debits must be the closing balance."""
    expected = opening + sum(item.credit - item.debit for item in lines)
    if expected != closing:
        errors.append(
            (
                line,
                _(
                    "the closing balance %(closing)s is not the opening balance %(opening)s plus the lines "
                    "(%(expected)s expected)."
                )
                % {"closing": rupiah(closing), "opening": rupiah(opening), "expected": rupiah(expected)},
            )
        )
