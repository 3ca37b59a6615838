"""Planning a newer Kemendagri region list: which units it renames, moves, renumbers, turns from desa into
kelurahan (or back), creates or removes, each match explained.

`plan_changes` compares two lists of units (in phase 2: the registry's current units and a newer file) and
proposes the change set; it reads no database and writes nothing. A unit's identity is decided top-down by
level, so a village is matched only once its district and regency are:

1. the same (normalised) name within the matched parent;
2. a close spelling within the matched parent, when unambiguous;
3. the same name under another parent of the matched grandparent (a move: a district split, a regency that
   changed province);
4. a close spelling under another parent of the matched grandparent, when unambiguous;
5. the same number under the matched parent (the same code when the parent kept its code), whatever the
   name, when nothing above contradicts it (codes are reused, so a code alone is the weakest evidence).

Whenever one of these finds several equally good candidates, or a match by name across parents or by a
close spelling is contradicted by two renames in place that explain the same units (the old code still
names an open unit and the new code named one), the units involved are `unresolved`, listed with their
candidates and left for a person to decide; nothing is guessed silently. Leftovers that still look alike
(similarity at least POSSIBLE_THRESHOLD) are unresolved too. What is left over then is `gone` (old side) or
`new` (new side).

The plan is a CSV (`plan_write`, `plan_read`): one row per changed unit, `PLAN_COLUMNS`. `plan_read`
validates a hand-edited plan against both lists and reports every problem with its line number.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext_lazy as _

from smartvillage.exports import FORMULA_PREFIXES, safe_cell
from villages.region_files import LEVELS, RegionFileError, _read_text, regions_parse

DATA_DIR = Path(__file__).resolve().parent / "data"
DECREES_FILE = DATA_DIR / "decrees.csv"

PLAN_COLUMNS = ("old_code", "new_code", "change", "old_name", "new_name", "level", "reason")

# A close spelling must be at least this similar (difflib ratio of the normalised names) ...
CLOSE_THRESHOLD = 0.85
# ... and better than the next candidate, on both sides, by at least this much; otherwise it is ambiguous.
CLOSE_MARGIN = 0.03
# A unit left without a match that is at least this similar to one left over on the other side, under the
# same ancestor, is not called gone and new: it is a possible match, unresolved (`Ismayu`, `Ismayo`).
POSSIBLE_THRESHOLD = 0.75

LEVEL_INDEX = {level: index for index, level in enumerate(LEVELS)}
_KIND_WORDS = {"kelurahan": "kelurahan", "desa": "desa", "desa_adat": "desa adat"}


class Change(models.TextChoices):
    # Same unit, same code, another name (also a name that differs only in case or prefix style).
    RENAME = "rename", _("Renamed")
    # Same unit under a new code: moved to another parent or renumbered; its name may have changed too.
    RECODE = "recode", _("New code")
    # Same village, now a kelurahan instead of a desa or the reverse: the first village digit changed.
    KIND_CHANGE = "kind_change", _("Desa/kelurahan change")
    # In the new list only: no predecessor.
    NEW = "new", _("New unit")
    # In the old list only: no successor.
    GONE = "gone", _("Gone")
    # Several equally good candidates: a person decides before the plan can be applied.
    UNRESOLVED = "unresolved", _("Unresolved")


CHANGES = tuple(Change.values)
MATCHED_CHANGES = (Change.RENAME, Change.RECODE, Change.KIND_CHANGE)


class UnitRow(NamedTuple):
    """One unit of a region list: `kind` is kabupaten/kota for a regency, desa/kelurahan/desa_adat for a village."""

    code: str
    name: str
    level: str
    parent_code: str
    kind: str = ""


@dataclass(frozen=True)
class PlanRow:
    old_code: str
    new_code: str
    change: str
    old_name: str
    new_name: str
    level: str
    reason: str
    line: int = 0  # where plan_read found it; 0 for a planned row


@dataclass
class Plan:
    """The changed units (`rows`, in a stable order) and how many units stay as they are, per level."""

    rows: list[PlanRow]
    unchanged: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))

    def counts(self) -> dict[str, Counter]:
        """Rows per level and change."""
        counts = {level: Counter() for level in LEVELS}
        for row in self.rows:
            counts[row.level][row.change] += 1
        return counts

    def totals(self) -> Counter:
        """Rows per change, all levels together."""
        return Counter(row.change for row in self.rows)

    def matches(self) -> dict[str, str]:
        """Old code -> new code for every changed unit that has a successor (renamed, recoded, kind changed)."""
        return {row.old_code: row.new_code for row in self.rows if row.change in MATCHED_CHANGES}

    def summary(self) -> str:
        """A table of the counts per level and change, for the command line and the test logs."""
        counts = self.counts()
        width = max(len(change) for change in CHANGES)
        header = f"{'level':<10}" + "".join(f"{name:>{width + 2}}" for name in (*CHANGES, "unchanged"))
        lines = [header]
        for level in LEVELS:
            cells = [counts[level][change] for change in CHANGES] + [self.unchanged[level]]
            lines.append(f"{level:<10}" + "".join(f"{cell:>{width + 2}}" for cell in cells))
        totals = [self.totals()[change] for change in CHANGES] + [sum(self.unchanged.values())]
        lines.append(f"{'total':<10}" + "".join(f"{cell:>{width + 2}}" for cell in totals))
        return "\n".join(lines)


class PlanFileError(RegionFileError):
    """A plan that cannot be applied; `errors` lists every problem, each with its line number."""


# --- names ----------------------------------------------------------------------------------------------

_PUNCTUATION = re.compile(r"[.,\-/()\"_]+")
_APOSTROPHES = re.compile("['`\u2018\u2019]")
_SPACES = re.compile(r"\s+")
# Older lists abbreviate regency prefixes (`KAB.`, `KAB`, `KOTA ADM.`, `KAB. ADM. KEP. SERIBU`) where 2025
# writes them out (`Kabupaten`, `Kota Administrasi`, `Kabupaten Administrasi Kepulauan Seribu`).
_REGENCY_PREFIX = re.compile(r"^(?:kabupaten|kab|kota)(?: (?:administrasi|adm))?\b ?")
_WORD_EXPANSIONS = {
    "kep": "kepulauan",
    "dki": "daerah khusus ibukota",
    "sei": "sungai",
    "kp": "kampung",
    "tj": "tanjung",
    "perk": "perkebunan",
}
_ROMAN = re.compile(r"^(x{0,3})(ix|iv|v?i{0,3})$")
_ROMAN_VALUES = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9}
_DIGIT_WORDS = ("", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
# Names that differ in these words are different units (Seberang Ulu Satu, Seberang Ulu Dua), however close.
_DISTINCT_WORDS = frozenset(
    {*_DIGIT_WORDS[1:], "nol", "sepuluh", "sebelas", "belas", "puluh", "seratus", "ratus", "seribu", "ribu"}
    | {"utara", "selatan", "timur", "barat", "tengah", "daya", "laut"}
)


def _number_words(number: int) -> str:
    """An Indonesian numeral in words (`12` -> `dua belas`), as the newer lists spell `12 Ulu`."""
    if number >= 1000:
        thousands, rest = divmod(number, 1000)
        head = "seribu" if thousands == 1 else f"{_number_words(thousands)} ribu"
    elif number >= 100:
        hundreds, rest = divmod(number, 100)
        head = "seratus" if hundreds == 1 else f"{_DIGIT_WORDS[hundreds]} ratus"
    elif number >= 20:
        tens, rest = divmod(number, 10)
        head = f"{_DIGIT_WORDS[tens]} puluh"
    elif number >= 10:
        return {10: "sepuluh", 11: "sebelas"}.get(number) or f"{_DIGIT_WORDS[number - 10]} belas"
    else:
        return _DIGIT_WORDS[number] or "nol"
    return f"{head} {_number_words(rest)}" if rest else head


def _numeral(word: str) -> str:
    """A word in digits (`2`) or Roman numerals (`II`) as Indonesian words; any other word as it is."""
    if word.isdigit() and len(word) <= 6:
        return _number_words(int(word))
    match = _ROMAN.match(word)
    if word and match:
        return _number_words(10 * len(match.group(1)) + _ROMAN_VALUES.get(match.group(2), 0))
    return word


def name_key(name: str, level: str) -> str:
    """The name as compared: case, spacing, punctuation and prefix style ignored.

    `KAB. ADM. KEP. SERIBU` and `Kabupaten Administrasi Kepulauan Seribu` give `kepulauan seribu`; `P A P U A`
    gives `papua`. Spaces inside a name are kept (`Sidodadi` and `Sido Dadi` are a close spelling, not the
    same name). Numbers in digits or Roman numerals are written out (`12 Ulu`, `XII Ulu`: `dua belas ulu`).
    A regency's kind (kabupaten or kota) is compared separately, from its code.
    """
    text = unicodedata.normalize("NFKC", name).casefold()
    text = _APOSTROPHES.sub("", text)
    words = _SPACES.sub(" ", _PUNCTUATION.sub(" ", text)).strip().split(" ")
    # Letter-spaced names (`P A P U A`) are one word.
    if level in ("province", "regency") and len(words) > 2 and all(len(word) == 1 for word in words):
        words = ["".join(words)]
    text = " ".join(_numeral(_WORD_EXPANSIONS.get(word, word)) for word in words)
    if level == "regency":
        text = _REGENCY_PREFIX.sub("", text, count=1)
    return text


def similarity(left: str, right: str) -> float:
    return SequenceMatcher(None, left, right, autojunk=False).ratio()


def _similar(left: str, right: str, threshold: float, *, distinct_words: bool = True) -> float:
    """The similarity of two keys, or 0.0 when it is below `threshold` (cheap upper bounds first), or when
    `distinct_words` and the keys differ in a number or a direction."""
    # The ratio is at most 1 - |a - b| / (a + b) for lengths a and b.
    if abs(len(left) - len(right)) > (1 - threshold) * (len(left) + len(right)) + 1e-9:
        return 0.0
    if distinct_words and (
        _DISTINCT_WORDS.intersection(left.split(" ")) != _DISTINCT_WORDS.intersection(right.split(" "))
    ):
        return 0.0
    matcher = SequenceMatcher(None, left, right, autojunk=False)
    if matcher.quick_ratio() < threshold:
        return 0.0
    ratio = matcher.ratio()
    return ratio if ratio >= threshold else 0.0


# --- codes ----------------------------------------------------------------------------------------------


def level_for_code(code: str) -> str:
    return LEVELS[code.count(".")]


def _ancestor(code: str, depth: int) -> str:
    """The code's ancestor with `depth` parts (0: the root, '')."""
    return ".".join(code.split(".")[:depth])


