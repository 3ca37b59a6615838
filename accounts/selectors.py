"""Reads of accounts, and of the audit entries about one object."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from rest_framework.authtoken.models import Token

from accounts.models import AuditEntry, User


def user_list(*, q: str = "", role: str = "", regency: str = "", active: str = "") -> QuerySet[User]:
    """Accounts for the administrators' list, with whether each holds an API token."""
    users = User.objects.select_related("regency").annotate(has_token=Exists(Token.objects.filter(user=OuterRef("pk"))))
    if q:
        users = users.filter(
            Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(email__icontains=q)
        )
    if role:
        users = users.filter(role=role)
    if regency:
        users = users.filter(regency__code=regency)
    if active in ("1", "0"):
        users = users.filter(is_active=active == "1")
    return users.order_by("username")


def audit_for_object(*, obj) -> QuerySet[AuditEntry]:
    """The audit entries about one object, newest first."""
    return AuditEntry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).select_related("actor")
