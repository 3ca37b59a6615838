"""Read-only REST API of the region registry."""

import django_filters
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, viewsets

from smartvillage.api import ValuesListMixin, lookup_any_segment
from villages import selectors
from villages.models import District, Regency, RegencyKind, Village, VillageKind

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


class RegencyFilter(django_filters.FilterSet):
    province = django_filters.CharFilter(field_name="province__code", help_text="Province code, e.g. 18")
    kind = django_filters.ChoiceFilter(choices=RegencyKind.choices)

    class Meta:
        model = Regency
        fields = ["province", "kind", "is_active"]


class DistrictFilter(django_filters.FilterSet):
    regency = django_filters.CharFilter(field_name="regency__code", help_text="Regency code, e.g. 18.01")

    class Meta:
        model = District
        fields = ["regency", "is_active"]


class VillageFilter(django_filters.FilterSet):
    regency = django_filters.CharFilter(field_name="regency__code", help_text="Regency code, e.g. 18.01")
    district = django_filters.CharFilter(field_name="district__code", help_text="District code, e.g. 18.01.01")
    kind = django_filters.ChoiceFilter(choices=VillageKind.choices)

    class Meta:
        model = Village
        fields = ["regency", "district", "kind", "is_active"]


@lookup_any_segment(CODE_PARAMETER)
class RegencyViewSet(viewsets.ReadOnlyModelViewSet):
    """Regencies (kabupaten) and cities (kota) with their active unit counts."""

    serializer_class = RegencyOutputSerializer
    filterset_class = RegencyFilter
    search_fields = ["name", "^code"]
    lookup_field = "code"

    def get_queryset(self):
        return selectors.regency_list(user=self.request.user)


@lookup_any_segment(CODE_PARAMETER)
class DistrictViewSet(viewsets.ReadOnlyModelViewSet):
    """Districts (kecamatan) with their active desa and kelurahan counts."""

    serializer_class = DistrictOutputSerializer
    filterset_class = DistrictFilter
    search_fields = ["name", "^code"]
    lookup_field = "code"

    def get_queryset(self):
        return selectors.district_list(user=self.request.user)


@lookup_any_segment(CODE_PARAMETER)
class VillageViewSet(ValuesListMixin, viewsets.ReadOnlyModelViewSet):
    """Villages: desa, kelurahan and desa adat."""

    serializer_class = VillageOutputSerializer
    filterset_class = VillageFilter
    search_fields = ["name", "^code"]
    lookup_field = "code"

    def get_queryset(self):
        return selectors.village_list(user=self.request.user)