def _last_part(code: str) -> str:
    return code.rsplit(".", 1)[-1]


# --- the planner ----------------------------------------------------------------------------------------


class _Planner:
    """One planning run: the matches so far, top-down by level (see the module docstring)."""

    def __init__(self, old: Sequence[UnitRow], new: Sequence[UnitRow]):
        self.old = self._index(old, "old")
        self.new = self._index(new, "new")
        # Most names are in both lists: each distinct name is normalised once.
        keys: dict[tuple[str, str], str] = {}
        for units in (self.old.values(), self.new.values()):
            for unit in units:
                if (unit.name, unit.level) not in keys:
                    keys[unit.name, unit.level] = name_key(unit.name, unit.level)
        self.old_key = {unit.code: keys[unit.name, unit.level] for unit in self.old.values()}
        self.new_key = {unit.code: keys[unit.name, unit.level] for unit in self.new.values()}
        self.forward: dict[str, str] = {}  # old code -> new code
        self.backward: dict[str, str] = {}  # new code -> old code
        self.reasons: dict[str, str] = {}  # old code -> why it matched
        self.doubt_old: dict[str, str] = {}  # old code -> why it is unresolved
        self.doubt_new: dict[str, str] = {}  # new code -> why it is unresolved

    @staticmethod
    def _index(units: Sequence[UnitRow], side: str) -> dict[str, UnitRow]:
        index: dict[str, UnitRow] = {}
        for unit in units:
            if unit.level not in LEVEL_INDEX or level_for_code(unit.code) != unit.level:
                raise ValueError(f"{side} list: {unit.code} is not a {unit.level} code")
            if unit.code in index:
                raise ValueError(f"{side} list: duplicate code {unit.code}")
            index[unit.code] = unit
        return index

    # -- state ------------------------------------------------------------------------------------------

    def _open_old(self, code: str) -> bool:
        return code not in self.forward and code not in self.doubt_old

    def _open_new(self, code: str) -> bool:
        return code not in self.backward and code not in self.doubt_new

    def _match(self, old_code: str, new_code: str, reason: str) -> None:
        self.forward[old_code] = new_code
        self.backward[new_code] = old_code
        self.reasons[old_code] = reason

    def _bucket(self, unit: UnitRow, key: str) -> tuple[str, str]:
        # A kabupaten and a kota of the same name are two units (Kabupaten Bekasi, Kota Bekasi).
        return (unit.kind, key) if unit.level == "regency" else ("", key)

    def _target_parent(self, unit: UnitRow) -> str | None:
        """The new code of the unit's parent, '' for a province, None while the parent is unmatched."""
        return self.forward.get(unit.parent_code) if unit.parent_code else ""

    def _scope(self, unit: UnitRow) -> str | None:
        """The new code of the unit's nearest matched ancestor above its parent ('' for the whole country)."""
        depth = LEVEL_INDEX[unit.level] - 1
        while depth > 0:
            target = self.forward.get(_ancestor(unit.code, depth))
            if target is not None:
                return target
            depth -= 1
        return "" if LEVEL_INDEX[unit.level] > 0 else None

    # -- pairing ----------------------------------------------------------------------------------------

    def _pair_equals(
        self,
        old_codes: list[str],
        new_codes: list[str],
        explain: Callable[[str, str], str],
        what: str,
        *,
        in_parent: bool,
    ) -> None:
        """Pair units that are equally good matches by name: one each, or by code where several share a name.

        Within the parent, the name is the strongest evidence. Across parents it must not contradict the codes.
        """
        old_codes = [code for code in old_codes if self._open_old(code)]
        new_codes = [code for code in new_codes if self._open_new(code)]
        if not old_codes or not new_codes:
            return
        pair = self._match if in_parent else self._match_unless_codes_disagree
        if len(old_codes) > 1 or len(new_codes) > 1:
            # Several units share the name: the same code tells them apart, and within a recoded parent the
            # same last part (its children numbered as before); what remains is ambiguous.
            for same in (lambda code: code, _last_part) if in_parent else (lambda code: code,):
                by_same = defaultdict(list)
                for code in new_codes:
                    by_same[same(code)].append(code)
                for old_code in old_codes:
                    candidates = by_same.get(same(old_code), [])
                    if len(candidates) == 1 and self._open_new(candidates[0]):
                        self._match(old_code, candidates[0], explain(old_code, candidates[0]))
                old_codes = [code for code in old_codes if self._open_old(code)]
                new_codes = [code for code in new_codes if self._open_new(code)]
        if len(old_codes) == 1 and len(new_codes) == 1:
            pair(old_codes[0], new_codes[0], explain(old_codes[0], new_codes[0]))
        elif old_codes and new_codes:
            self._doubt(old_codes, new_codes, f"ambiguous, {what}")

    def _match_unless_codes_disagree(self, old_code: str, new_code: str, reason: str) -> None:
        """Match by name, unless the codes tell another story as complete: then both go to a person.

        When the old code still names an open unit and the new code named an open unit, two renames in place
        explain the four units as well as one move does (`Ujung Tanah` moved to another district, or
        `Ujong Tanoh` respelled `Ujung Tanah` in place while `Ujung Tanah`'s code got a new name?).
        """
        old, new = self.old[old_code], self.new[new_code]
        # Only the very same code counts against a name (a recoded parent often renumbers its children), and
        # only on both sides: a code reused for another unit is no reason to doubt a name found elsewhere.
        rival_new = old_code if self._numbered_successor(old_code) == old_code else None
        rival_old = new_code if self._numbered_predecessor(new_code) == new_code else None
        if old_code == new_code or rival_new is None or rival_old is None:
            self._match(old_code, new_code, reason)
            return
        self._doubt(
            [old_code, rival_old],
            [new_code, rival_new],
            f"name and code disagree: {old.name!r} ~ {new.name!r} ({reason.split(',')[0]}), but "
            f"{old_code} is now {self.new[rival_new].name!r} and {new_code} was {self.old[rival_old].name!r}",
        )

    def _parent_fits(self, old: UnitRow, new: UnitRow) -> bool:
        """Whether the new unit's parent is the old unit's matched parent, or the same code matched to nothing."""
        target = self._target_parent(old)
        if target is not None:
            return target == new.parent_code
        return old.parent_code == new.parent_code and new.parent_code not in self.backward

    def _doubt(self, old_codes: Iterable[str], new_codes: Iterable[str], why: str) -> None:
        old_codes, new_codes = sorted(set(old_codes)), sorted(set(new_codes))
        olds = ", ".join(f"{code} {self.old[code].name!r}" for code in old_codes)
        news = ", ".join(f"{code} {self.new[code].name!r}" for code in new_codes)
        for code in old_codes:
            self.doubt_old[code] = f"{why}; candidates {news}"
        for code in new_codes:
            self.doubt_new[code] = f"{why}; candidates {olds}"

    def _pair_close(self, groups: Iterable[tuple[list[str], list[str]]], explain, where: str) -> None:
        """Pair close spellings that are each other's clear best candidate; leave contested ones unresolved."""
        for group_old, group_new in groups:
            # Scopes of different depths overlap: a unit paired in an earlier group is no longer open.
            old_codes = [code for code in group_old if self._open_old(code)]
            new_codes = [code for code in group_new if self._open_new(code)]
            scores: dict[tuple[str, str], float] = {}
            for old_code in old_codes:
                old_key = self.old_key[old_code]
                for new_code in new_codes:
                    if self.old[old_code].level == "regency" and self.old[old_code].kind != self.new[new_code].kind:
                        continue
                    score = _similar(old_key, self.new_key[new_code], CLOSE_THRESHOLD)
                    if score >= CLOSE_THRESHOLD:
                        scores[old_code, new_code] = score
            while scores:
                best_old: dict[str, list[tuple[float, str]]] = defaultdict(list)
                best_new: dict[str, list[tuple[float, str]]] = defaultdict(list)
                for (old_code, new_code), score in scores.items():
                    best_old[old_code].append((score, new_code))
                    best_new[new_code].append((score, old_code))
                paired = []
                for old_code, candidates in best_old.items():
                    candidates.sort(key=lambda item: (-item[0], item[1]))
                    score, new_code = candidates[0]
                    if len(candidates) > 1 and candidates[1][0] > score - CLOSE_MARGIN:
                        continue
                    rivals = sorted(best_new[new_code], key=lambda item: (-item[0], item[1]))
                    if rivals[0][1] != old_code or (len(rivals) > 1 and rivals[1][0] > score - CLOSE_MARGIN):
                        continue
                    paired.append((old_code, new_code, score))
                if not paired:
                    break
                for old_code, new_code, score in paired:
                    if self._open_old(old_code) and self._open_new(new_code):
                        self._match_unless_codes_disagree(old_code, new_code, explain(old_code, new_code, score))
                scores = {
                    pair: score for pair, score in scores.items() if self._open_old(pair[0]) and self._open_new(pair[1])
                }
            # Whatever still has a candidate has rivals: each knot of contested units goes to a person.
            for old_knot, new_knot in _components(scores):
                self._doubt(old_knot, new_knot, f"ambiguous, close spellings {where}")

    # -- the steps --------------------------------------------------------------------------------------

    def run(self) -> Plan:
        for level in LEVELS:
            olds = sorted(code for code, unit in self.old.items() if unit.level == level)
            news = sorted(code for code, unit in self.new.items() if unit.level == level)
            self._same_name_in_parent(olds, news)
            self._close_in_parent(olds, news)
            if level != "province":
                self._same_name_in_scope(olds, news)
                self._close_in_scope(olds, news)
            self._same_number(olds)
            if level != "province":
                self._possible_matches(olds, news)
        return self._plan()

    def _same_name_in_parent(self, olds: list[str], news: list[str]) -> None:
        by_parent: dict[tuple, list[str]] = defaultdict(list)
        for code in news:
            unit = self.new[code]
            by_parent[unit.parent_code, *self._bucket(unit, self.new_key[code])].append(code)
        groups: dict[tuple, list[str]] = defaultdict(list)
        for code in olds:
            unit = self.old[code]
            target = self._target_parent(unit)
            if target is not None:
                groups[target, *self._bucket(unit, self.old_key[code])].append(code)
        for group, old_codes in groups.items():
            new_codes = by_parent.get(group)
            if new_codes and len(old_codes) == 1 and len(new_codes) == 1:
                # The common case, and a fast path: one unit of that name on each side.
                self._match(old_codes[0], new_codes[0], self._explain_same_name(old_codes[0], new_codes[0]))
            elif new_codes:
                where = f"in {group[0]}" if group[0] else "among provinces"
                self._pair_equals(old_codes, new_codes, self._explain_same_name, f"same name {where}", in_parent=True)

    def _close_in_parent(self, olds: list[str], news: list[str]) -> None:
        open_new: dict[str, list[str]] = defaultdict(list)
        for code in news:
            if self._open_new(code):
                open_new[self.new[code].parent_code].append(code)
        open_old: dict[str, list[str]] = defaultdict(list)
        for code in olds:
            target = self._target_parent(self.old[code])
            if self._open_old(code) and target is not None and open_new.get(target):
                open_old[target].append(code)
        groups = [(old_codes, open_new[target]) for target, old_codes in open_old.items()]
        self._pair_close(groups, self._explain_close_in_parent, "in the same parent")

    def _open_in_scope(self, olds: list[str], news: list[str]) -> tuple[dict, dict[int, dict[str, list[str]]]]:
        """Open old units by their scope, and open new units by their ancestor at each scope depth."""
        by_scope: dict[str, list[str]] = defaultdict(list)
        for code in olds:
            if self._open_old(code):
                scope = self._scope(self.old[code])
                if scope is not None:
                    by_scope[scope].append(code)
        depths = {scope.count(".") + 1 if scope else 0 for scope in by_scope}
        new_by_ancestor: dict[int, dict[str, list[str]]] = {depth: defaultdict(list) for depth in depths}
        for code in news:
            if self._open_new(code):
                for depth, index in new_by_ancestor.items():
                    index[_ancestor(code, depth)].append(code)
        return by_scope, new_by_ancestor

    def _same_name_in_scope(self, olds: list[str], news: list[str]) -> None:
        by_scope, new_by_ancestor = self._open_in_scope(olds, news)
        for scope, old_codes in sorted(by_scope.items()):
            depth = scope.count(".") + 1 if scope else 0
            candidates = new_by_ancestor[depth].get(scope, [])
            if not candidates:
                continue
            by_name: dict[tuple, list[str]] = defaultdict(list)
            for code in candidates:
                by_name[self._bucket(self.new[code], self.new_key[code])].append(code)
            groups: dict[tuple, list[str]] = defaultdict(list)
            for code in old_codes:
                groups[self._bucket(self.old[code], self.old_key[code])].append(code)
            where = f"within {scope}" if scope else "nationally"
            for bucket, group in groups.items():
                if bucket in by_name:
                    explain, what = self._explain_moved(scope), f"same name {where}"
                    self._pair_equals(group, by_name[bucket], explain, what, in_parent=False)

    def _close_in_scope(self, olds: list[str], news: list[str]) -> None:
        by_scope, new_by_ancestor = self._open_in_scope(olds, news)
        groups = []
        for scope, old_codes in sorted(by_scope.items()):
            depth = scope.count(".") + 1 if scope else 0
            candidates = [code for code in new_by_ancestor[depth].get(scope, []) if self._open_new(code)]
            if candidates:
                groups.append((old_codes, candidates))
        self._pair_close(groups, self._explain_close_moved, "in the same scope")

    def _same_number(self, olds: list[str]) -> None:
        for code in olds:
            successor_code = self._numbered_successor(code)
            if successor_code is None:
                continue
            unit, successor = self.old[code], self.new[successor_code]
            score = similarity(self.old_key[code], self.new_key[successor_code])
            renamed = f"renamed {unit.name!r} -> {successor.name!r} ({score:.2f})"
            if successor_code == code:
                reason = f"same code, {renamed}; no other match by name for either"
            else:
                reason = (
                    f"same number {_last_part(code)} in matched parent {successor.parent_code} "
                    f"(was {unit.parent_code}), {renamed}; no other match by name for either"
                )
            self._match(code, successor_code, reason)

    def _possible_matches(self, olds: list[str], news: list[str]) -> None:
        """Leftovers similar enough to be worth a look are unresolved, not gone and new (see POSSIBLE_THRESHOLD)."""
        by_scope, new_by_ancestor = self._open_in_scope(olds, news)
        scores: dict[tuple[str, str], float] = {}
        for scope, old_codes in sorted(by_scope.items()):
            depth = scope.count(".") + 1 if scope else 0
            candidates = [code for code in new_by_ancestor[depth].get(scope, []) if self._open_new(code)]
            for old_code in old_codes:
                for new_code in candidates:
                    if self.old[old_code].kind != self.new[new_code].kind and self.old[old_code].level == "regency":
                        continue
                    key_old, key_new = self.old_key[old_code], self.new_key[new_code]
                    score = _similar(key_old, key_new, POSSIBLE_THRESHOLD, distinct_words=False)
                    if score:
                        scores[old_code, new_code] = score
        for old_knot, new_knot in _components(scores):
            best = max(score for (old, new), score in scores.items() if old in old_knot)
            self._doubt(
                old_knot,
                new_knot,
                f"possible match (similarity up to {best:.2f}): too weak, or told apart by a number or direction",
            )

    def _numbered_successor(self, old_code: str) -> str | None:
        """The open new unit with the old unit's number under its matched parent (its own code if the parent
        kept its code, or is matched to nothing on either side), or None."""
        if not self._open_old(old_code):
            return None
        unit = self.old[old_code]
        target = self._target_parent(unit)
        candidate = f"{target}.{_last_part(old_code)}" if target else old_code
        successor = self.new.get(candidate)
        # A code reused under a parent that is now another unit names another unit.
        if successor is None or not self._open_new(candidate) or not self._parent_fits(unit, successor):
            return None
        return candidate

    def _numbered_predecessor(self, new_code: str) -> str | None:
        """The open old unit whose numbered successor is this new unit, or None."""
        unit = self.new[new_code]
        if not unit.parent_code:
            candidate = new_code
        else:
            old_parent = self.backward.get(unit.parent_code, unit.parent_code)
            candidate = f"{old_parent}.{_last_part(new_code)}"
        if candidate in self.old and self._numbered_successor(candidate) == new_code:
            return candidate
        return None

    # -- reasons ----------------------------------------------------------------------------------------

    def _kind_note(self, old_code: str, new_code: str) -> str:
        old, new = self.old[old_code], self.new[new_code]
        if old.level == "village" and old.kind != new.kind:
            return f"; {_KIND_WORDS.get(old.kind, old.kind)} -> {_KIND_WORDS.get(new.kind, new.kind)}"
        return ""

    def _parent_note(self, old_code: str, new_code: str) -> str:
        old_parent, new_parent = self.old[old_code].parent_code, self.new[new_code].parent_code
        if old_parent == new_parent:
            return f"in the same parent {new_parent}" if new_parent else "among provinces"
        return f"in matched parent {new_parent} (was {old_parent})"

    def _explain_same_name(self, old_code: str, new_code: str) -> str:
        old, new = self.old[old_code], self.new[new_code]
        if old_code == new_code:
            if old.name == new.name:
                return "same code, same name"
            return f"same code, same name up to case, spacing or prefix ({old.name!r} ~ {new.name!r})"
        renumbered = ", renumbered" if old.parent_code == new.parent_code else ""
        return f"same name {self._parent_note(old_code, new_code)}{renumbered}{self._kind_note(old_code, new_code)}"

    def _spelling(self, old_code: str, new_code: str, score: float) -> str:
        return f"close spelling {self.old[old_code].name!r}~{self.new[new_code].name!r} ({score:.2f})"

    def _explain_close_in_parent(self, old_code: str, new_code: str, score: float) -> str:
        same_code = ", same code" if old_code == new_code else ""
        return (
            f"{self._spelling(old_code, new_code, score)}{same_code}, unique "
            f"{self._parent_note(old_code, new_code)}{self._kind_note(old_code, new_code)}"
        )

    def _explain_moved(self, scope: str) -> Callable[[str, str], str]:
        def explain(old_code: str, new_code: str) -> str:
            where = f"within {scope}" if scope else "nationally"
            old_parent, new_parent = self.old[old_code].parent_code, self.new[new_code].parent_code
            moved = f"moved from {old_parent} to {new_parent}" if old_parent != new_parent else f"in {new_parent}"
            return f"same name, {moved}, unique {where}{self._kind_note(old_code, new_code)}"

        return explain

    def _explain_close_moved(self, old_code: str, new_code: str, score: float) -> str:
        old_parent, new_parent = self.old[old_code].parent_code, self.new[new_code].parent_code
        moved = f"moved from {old_parent} to {new_parent}" if old_parent != new_parent else f"in {new_parent}"
        return f"{self._spelling(old_code, new_code, score)}, {moved}, unique{self._kind_note(old_code, new_code)}"

    # -- the result -------------------------------------------------------------------------------------

    def _plan(self) -> Plan:
        rows: list[PlanRow] = []
        unchanged = dict.fromkeys(LEVELS, 0)
        for old_code, old in self.old.items():
            new_code = self.forward.get(old_code)
            if new_code is None:
                doubt = self.doubt_old.get(old_code)
                change, reason = (Change.UNRESOLVED, doubt) if doubt else (Change.GONE, "no match in the new list")
                rows.append(PlanRow(old_code, "", change, old.name, "", old.level, reason))
                continue
            new = self.new[new_code]
            if old_code == new_code and old.name == new.name:
                unchanged[old.level] += 1
                continue
            if old_code == new_code:
                change = Change.RENAME
            elif old.level == "village" and old.kind != new.kind:
                change = Change.KIND_CHANGE
            else:
                change = Change.RECODE
            rows.append(PlanRow(old_code, new_code, change, old.name, new.name, old.level, self.reasons[old_code]))
        for new_code, new in self.new.items():
            if new_code in self.backward:
                continue
            doubt = self.doubt_new.get(new_code)
            change, reason = (Change.UNRESOLVED, doubt) if doubt else (Change.NEW, "no match in the old list")
            rows.append(PlanRow("", new_code, change, "", new.name, new.level, reason))
        rows.sort(key=_row_order)
        return Plan(rows=rows, unchanged=unchanged)


