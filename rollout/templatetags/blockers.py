"""How a village's blocker reads: its category and the reporter's note, said once."""

from django import template

register = template.Library()


@register.filter
def blocker_text(status) -> str:
    """The blocker of a VillageStatus or ProgressReport and its note ("No internet signal: tower down"); the
    note alone where it opens with the category's own words, so a page never says "X: X in the village"."""
    if not status or not status.blocker:
        return ""
    label = str(status.get_blocker_display())
    note = status.blocker_note.strip()
    if not note:
        return label
    if note.casefold().startswith(label.casefold()):
        return note
    return f"{label}: {note}"
