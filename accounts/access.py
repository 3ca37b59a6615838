"""The access policy: who may see which part of the province.

Every page, API view, export and admin list that shows regional data passes
its queryset through `restrict_to_scope`, so the regency scope of an officer
is decided here and nowhere else.
"""

from django.db.models import QuerySet

from accounts.models import Role, User

# Roles that see the whole province (or, in a national deployment, every province).
PROVINCE_WIDE_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.PROVINCE_STAFF, Role.AUDITOR})


def regency_scope(user: User) -> str | None:
    """The regency code a user is confined to, or None for province-wide roles."""
    if user.role in PROVINCE_WIDE_ROLES:
        return None
    return user.regency_id


def restrict_to_scope(queryset: QuerySet, user: User, *, regency_field: str) -> QuerySet:
    """Filter `queryset` to the rows `user` may see; `regency_field` names the regency code path.

    Fails closed: a user who is neither province-wide nor scoped to a regency sees nothing.
    """
    if user.role in PROVINCE_WIDE_ROLES:
        return queryset
    if not user.regency_id:
        return queryset.none()
    return queryset.filter(**{regency_field: user.regency_id})
