"""Reads of the region registry, always within the reader's access scope."""

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.access import restrict_to_scope
from accounts.models import User
from villages.models import DESA_KINDS, District, Regency, Village, VillageKind


def _active_count(model, parent_field: str) -> Coalesce:
    """Count of the active `model` rows whose `parent_field` is the outer row, as a subquery.

    Subqueries rather than joins: joining districts and villages in one query
    would multiply the rows counted.
    """
    counted = (
        model.objects.filter(is_active=True, **{parent_field: OuterRef("pk")})
        .order_by()
        .values(parent_field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _village_counts(prefix: str = "villages") -> dict:
    active = Q(**{f"{prefix}__is_active": True})
    return {
        "desa_count": Count(prefix, filter=active & Q(**{f"{prefix}__kind__in": DESA_KINDS})),
        "kelurahan_count": Count(prefix, filter=active & Q(**{f"{prefix}__kind": VillageKind.KELURAHAN})),
    }


def regency_list(*, user: User) -> QuerySet[Regency]:
    """Regencies visible to `user` with their active district, desa and kelurahan counts."""
    queryset = Regency.objects.select_related("province").annotate(
        district_count=_active_count(District, "regency"), **_village_counts()
    )
    return restrict_to_scope(queryset, user, regency_field="pk").order_by("code")


def district_list(*, user: User) -> QuerySet[District]:
    """Districts visible to `user` with their desa and kelurahan counts."""
    queryset = District.objects.select_related("regency").annotate(**_village_counts())
    return restrict_to_scope(queryset, user, regency_field="regency").order_by("code")


def village_list(*, user: User) -> QuerySet[Village]:
    """Villages visible to `user`, with their district and regency loaded."""
    queryset = Village.objects.select_related("district", "regency")
    return restrict_to_scope(queryset, user, regency_field="regency").order_by("code")
