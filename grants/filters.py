"""The grant list's filters, shared by the pages and the API."""

from django_filters import rest_framework as filters

from grants.models import Grant, GrantStatus

MAX_ID = 2**63 - 1  # BIGINT primary keys


class GrantFilter(filters.FilterSet):
    allocation = filters.NumberFilter(field_name="allocation_id", min_value=1, max_value=MAX_ID)
    regency = filters.CharFilter(field_name="village__regency__code", help_text="Regency code, e.g. 18.01")
    district = filters.CharFilter(field_name="village__district__code", help_text="District code, e.g. 18.01.04")
    status = filters.MultipleChoiceFilter(choices=GrantStatus.choices)

    class Meta:
        model = Grant
        fields = ["allocation", "regency", "district", "status"]
