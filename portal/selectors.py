"""Reads across apps: the dashboard's lists and the audit
trail (account, allocation and target changes in accounts.AuditEntry, grant movements in
grants.GrantEvent, progress reports and their reviews in rollout.ProgressReport)."""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from accounts.models import AuditAction, AuditEntry, User
from grants.models import GrantAction, GrantEvent, GrantStatus
from rollout import selectors as rollout_selectors
from rollout.models import ProgressReport, ReportStatus
from rollout.services import adopted
from smartvillage.templatetags.rupiah import rupiah

# --- the dashboard ------------------------------------------------------------------------------


def _lagging(user: User) -> QuerySet:
    return (
        rollout_selectors.village_rollout_list(user=user)
        .exclude(adopted(prefix="rollout__"))
        .order_by("regency__code", "code")
    )


def _awaiting(user: User) -> QuerySet:
    return rollout_selectors.report_list(user=user).filter(status=ReportStatus.AWAITING)


def _my_reports(user: User) -> QuerySet:
    return rollout_selectors.report_list(user=user).filter(submitted_by=user)


# name -> (the whole list visible to a user, the path from a row to its regency)
LISTS = {
    "lagging": (_lagging, "regency"),
    "paid-not-live": (lambda user: rollout_selectors.paid_not_live(user=user), "village__regency"),
    "awaiting": (_awaiting, "village__regency"),
    "my-reports": (_my_reports, "village__regency"),
}


def whole_list(*, user: User, name: str, province: str | None = None, regency: str | None = None) -> QuerySet:
    """The whole of a list the overview shows the first rows of, within a province or a regency:
    the overview's excerpt, its "show all" page and its export read this same query."""
    rows, regency_path = LISTS[name]
    queryset = rows(user)
    if regency:
        queryset = queryset.filter(**{f"{regency_path}__code": regency})
    if province:
        queryset = queryset.filter(**{f"{regency_path}__province__code": province})
    return queryset


# --- the audit trail ----------------------------------------------------------------------------

# The three records the audit page reads: account/allocation/target changes, grant movements
# (grants.GrantEvent) and progress reports with their reviews (rollout.ProgressReport).
AUDIT_TRAILS = ("changes", "grants", "reports")

# What a report row's `action` holds for a submission (a review holds the report's status).
SUBMITTED, CORRECTED = "submitted", "corrected"


@dataclass(frozen=True)
class AuditQuery:
    trail: str = "changes"
    actor: str = ""  # username
    q: str = ""  # object: a code, name or reference
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def _dated(rows: QuerySet, field: str, query: AuditQuery) -> QuerySet:
    if query.date_from:
        rows = rows.filter(**{f"{field}__date__gte": query.date_from})
    if query.date_to:
        rows = rows.filter(**{f"{field}__date__lte": query.date_to})
    return rows


def _by_actor(rows: QuerySet, field: str, username: str) -> QuerySet:
    """The rows of the one account `username` logs into, however spelt (`STAF` finds `staf`'s rows).
    Not `iexact`: SQL's UPPER makes different accounts equal (`i` and the dotless i, the two Greek small sigmas)."""
    return rows.filter(**{f"{field}__in": User.objects.with_username(username).values("pk")})


def _changes(query: AuditQuery) -> QuerySet:
    rows = _dated(AuditEntry.objects.all(), "created_at", query)
    if query.actor:
        rows = _by_actor(rows, "actor", query.actor)
    if query.q:
        rows = rows.filter(Q(object_repr__icontains=query.q) | Q(object_id=query.q))
    return rows.values(
        "created_at", "action", "object_type", "object_id", "object_repr", "changes", actor_name=F("actor__username")
    ).order_by("-created_at", "-id")


def _grant_events(query: AuditQuery) -> QuerySet:
    rows = _dated(GrantEvent.objects.all(), "created_at", query)
    if query.actor:
        rows = _by_actor(rows, "actor", query.actor)
    if query.q:
        rows = rows.filter(
            Q(grant__village__code__startswith=query.q)
            | Q(grant__village__name__icontains=query.q)
            | Q(reference__icontains=query.q)
        )
    return rows.values(
        "created_at",
        "action",
        "from_status",
        "to_status",
        "amount",
        "reference",
        "note",
        "grant_id",
        actor_name=F("actor__username"),
        village_code=F("grant__village__code"),
        village_name=F("grant__village__name"),
    ).order_by("-created_at", "-id")