def _components(pairs: Iterable[tuple[str, str]]) -> list[tuple[list[str], list[str]]]:
    """The connected parts of a bipartite graph given as (old, new) edges, each as (olds, news), sorted."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def root(node: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for old_code, new_code in pairs:
        parent[root(("old", old_code))] = root(("new", new_code))
    parts: dict[tuple[str, str], tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for node in list(parent):
        side, code = node
        parts[root(node)][0 if side == "old" else 1].append(code)
    return sorted((sorted(olds), sorted(news)) for olds, news in parts.values())


def _row_order(row: PlanRow) -> tuple:
    # By level, then by where the unit is now (or was, for a gone unit), so a regency's rows stay together.
    return (LEVEL_INDEX[row.level], row.new_code or row.old_code, row.old_code)


def plan_changes(*, old: Sequence[UnitRow], new: Sequence[UnitRow]) -> Plan:
    """Propose the change set from the `old` units (the registry) to the `new` ones (a newer list).

    Pure and deterministic: the same lists give the same plan, in the same order. Raises ValueError for a
    list with a duplicate code or a code that does not fit its level.
    """
    return _Planner(old, new).run()


# --- files ----------------------------------------------------------------------------------------------


def units_read(*, path: Path) -> list[UnitRow]:
    """The units of a region file, validated as `load_regions` validates it (RegionFileError otherwise)."""
    return [UnitRow(row.code, row.name, row.level, row.parent_code, row.kind) for row in regions_parse(path=Path(path))]


def plan_to_csv(plan: Plan) -> str:
    """The plan as CSV text: PLAN_COLUMNS, names safe from spreadsheet formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PLAN_COLUMNS)
    for row in plan.rows:
        names = (safe_cell(row.old_name), safe_cell(row.new_name))
        writer.writerow([row.old_code, row.new_code, row.change, *names, row.level, safe_cell(row.reason)])
    return buffer.getvalue()


