"""Rupiah formatting, the one place amounts are turned into text: Rp15.906.000.000, short Rp15,9 miliar."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()

# Shown where there is no amount (an en dash, the usual blank in Indonesian financial tables).
EMPTY = "\u2013"

# (threshold, unit word) from the largest down: the Indonesian short scale.
SHORT_UNITS = ((10**12, "triliun"), (10**9, "miliar"), (10**6, "juta"))


def _unit_label(word: str) -> str:
    # Indonesian short scale: triliun, miliar, juta.
    return {"triliun": _("trillion"), "miliar": _("billion"), "juta": _("million")}[word]


@register.filter
def rupiah(value: int | None) -> str:
    """Rp15.906.000.000 (grouping and signs follow the active language)."""
    if value is None or value == "":
        return EMPTY
    amount = int(value)
    text = "Rp" + number_format(abs(amount), 0, force_grouping=True)
    return "-" + text if amount < 0 else text


@register.filter
def rupiah_short(value: int | None) -> str:
    """Rp15,9 miliar / Rp708 juta: one decimal at most, for headlines and tight tables."""
    if value is None or value == "":
        return EMPTY
    amount = int(value)
    for threshold, word in SHORT_UNITS:
        if abs(amount) >= threshold:
            scaled = (Decimal(abs(amount)) / threshold).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            digits = 0 if scaled == scaled.to_integral_value() else 1
            text = f"Rp{number_format(scaled, digits, force_grouping=True)} {_unit_label(word)}"
            return "-" + text if amount < 0 else text
    return rupiah(amount)


@register.filter
def percent(value: float | None) -> str:
    """97,5 % in Indonesian, 97.5 % in English."""
    if value is None:
        return EMPTY
    return f"{number_format(value, 1)} %"