def _report_events(query: AuditQuery) -> QuerySet:
    """Submissions and reviews as separate rows (one UNION ALL), newest first."""
    reports = ProgressReport.objects.all()
    if query.q:
        reports = reports.filter(Q(village__code__startswith=query.q) | Q(village__name__icontains=query.q))
    submitted = _dated(reports, "submitted_at", query)
    reviewed = _dated(reports.filter(reviewed_at__isnull=False), "reviewed_at", query)
    if query.actor:
        submitted = _by_actor(submitted, "submitted_by", query.actor)
        reviewed = _by_actor(reviewed, "reviewed_by", query.actor)
    text = CharField()
    # Expressions only, in the same order on both sides, so the UNION's columns line up.
    submitted = submitted.values(
        created_at=F("submitted_at"),
        actor_name=F("submitted_by__username"),
        action=Case(When(is_correction=True, then=Value(CORRECTED)), default=Value(SUBMITTED), output_field=text),
        report_id=F("pk"),
        village_code=F("village__code"),
        village_name=F("village__name"),
        detail=F("note"),
    )
    reviewed = reviewed.values(
        created_at=F("reviewed_at"),
        actor_name=F("reviewed_by__username"),
        action=F("status"),
        report_id=F("pk"),
        village_code=F("village__code"),
        village_name=F("village__name"),
        detail=F("rejection_reason"),
    )
    # The model's default ordering is cleared on each side: SQLite refuses ORDER BY inside a UNION.
    return submitted.order_by().union(reviewed.order_by(), all=True).order_by("-created_at", "-report_id")


def audit_trail(*, query: AuditQuery) -> QuerySet:
    """The rows of one trail, newest first, as dicts; `audit_describe` turns one into display cells."""
    return {"changes": _changes, "grants": _grant_events, "reports": _report_events}[query.trail](query)


def _changes_text(object_type: str, changes: dict) -> str:
    """The entry's changes as a reader says them: the field's label, a choice's label, yes/no, rupiah for
    amounts; the entry itself keeps the raw values (what the CSV's auditors compare is the same text)."""
    try:
        fields = {field.name: field for field in apps.get_model(object_type)._meta.get_fields()}
    except (LookupError, ValueError):
        fields = {}
    return "; ".join(
        f"{_field_label(fields.get(name), name)}: {_value_text(fields.get(name), before)} → "
        f"{_value_text(fields.get(name), after)}"
        for name, (before, after) in changes.items()
    )


def _model_label(object_type: str) -> str:
    try:
        return capfirst(str(apps.get_model(object_type)._meta.verbose_name))
    except (LookupError, ValueError):
        return object_type


def _field_label(field, name: str) -> str:
    return capfirst(str(getattr(field, "verbose_name", None) or name))


def _value_text(field, value) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    choices = dict(getattr(field, "flatchoices", None) or ())
    if value in choices:
        return str(choices[value])
    if isinstance(value, int) and field is not None and field.name.endswith("amount"):
        return rupiah(value)
    return str(value)


def audit_describe(*, trail: str, row: dict) -> tuple[datetime.datetime, str, str, str, str]:
    """(time, actor, action, object, details) of one audit row, in the active language."""
    actor = row["actor_name"] or _("(system)")
    if trail == "changes":
        action = AuditAction(row["action"]).label
        return (
            row["created_at"],
            actor,
            str(action),
            f"{_model_label(row['object_type'])} {row['object_repr']}",
            _changes_text(row["object_type"], row["changes"]),
        )
    if trail == "grants":
        before = GrantStatus(row["from_status"]).label if row["from_status"] else "-"
        details = [f"{before} → {GrantStatus(row['to_status']).label}"]
        if row["amount"] is not None:
            details.append(rupiah(row["amount"]))
        details += [text for text in (row["reference"], row["note"]) if text]
        obj = f"{row['village_code']} {row['village_name']}"
        return row["created_at"], actor, str(GrantAction(row["action"]).label), obj, "; ".join(details)
    labels = {SUBMITTED: _("Report submitted"), CORRECTED: _("Status corrected")}
    action = labels.get(row["action"]) or str(ReportStatus(row["action"]).label)
    return row["created_at"], actor, action, f"{row['village_code']} {row['village_name']}", row["detail"]


def audit_rows(*, trail: str, rows) -> Iterator[tuple]:
    for row in rows:
        yield audit_describe(trail=trail, row=row)