def plan_write(*, plan: Plan, path: Path) -> None:
    Path(path).write_text(plan_to_csv(plan), encoding="utf-8")


def _unescape(text: str) -> str:
    """Undo safe_cell: a written `'=x` is read back as `=x`."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES) else text


def plan_read(*, path: Path, old: Sequence[UnitRow], new: Sequence[UnitRow], allow_unresolved: bool = False) -> Plan:
    """Read a (possibly hand-edited) plan file and validate it against both lists; see `plan_parse`."""
    return plan_parse(text=_read_text(Path(path)), old=old, new=new, allow_unresolved=allow_unresolved)


def plan_parse(*, text: str, old: Sequence[UnitRow], new: Sequence[UnitRow], allow_unresolved: bool = False) -> Plan:
    """Validate plan CSV text against the `old` units (the registry) and the `new` ones (the file).

    Every problem is reported with its line number (the header is line 1) in one PlanFileError: an unknown
    change or level, a code that is not in its list or not of the row's level, a unit on two rows, a rename
    that keeps the name or changes the code, a recode that changes the kind, a name that is not the unit's,
    `unresolved` rows (unless `allow_unresolved`, for review), and units the plan leaves unexplained (an old
    code missing from the new list without a row, or a name that changes without one; reported at the last
    line, as they belong to no row).
    """
    old_units = {unit.code: unit for unit in old}
    new_units = {unit.code: unit for unit in new}
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    if list(header) != list(PLAN_COLUMNS):
        raise PlanFileError([f"line 1: the header must be {','.join(PLAN_COLUMNS)}; it is {','.join(header)}"])

    errors: list[tuple[int, str]] = []
    rows: list[PlanRow] = []
    old_line: dict[str, int] = {}
    new_line: dict[str, int] = {}
    try:
        for raw in reader:
            line = reader.line_num
            values = {key: _unescape((value or "").strip()) for key, value in raw.items() if key is not None}
            row = PlanRow(**values, line=line)
            problems = _row_problems(row, old_units, new_units, allow_unresolved)
            if None in raw:
                problems.insert(0, "more fields than the header has columns")
            for code, seen, side, units in (
                (row.old_code, old_line, "old", old_units),
                (row.new_code, new_line, "new", new_units),
            ):
                # A code that is not a unit of this level in its list is reported once, above, and not taken.
                if not code or code not in units or units[code].level != row.level:
                    continue
                if code in seen:
                    problems.append(f"{side} code {code} is already on line {seen[code]}: a unit is matched once")
                else:
                    seen[code] = line
            errors.extend((line, problem) for problem in problems)
            rows.append(row)
    except csv.Error as exc:
        errors.append((reader.line_num, f"malformed CSV ({exc})"))

    # Units without a row stay as they are: same code, same name, on both sides.
    last = reader.line_num
    for code, unit in old_units.items():
        if code in old_line:
            continue
        successor = new_units.get(code)
        if successor is None:
            errors.append((last, f"old {unit.level} {code} {unit.name!r} is not in the new list and has no row"))
        elif code in new_line:
            errors.append((new_line[code], f"new code {code} is taken, but old {code} {unit.name!r} has no row"))
        elif successor.name != unit.name:
            errors.append((last, f"{code} is renamed {unit.name!r} -> {successor.name!r} but has no row"))
        elif successor.level != unit.level:
            errors.append((last, f"{code} is a {unit.level} in the old list, a {successor.level} in the new"))
    for code, unit in new_units.items():
        if code not in new_line and code not in old_units:
            errors.append((last, f"new {unit.level} {code} {unit.name!r} is not in the old list and has no row"))

    if errors:
        raise PlanFileError([f"line {line}: {message}" for line, message in sorted(errors)])
    unchanged = Counter(unit.level for code, unit in old_units.items() if code not in old_line)
    rows.sort(key=lambda row: (LEVEL_INDEX.get(row.level, 0), row.new_code or row.old_code, row.old_code))
    return Plan(rows=rows, unchanged={level: unchanged[level] for level in LEVELS})


def _row_problems(
    row: PlanRow, old_units: dict[str, UnitRow], new_units: dict[str, UnitRow], allow_unresolved: bool
) -> list[str]:
    if row.change not in CHANGES:
        return [f"change {row.change!r} is not one of {', '.join(CHANGES)}"]
    if row.level not in LEVEL_INDEX:
        return [f"level {row.level!r} is not one of {', '.join(LEVELS)}"]
    problems = []
    if row.change == Change.UNRESOLVED and not allow_unresolved:
        problems.append("unresolved: decide it (rename, recode, kind_change, new or gone) before applying")
    needs_old = row.change in (*MATCHED_CHANGES, Change.GONE)
    needs_new = row.change in (*MATCHED_CHANGES, Change.NEW)
    old_unit = new_unit = None
    for side, code, units, needed, name in (
        ("old", row.old_code, old_units, needs_old, row.old_name),
        ("new", row.new_code, new_units, needs_new, row.new_name),
    ):
        if row.change != Change.UNRESOLVED and needed and not code:
            problems.append(f"{row.change} needs an {side}_code")
            continue
        if row.change != Change.UNRESOLVED and not needed and code:
            problems.append(f"{row.change} takes no {side}_code (it has {code})")
            continue
        if not code:
            continue
        unit = units.get(code)
        if unit is None:
            problems.append(f"{side} code {code} is not in the {side} list")
            continue
        if unit.level != row.level:
            problems.append(f"{side} code {code} is a {unit.level}, the row says {row.level}")
            continue
        if name and name != unit.name:
            problems.append(f"{side}_name {name!r} is not the name of {code} ({unit.name!r})")
        if side == "old":
            old_unit = unit
        else:
            new_unit = unit
    if old_unit is None or new_unit is None or problems:
        return problems
    if row.change == Change.RENAME:
        if old_unit.code != new_unit.code:
            problems.append(f"rename keeps the code, but {old_unit.code} -> {new_unit.code}: use recode")
        elif old_unit.name == new_unit.name:
            problems.append(f"rename of {old_unit.code}, but the name {old_unit.name!r} does not change")
    elif row.change == Change.RECODE:
        if old_unit.code == new_unit.code:
            problems.append(f"recode changes the code, but it stays {old_unit.code}: use rename")
        elif old_unit.kind != new_unit.kind and row.level == "village":
            problems.append(
                f"{old_unit.code} -> {new_unit.code} changes {old_unit.kind} to {new_unit.kind}: use kind_change"
            )
        elif old_unit.kind != new_unit.kind:
            problems.append(f"{old_unit.code} is a {old_unit.kind}, {new_unit.code} a {new_unit.kind}")
    elif row.change == Change.KIND_CHANGE and (row.level != "village" or old_unit.kind == new_unit.kind):
        problems.append(f"kind_change needs a village whose kind changes; {old_unit.code} -> {new_unit.code} keeps it")
    return problems


# --- decrees --------------------------------------------------------------------------------------------


class Decree(NamedTuple):
    year: int  # the list's year, as in the bundled file names
    decree: str  # short citation, as given to `load_regions --decree`
    title: str
    date: str  # ISO date the decree was issued
    amended_by: str
    amended_date: str
    file: str  # the bundled Lampung extract


def decrees_read(path: Path = DECREES_FILE) -> list[Decree]:
    """The region-code decrees of the bundled lists, oldest first (villages/data/decrees.csv)."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return [Decree(**{**row, "year": int(row["year"])}) for row in csv.DictReader(handle)]
