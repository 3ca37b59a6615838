# ruff: noqa: RUF002 -- the point of these tests is letters that look alike.
"""Every way of writing a username that logs into the same account, for the tests that walk the class.

Login is case-insensitive and reads usernames in Unicode compatibility form (NFKC): `STAF`, `Staf`,
full-width `ｓｔａｆ` and mathematical `𝐬𝐭𝐚𝐟` are all `staf`. The variants of a username are found by
scanning every code point once, not listed by hand, so a kind of spelling nobody thought of is in.
"""

import functools
import sys
import unicodedata


@functools.cache
def _compatibility_forms() -> dict[str, tuple[str, ...]]:
    """{text: code points other than itself whose NFKC form, lowercased, is that text} (text of 1-3 chars)."""
    forms: dict[str, list[str]] = {}
    for code_point in range(sys.maxunicode + 1):
        char = chr(code_point)
        if unicodedata.category(char) == "Cs":  # lone surrogates are not text
            continue
        folded = unicodedata.normalize("NFKC", char).lower()
        if folded != char and 0 < len(folded) <= 3:
            forms.setdefault(folded, []).append(char)
    return {text: tuple(chars) for text, chars in forms.items()}


def spellings(username: str) -> list[str]:
    """The username written with one of its letters (or a run of up to three characters) replaced by each
    other character that means the same at login, plus the whole name in upper and title case."""
    variants = {username.upper(), username.title()}
    forms = _compatibility_forms()
    for length in (1, 2, 3):
        for start in range(len(username) - length + 1):
            text = username[start : start + length]
            for char in forms.get(text, ()):
                variants.add(username[:start] + char + username[start + length :])
    variants.discard(username)
    return sorted(variants)


@functools.cache
def case_collisions() -> list[tuple[str, ...]]:
    """Groups of characters, each a valid username character in NFKC form, that are different letters
    (lowercase differs) but the same in uppercase: `i`/`ı`, `σ`/`ς`, Cyrillic `в`/`ᲀ`, ... A filter by
    uppercase (SQL `UPPER(a) = UPPER(b)`, Django's `iexact`) merges them."""
    groups: dict[str, set[str]] = {}
    for code_point in range(0x10000):
        char = unicodedata.normalize("NFKC", chr(code_point))
        if len(char) == 1 and (char.isalnum() or char == "_"):
            groups.setdefault(char.upper(), set()).add(char.lower())
    return sorted(tuple(sorted(group)) for group in groups.values() if len(group) > 1)
