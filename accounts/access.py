"""The access policy: who may see which part of the province.

Every page, API view, export and admin list that shows regional data passes
its queryset through `restrict_to_scope`, so the regency scope of an officer
is decided here and nowhere else.
"""

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from accounts.models import Role, User

# Roles that see the whole province (or, in a national deployment, every province).
PROVINCE_WIDE_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.PROVINCE_STAFF, Role.AUDITOR})


def _role(user: User | AnonymousUser) -> str | None:
    return getattr(user, "role", None) if user.is_authenticated else None


def regency_scope(user: User | AnonymousUser) -> str | None:
    """The regency code a user is confined to, or None for province-wide roles."""
    if _role(user) in PROVINCE_WIDE_ROLES:
        return None
    return getattr(user, "regency_id", None)


def restrict_to_scope(queryset: QuerySet, user: User | AnonymousUser, *, regency_field: str) -> QuerySet:
    """Filter `queryset` to the rows `user` may see; `regency_field` names the regency code path.

    Fails closed: anyone neither province-wide nor scoped to a regency (the
    anonymous user included) sees nothing.
    """
    if _role(user) in PROVINCE_WIDE_ROLES:
        return queryset
    if _role(user) != Role.REGENCY_OFFICER or not user.regency_id:
        return queryset.none()
    return queryset.filter(**{regency_field: user.regency_id})
