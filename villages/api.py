"""Read-only REST API of the region registry.

A unit's former code (from an earlier Kemendagri list) still answers: `GET /api/v1/villages/{former code}/`
is a 301 redirect to the unit under its current code (also `.../history/`), so a link or an integration that
kept an old code finds the unit; `history/` lists the unit's codes, names, parents and kinds over time.
"""

import django_filters
from django.db.models import Q
from django.http import HttpResponsePermanentRedirect
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from smartvillage.api import ValuesListMixin, lookup_any_segment
from villages import selectors
from villages.models import District, Regency, RegencyKind, RegionVersion, Village, VillageKind

# The `{code}` of a detail route, documented in its Kemendagri format; any other value is answered 404.
CODE_PARAMETER = OpenApiParameter(
    "code",
    str,
    OpenApiParameter.PATH,
    pattern=r"^[0-9]{2}(\.[0-9]{2}){0,2}(\.[0-9]{4})?$",
    description="Kemendagri code, e.g. 18.01, 18.01.04 or 18.01.04.2001",
)


class RegencyOutputSerializer(serializers.ModelSerializer):
    province = serializers.CharField(source="province.code")
    district_count = serializers.IntegerField()
    desa_count = serializers.IntegerField()
    kelurahan_count = serializers.IntegerField()

    class Meta:
        model = Regency
        fields = ["code", "name", "kind", "province", "is_active", "district_count", "desa_count", "kelurahan_count"]


class DistrictOutputSerializer(serializers.ModelSerializer):
    regency = serializers.CharField(source="regency.code")
    regency_name = serializers.CharField(source="regency.name")
    desa_count = serializers.IntegerField()
    kelurahan_count = serializers.IntegerField()

    class Meta:
        model = District
        fields = ["code", "name", "regency", "regency_name", "is_active", "desa_count", "kelurahan_count"]


class VillageOutputSerializer(serializers.ModelSerializer):
    district = serializers.CharField(source="district.code")
    district_name = serializers.CharField(source="district.name")
    regency = serializers.CharField(source="regency.code")
    regency_name = serializers.CharField(source="regency.name")

    class Meta:
        model = Village
        fields = ["code", "name", "kind", "district", "district_name", "regency", "regency_name", "is_active"]


class VersionOutputSerializer(serializers.ModelSerializer):
    inherited = serializers.BooleanField(
        help_text="A version of a unit now within this one, from before this unit existed (e.g. the villages of "
        "a district created by a split, under their former codes)."
    )

    class Meta:
        model = RegionVersion
        fields = [
            "level",
            "code",
            "name",
            "parent_code",
            "kind",
            "decree",
            "valid_from",
            "valid_to",
            "cause",
            "inherited",
        ]


def _former_names(queryset, name: str, value: str):
    """Units whose current or any former name contains `value` (case-insensitive)."""
    if not value:
        return queryset
    level = queryset.model._meta.model_name
    former = RegionVersion.objects.filter(level=level, name__icontains=value).values(f"{level}_id")
    return queryset.filter(Q(name__icontains=value) | Q(pk__in=former))


NAME_HELP = "Part of the unit's current or a former name (from an earlier list), e.g. Negeri Batin"


class RegencyFilter(django_filters.FilterSet):
    province = django_filters.CharFilter(field_name="province__code", help_text="Province code, e.g. 18")
    kind = django_filters.ChoiceFilter(choices=RegencyKind.choices)
    name = django_filters.CharFilter(method=_former_names, help_text=NAME_HELP)

    class Meta:
        model = Regency
        fields = ["province", "kind", "is_active", "name"]


class DistrictFilter(django_filters.FilterSet):
    regency = django_filters.CharFilter(field_name="regency__code", help_text="Regency code, e.g. 18.01")

    name = django_filters.CharFilter(method=_former_names, help_text=NAME_HELP)

    class Meta:
        model = District
        fields = ["regency", "is_active", "name"]


class VillageFilter(django_filters.FilterSet):
    regency = django_filters.CharFilter(field_name="regency__code", help_text="Regency code, e.g. 18.01")
    district = django_filters.CharFilter(field_name="district__code", help_text="District code, e.g. 18.01.01")
    kind = django_filters.ChoiceFilter(choices=VillageKind.choices)
    name = django_filters.CharFilter(method=_former_names, help_text=NAME_HELP)

    class Meta:
        model = Village
        fields = ["regency", "district", "kind", "is_active", "name"]


MOVED = OpenApiResponse(
    description="The code is a former code of the unit (from an earlier Kemendagri list): Moved Permanently, "
    "`Location` is the same route under the unit's current code.",
)


class FormerCodesMixin:
    """Detail routes by code that also take a unit's former code: answered 301 with the current code's URL."""

    def _unit(self):
        code = self.kwargs[self.lookup_field]
        queryset = self.get_queryset()
        unit, current = selectors.unit_by_code(model=queryset.model, code=code, queryset=queryset)
        if unit is None:
            raise NotFound
        return unit, current

    def _moved(self, request, unit):
        url = self.reverse_action(self.action if self.action != "retrieve" else "detail", kwargs={"code": unit.code})
        query = request.META.get("QUERY_STRING")
        return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)

    def retrieve(self, request, *args, **kwargs):
        unit, current = self._unit()
        if not current:
            return self._moved(request, unit)
        self.check_object_permissions(request, unit)
        return Response(self.get_serializer(unit).data)

    @extend_schema(responses={200: VersionOutputSerializer(many=True), 301: MOVED}, filters=False)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request, *args, **kwargs):
        """The unit's codes, names, parents and kinds over time, each with its decree and validity (`valid_to`
        empty while current); for a unit created by a split, its units' earlier versions, marked inherited."""
        unit, current = self._unit()
        if not current:
            return self._moved(request, unit)
        return Response(VersionOutputSerializer(selectors.unit_history(unit=unit), many=True).data)


@lookup_any_segment(CODE_PARAMETER)
class RegencyViewSet(FormerCodesMixin, viewsets.ReadOnlyModelViewSet):
    """Regencies (kabupaten) and cities (kota) with their active unit counts."""

    serializer_class = RegencyOutputSerializer
    filterset_class = RegencyFilter
    search_fields = ["name", "^code"]
    lookup_field = "code"

    @extend_schema(responses={200: RegencyOutputSerializer, 301: MOVED})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.regency_list(user=self.request.user)


@lookup_any_segment(CODE_PARAMETER)
class DistrictViewSet(FormerCodesMixin, viewsets.ReadOnlyModelViewSet):
    """Districts (kecamatan) with their active desa and kelurahan counts."""

    serializer_class = DistrictOutputSerializer
    filterset_class = DistrictFilter
    search_fields = ["name", "^code"]
    lookup_field = "code"

    @extend_schema(responses={200: DistrictOutputSerializer, 301: MOVED})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.district_list(user=self.request.user)


@lookup_any_segment(CODE_PARAMETER)
class VillageViewSet(FormerCodesMixin, ValuesListMixin, viewsets.ReadOnlyModelViewSet):
    """Villages: desa, kelurahan and desa adat."""

    serializer_class = VillageOutputSerializer
    filterset_class = VillageFilter
    search_fields = ["name", "^code"]
    lookup_field = "code"

    @extend_schema(responses={200: VillageOutputSerializer, 301: MOVED})
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.village_list(user=self.request.user)
