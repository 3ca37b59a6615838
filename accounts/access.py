"""The access policy: who may see which part of the province.

Every page, API view, export and admin list that shows regional data passes
its queryset through `restrict_to_scope`, so the regency scope of an officer
is decided here and nowhere else.
"""

from enum import StrEnum

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

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


class Capability(StrEnum):
    # Read the programme's data (within the regency scope for officers).
    READ = "read"
    # Create, edit, plan, activate and close allocations.
    MANAGE_ALLOCATIONS = "manage_allocations"
    # Move grants: approve, disburse, record LPJ, return, close, cancel.
    MOVE_GRANTS = "move_grants"
    # Submit progress reports for the villages of the own regency.
    SUBMIT_REPORTS = "submit_reports"
    # Verify or reject progress reports, correct village statuses.
    VERIFY_REPORTS = "verify_reports"


# What each role may do. Regency officers and auditors only read; the scope
# (whole province or one regency) is decided by restrict_to_scope above.
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.PROVINCE_ADMIN: frozenset(
        {Capability.READ, Capability.MANAGE_ALLOCATIONS, Capability.MOVE_GRANTS, Capability.VERIFY_REPORTS}
    ),
    Role.PROVINCE_STAFF: frozenset({Capability.READ, Capability.MOVE_GRANTS, Capability.VERIFY_REPORTS}),
    Role.REGENCY_OFFICER: frozenset({Capability.READ, Capability.SUBMIT_REPORTS}),
    Role.AUDITOR: frozenset({Capability.READ}),
}


def has_capability(user: User | AnonymousUser, capability: Capability) -> bool:
    return capability in ROLE_CAPABILITIES.get(_role(user), frozenset())


def require_capability(user: User | AnonymousUser, capability: Capability) -> None:
    """For pages: PermissionDenied (403) unless the policy gives `user` the capability."""
    if not has_capability(user, capability):
        raise PermissionDenied


def requires(capability: Capability) -> type[BasePermission]:
    """A DRF permission class granting `capability` to the roles the policy gives it to."""

    class HasCapability(BasePermission):
        message = _("Your role does not allow this action.")

        def has_permission(self, request, view) -> bool:
            return has_capability(request.user, capability)

    HasCapability.__name__ = f"Requires_{capability.value}"
    return HasCapability
