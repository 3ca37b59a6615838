"""What every input value must be, whichever parameter or body it comes in.

Checked once where input enters, by `smartvillage.middleware.InputGuardMiddleware`, before any view,
form, filter or serializer meets it: the path, the query string, form fields and JSON bodies, of every
page and API endpoint (those that ignore their body included).

- No NUL character: PostgreSQL can neither store nor compare one, so any query using it failed (500).
- No lone surrogate (JSON can spell one, "\\ud800"): not text, and not encodable for the database.
- Numbers and dates in the digits 0-9. Python's int() reads Arabic-Indic and full-width digits and
  str.isdigit() accepts superscripts, so Django's and DRF's number and date parsing took "١٢٣" for
  123 and failed on "²". A value written only in digits and number punctuation with any digit
  other than 0-9 is refused; text that merely contains one ("luas 10 m²") is text, and stays.
- JSON bodies nested at most MAX_BODY_DEPTH levels. Python's json module recurses once per level: a
  body of 100,000 "[" raised RecursionError, a 500.
"""

import json

from django.utils.translation import gettext as _

# Characters that may stand between the digits of a number or date: 6.000.000, 2026-01-31, 31/01/2026.
NUMBER_PUNCTUATION = frozenset("+-.,/:")
# The deepest body the API takes is a bulk report (an object, its list of rows, a row: 3 levels).
MAX_BODY_DEPTH = 32


class InputRefused(Exception):
    """A value the portal refuses: `problem` says why, `name` (if any) which parameter holds it."""

    def __init__(self, problem: str, name: str = ""):
        super().__init__(problem)
        self.problem = problem
        self.name = shown_name(name) if name else ""

    @property
    def message(self) -> str:
        return f"{self.name}: {self.problem}" if self.name else self.problem


def _foreign_numeral(text: str) -> bool:
    """Whether `text` is a number or date written with a digit other than 0-9."""
    text = text.strip()
    if not text or text.isascii():
        return False
    return any(char.isnumeric() for char in text) and all(
        char.isnumeric() or char.isspace() or char in NUMBER_PUNCTUATION for char in text
    )


def _lone_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def input_refusal(text: str) -> str | None:
    """Why `text` (a parameter's name or value) is refused, or None if it is acceptable."""
    if "\x00" in text:
        return _("Null characters are not allowed.")
    if _lone_surrogate(text):
        return _("The text holds an invalid character (a lone surrogate).")
    if _foreign_numeral(text):
        return _("Write numbers and dates with the digits 0-9.")
    return None


def check_fields(fields) -> None:
    """Raise InputRefused for the first (name, value) pair of `fields` with a refused name or value."""
    for name, value in fields:
        problem = input_refusal(name) or (input_refusal(value) if isinstance(value, str) else None)
        if problem:
            raise InputRefused(problem, name)


def check_headers(meta) -> None:
    """Raise InputRefused for the first request header (in WSGI `meta`) holding a NUL character.

    Headers reach the database too: the login lockout stores the User-Agent, the API looks up the
    Authorization header's token, and PostgreSQL refuses NUL in any text. Only NUL is refused here:
    a header is not a parameter, and other characters in it are the client's business.
    """
    for key, value in meta.items():
        if key.startswith("HTTP_") and isinstance(value, str) and "\x00" in value:
            name = key.removeprefix("HTTP_").replace("_", "-").title()
            raise InputRefused(_("Null characters are not allowed."), name)


def _too_deep() -> InputRefused:
    return InputRefused(_("The body is nested too deeply (at most %(depth)d levels).") % {"depth": MAX_BODY_DEPTH})


def _json_constant(name: str):
    raise ValueError(name)  # NaN and Infinity are not JSON (DRF refuses them too)


def check_json_body(raw: bytes, encoding: str) -> None:
    """Raise InputRefused unless `raw` is JSON text whose depth, names and values are all acceptable.
    The parsed tree is walked with a stack: a deep body must not take the stack it is refused for."""
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise InputRefused(_("The body is not UTF-8 text.")) from None
    try:
        data = json.loads(text, parse_constant=_json_constant)
    except RecursionError:
        raise _too_deep() from None
    except json.JSONDecodeError as error:
        message = _("The body is not valid JSON (line %(line)d, column %(column)d).")
        raise InputRefused(message % {"line": error.lineno, "column": error.colno}) from None
    except ValueError:
        raise InputRefused(_("The body is not valid JSON.")) from None
    pending = [(data, "", 0)]
    while pending:
        value, path, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth >= MAX_BODY_DEPTH:
                raise _too_deep()
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                name = f"{path}.{key}" if path else str(key)
                if isinstance(key, str) and (problem := input_refusal(key)):
                    raise InputRefused(problem, name)
                pending.append((item, name, depth + 1))
        elif isinstance(value, str) and (problem := input_refusal(value)):
            raise InputRefused(problem, path)


def shown_name(name: str) -> str:
    """A parameter's name as an error message may show it: printable and short."""
    shown = name.encode("unicode_escape").decode("ascii") if not name.isprintable() else name
    return shown if len(shown) <= 100 else shown[:99] + "…"
