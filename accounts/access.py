"""The access policy: who may see which part of the province.

Every page, API view, export and admin list that shows regional data passes
its queryset through `restrict_to_scope` (rows about region units at any level:
`restrict_units_to_scope`), and a page named after a regency checks it with
`require_in_scope`, so the regency scope of an officer is decided here and nowhere
else; what each role may do is `ROLE_CAPABILITIES`, asked through `has_capability` /
`require_capability` (pages), `requires` (API) and `PolicyAdmin` / `ReadOnlyAdmin`
(the Django admin).
"""

from enum import StrEnum

from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from accounts.models import Role, User

# Roles that see the whole province (or, in a national deployment, every province).
PROVINCE_WIDE_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.PROVINCE_STAFF, Role.AUDITOR})


class PublicReader:
    """Who reads the public transparency pages (/publik/): anyone, without an account.

    The public sees the whole province through the scope functions below, so that the public pages read
    the same selectors (and so the same figures) as the dashboard; what of those rows is published (figures,
    statuses and categories, never people or free text) is the public app's choice, held by its tests. The
    public may do nothing: it has no role and no capability, and it is never a request's user (an anonymous
    visitor stays AnonymousUser, who sees nothing anywhere else)."""

    is_authenticated = False
    is_anonymous = True
    role = None
    regency_id = None


PUBLIC = PublicReader()


def _role(user: User | AnonymousUser) -> str | None:
    return getattr(user, "role", None) if user.is_authenticated else None


def _province_wide(user: User | AnonymousUser | PublicReader) -> bool:
    return user is PUBLIC or _role(user) in PROVINCE_WIDE_ROLES


def regency_scope(user: User | AnonymousUser) -> int | None:
    """The regency a user is confined to (the unit's key, never its code: a unit keeps its key when its code
    changes), or None for province-wide roles (and the public)."""
    if _province_wide(user):
        return None
    return getattr(user, "regency_id", None)


def _regency_path(regency_field: str) -> str:
    """The path to the regency unit: `regency_field` names the regency (`village__regency`, or `pk` on
    regencies); a path to its code (`village__regency__code`, `code`) is read as the regency itself."""
    if regency_field == "code":
        return "pk"
    return regency_field.removesuffix("__code")


def restrict_to_scope(queryset: QuerySet, user: User | AnonymousUser, *, regency_field: str) -> QuerySet:
    """Filter `queryset` to the rows `user` may see; `regency_field` names the path to the row's regency
    (a foreign key such as `village__regency`; `pk` for regencies themselves).

    Fails closed: anyone neither province-wide nor scoped to a regency (the
    anonymous user included) sees nothing.
    """
    if _province_wide(user):
        return queryset
    if _role(user) != Role.REGENCY_OFFICER or not user.regency_id:
        return queryset.none()
    return queryset.filter(**{_regency_path(regency_field): user.regency_id})


def _own_regency_code(user: User) -> Subquery:
    """The officer's regency's current code, inside the query that uses it (no query of its own)."""
    regencies = User._meta.get_field("regency").related_model.objects
    return Subquery(regencies.filter(pk=user.regency_id).values("code")[:1])


def restrict_units_to_scope(queryset: QuerySet, user: User | AnonymousUser, *, code_field: str) -> QuerySet:
    """Filter rows about region units of any level (keyed by their Kemendagri code in `code_field`, e.g.
    adoption snapshots) to those `user` may see: all for province-wide roles; for an officer the own
    regency and the units within it (`18.01`, `18.01.04`), never a wider aggregate (the province);
    nothing for anyone else."""
    if _province_wide(user):
        return queryset
    if _role(user) != Role.REGENCY_OFFICER or not user.regency_id:
        return queryset.none()
    own = _own_regency_code(user)
    return queryset.filter(Q(**{code_field: own}) | Q(**{f"{code_field}__startswith": Concat(own, Value("."))}))


def require_in_scope(user: User | AnonymousUser, *, regency_code: str) -> None:
    """For pages named after a regency (or a unit within one), by its code: Http404 unless `user` sees that
    regency. Not found rather than forbidden: an officer learns nothing of what lies outside the own regency."""
    if _province_wide(user):
        return
    if _role(user) != Role.REGENCY_OFFICER or user.regency is None or user.regency.code != regency_code:
        raise Http404


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
    # Create accounts, give roles and regencies, deactivate accounts, revoke API tokens.
    MANAGE_USERS = "manage_users"
    # Read the audit trail: account, allocation, grant and report changes, by whom and when.
    VIEW_AUDIT = "view_audit"
    # Import bank statements of the treasury account (RKUD), resolve reconciliation items, record the
    # returns the bank shows (treasury).
    RECONCILE = "reconcile"
    # Load a newer Kemendagri region list: upload it, review and edit its change set, apply it (issue 14).
    MANAGE_REGIONS = "manage_regions"


# What each role may do. Regency officers and auditors change no money; the scope
# (whole province or one regency) is decided by restrict_to_scope above.
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.PROVINCE_ADMIN: frozenset(
        {
            Capability.READ,
            Capability.MANAGE_ALLOCATIONS,
            Capability.MOVE_GRANTS,
            Capability.VERIFY_REPORTS,
            Capability.MANAGE_USERS,
            Capability.VIEW_AUDIT,
            Capability.RECONCILE,
            Capability.MANAGE_REGIONS,
        }
    ),
    Role.PROVINCE_STAFF: frozenset(
        {Capability.READ, Capability.MOVE_GRANTS, Capability.VERIFY_REPORTS, Capability.RECONCILE}
    ),
    Role.REGENCY_OFFICER: frozenset({Capability.READ, Capability.SUBMIT_REPORTS}),
    # Auditors read everything, the audit trail included, and change nothing.
    Role.AUDITOR: frozenset({Capability.READ, Capability.VIEW_AUDIT}),
}


def has_capability(user: User | AnonymousUser, capability: Capability) -> bool:
    return capability in ROLE_CAPABILITIES.get(_role(user), frozenset())


def roles_with(capability: Capability) -> frozenset[str]:
    """The roles the policy gives `capability` (e.g. whom a command may record an import for)."""
    return frozenset(role for role, capabilities in ROLE_CAPABILITIES.items() if capability in capabilities)


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


class PolicyAdmin(admin.ModelAdmin):
    """The Django admin under the same policy as the pages and the API.

    The admin is the technical operators' tool: it opens to staff accounts (`is_staff`) only.
    Viewing a model also needs `view_capability`; its rows are restricted to the regency scope
    through `regency_field` (a model without one is shown to province-wide roles only).
    Adding, changing and deleting are for superusers, and for the roles with `change_capability`
    where a model names one; programme data changes through the services, not here.
    """

    regency_field: str | None = None
    view_capability: Capability = Capability.READ
    change_capability: Capability | None = None

    def _is_operator(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        if not self._is_operator(request):
            return False
        if self.regency_field is None and regency_scope(request.user) is not None:
            return False
        return request.user.is_superuser or has_capability(request.user, self.view_capability)

    def _may_change(self, request) -> bool:
        if not self._is_operator(request):
            return False
        if request.user.is_superuser:
            return True
        return self.change_capability is not None and has_capability(request.user, self.change_capability)

    def has_add_permission(self, request, obj=None) -> bool:
        return self._may_change(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may_change(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may_change(request)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.regency_field is None:
            return queryset
        return restrict_to_scope(queryset, request.user, regency_field=self.regency_field)


class ReadOnlyAdmin(PolicyAdmin):
    """Viewed under the access policy; changed by nobody here, superusers included: the rows change
    through their app's services only."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def _may_change(self, request) -> bool:
        return False
