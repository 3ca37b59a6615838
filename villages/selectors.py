"""Reads of the region registry, always within the reader's access scope."""

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.access import restrict_to_scope
from accounts.models import User
from villages.models import DESA_KINDS, District, Regency, Region, RegionVersion, VersionCause, Village, VillageKind


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


def unit_by_code(*, model: type[Region], code: str, queryset: QuerySet | None = None) -> tuple[Region | None, bool]:
    """The unit of `model` whose current code is `code` (and True); else the unit that had the code last, in an
    earlier list (and False: the caller answers with the unit's current code); else (None, False).

    `queryset` (default: all units of `model`) is where the unit is looked for, e.g. the reader's scope: one
    query when the code is current, three at most when it is not."""
    queryset = model.objects.all() if queryset is None else queryset
    unit = queryset.filter(code=code).first()
    if unit is not None:
        return unit, True
    level = model._meta.model_name
    former = (
        RegionVersion.objects.filter(level=level, code=code)
        .order_by("-valid_from", "-id")
        .values_list(f"{level}_id", flat=True)
        .first()
    )
    if former is None:
        return None, False
    return queryset.filter(pk=former).first(), False


# Per level: the units within a unit, as (level, lookup from that level's model to the unit).
_WITHIN = {
    "province": (("regency", "province"), ("district", "regency__province"), ("village", "regency__province")),
    "regency": (("district", "regency"), ("village", "regency")),
    "district": (("village", "district"),),
    "village": (),
}
_MODELS = {"regency": Regency, "district": District, "village": Village}


def unit_history(*, unit: Region) -> list[RegionVersion]:
    """The unit's versions (codes, names, parents, kinds over time, with their decrees), oldest first, each
    with `inherited` False; then, for a unit that began with a list (a district created by a split), the
    versions of the units now within it that ended before it began, `inherited` True: their history from
    before the split. A query per level, whatever the number of versions."""
    level = unit._meta.model_name
    own = list(RegionVersion.objects.filter(**{level: unit}).order_by("valid_from", "id"))
    for version in own:
        version.inherited = False
    began = own[0].valid_from if own else None
    if began is None or own[0].cause == VersionCause.LISTED:
        return own
    inherited = []
    for child, lookup in _WITHIN[level]:
        within = _MODELS[child].objects.filter(**{lookup: unit}).values("pk")
        inherited += RegionVersion.objects.filter(
            level=child, **{f"{child}__in": within}, valid_to__lte=began
        ).order_by("valid_from", "code", "id")
    for version in inherited:
        version.inherited = True
    return own + inherited
