"""Finding an allocation's SP2D references in a bank's free text (keterangan).

A bank writes the SP2D number its own way: in another case, with the separators it likes
("SP2D NO.0012/BL/2024", "sp2d 0012 / bl / 2024", "SP2D0012BL2024"). Rather than guess at a grammar of
SP2D numbers, the matcher knows the references the allocation's disbursements carry and looks for
them. Both sides are brought to one *compact form*: the canonical form of the grants
(`grants.services.reference_key`: Unicode compatibility forms, invisible characters, case), the filler
word "no"/"nomor" after "SP2D" dropped, then only letters and digits kept, so separators inserted or
dropped anywhere inside the number do not matter. A reference is found where its compact form occurs
in the text's and starts and ends on a boundary of the text: a separator, the text's ends, or a change
between letter and digit. So `0012/BL/2024` is found in "SP2D0012BL2024" but not in "10012/BL/2024",
nor in "0012/BL/20245".

A reference is also looked for without its leading "SP2D" (a bank may drop the word) when what
remains is distinctive enough (CORE_MIN_LENGTH characters with a digit): "SP2D-7" is looked for whole.
Where references found in one text overlap, the longest wins.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from grants.services import reference_key

CORE_MIN_LENGTH = 6
SP2D = "sp2d"

# "SP2D No. 12", "sp2d nomor 12": the word adds nothing to the number.
_FILLER_RE = re.compile(r"sp2d[\W_]*(?:nomor|nmr|nr|no)(?![^\W\d_])[\W_]*", re.IGNORECASE)
# An SP2D number as a bank writes it, for telling staff which unknown number a line names.
_SP2D_TOKEN_RE = re.compile(r"sp2d[\W_]*([^\W_]*\d[^\W_]*(?:\s*[./\-]\s*[^\W_]+)*)", re.IGNORECASE)
# Kemendagri village codes: 18.01.04.2001, or the same digits without the dots.
_DOTTED_VILLAGE_RE = re.compile(r"(?<![\d.])(\d{2})\.(\d{2})\.(\d{2})\.(\d{4})(?![\d])")
_WORD_RE = re.compile(r"[^\W_]+")
# Runs of digits or of letters: a reference starts and ends on their edges.
_ATOM_RE = re.compile(r"\d+|[^\W\d_]+")
_PLAIN_VILLAGE_RE = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})(\d{4})(?!\d)")


@dataclass(frozen=True)
class Compact:
    """A text's compact form and where its atoms (runs of letters or of digits) start and end in it."""

    text: str
    boundaries: frozenset[int]


def canonical(text: str) -> str:
    """`grants.services.reference_key(text)`, with a shortcut for ASCII text (nearly all bank text):
    there NFKC changes nothing and no character is invisible, so it is lower case with whitespace
    collapsed (tests/treasury/test_references.py checks the two agree)."""
    if text.isascii():
        return " ".join(text.lower().split())
    return reference_key(text)


def compact(value: str) -> Compact:
    return _compact_canonical(canonical(value))


def _compact_canonical(text: str) -> Compact:
    atoms = _ATOM_RE.findall(_FILLER_RE.sub("sp2d ", text))
    boundaries = [0]
    for atom in atoms:
        boundaries.append(boundaries[-1] + len(atom))
    return Compact("".join(atoms), frozenset(boundaries))


class BankText:
    """One line's text with its canonical and compact forms and its words, each computed once."""

    def __init__(self, text: str):
        self.text = text
        self.canonical = canonical(text)
        self._compact: Compact | None = None
        self._words: tuple[str, ...] | None = None

    @property
    def compact(self) -> Compact:
        if self._compact is None:
            self._compact = _compact_canonical(self.canonical)
        return self._compact

    @property
    def words(self) -> tuple[str, ...]:
        if self._words is None:
            self._words = tuple(_WORD_RE.findall(self.canonical))
        return self._words

    def names(self, name: str) -> bool:
        """Whether the text names `name` as whole words (in any case or spacing)."""
        wanted = tuple(_WORD_RE.findall(canonical(name)))
        if not wanted:
            return False
        size = len(wanted)
        words = self.words
        return any(words[start : start + size] == wanted for start in range(len(words) - size + 1))


def reference_patterns(reference: str) -> set[str]:
    """The compact forms under which `reference` is looked for: whole, and without a leading "SP2D"."""
    whole = compact(reference).text
    patterns = {whole} if whole else set()
    core = whole.removeprefix(SP2D)
    if core != whole and len(core) >= CORE_MIN_LENGTH and any(character.isdigit() for character in core):
        patterns.add(core)
    return patterns


@dataclass(frozen=True)
class Found:
    key: Hashable  # what the reference was registered under (a disbursement's id)
    start: int  # span in the text's compact form
    end: int


class ReferenceIndex:
    """The references of one allocation, to look for in many texts. Looking costs a dictionary lookup
    per boundary of the text and length of reference, whatever the number of references."""

    def __init__(self, references: Iterable[tuple[Hashable, str]]):
        self._keys: dict[str, set[Hashable]] = {}
        for key, reference in references:
            for pattern in reference_patterns(reference):
                self._keys.setdefault(pattern, set()).add(key)
        self._lengths = sorted({len(pattern) for pattern in self._keys})

    def find(self, text: str | BankText) -> list[Found]:
        """Every reference in `text`, longest first; one contained in a longer one found is left out."""
        form = text.compact if isinstance(text, BankText) else compact(text)
        hits: list[Found] = []
        for start in sorted(form.boundaries):
            for length in self._lengths:
                end = start + length
                if end > len(form.text):
                    break
                if end in form.boundaries:
                    for key in self._keys.get(form.text[start:end], ()):
                        hits.append(Found(key, start, end))
        hits.sort(key=lambda hit: (hit.start - hit.end, hit.start))
        kept: list[Found] = []
        for hit in hits:
            # Left out when inside a longer one; references found on the same span are all kept.
            inside = (
                other.start <= hit.start and hit.end <= other.end and (other.start, other.end) != (hit.start, hit.end)
                for other in kept
            )
            if not any(inside):
                kept.append(hit)
        return kept

    def keys_in(self, text: str | BankText) -> list[Hashable]:
        """The distinct keys of the references in `text`, in order of the longest match first."""
        return list(dict.fromkeys(hit.key for hit in self.find(text)))


def sp2d_token(text: str) -> str:
    """The SP2D number a text names, as written (e.g. "0099/BL/2024"), or "" when it names none."""
    # As written (case kept), so that staff can search the bank's portal for it.
    visible = "".join(c for c in unicodedata.normalize("NFKC", text) if unicodedata.category(c) != "Cf")
    match = _SP2D_TOKEN_RE.search(_FILLER_RE.sub("SP2D ", visible))
    return match.group(1).strip(" ./-") if match else ""


def village_codes(text: str, known: Mapping[str, str] | None = None) -> list[str]:
    """The Kemendagri village codes a text names, dotted (18.01.04.2001), or as ten digits when `known`
    (code -> name) has that code: ten bare digits may as well be an account number."""
    codes = [".".join(match.groups()) for match in _DOTTED_VILLAGE_RE.finditer(text)]
    if known:
        codes += [code for match in _PLAIN_VILLAGE_RE.finditer(text) if (code := ".".join(match.groups())) in known]
    return list(dict.fromkeys(codes))


def names_village(text: str, name: str) -> bool:
    """Whether a text names a village (its name as whole words, in any case or spacing)."""
    return BankText(text).names(name)
