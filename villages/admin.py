"""Admin: the registry under the access policy; it changes through `load_regions`, so only superusers edit here."""

from django.contrib import admin

from accounts.access import PolicyAdmin
from villages.models import District, Province, Regency, Village


@admin.register(Province)
class ProvinceAdmin(PolicyAdmin):
    list_display = ["code", "name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]


@admin.register(Regency)
class RegencyAdmin(PolicyAdmin):
    regency_field = "pk"
    list_display = ["code", "name", "kind", "province", "is_active"]
    list_filter = ["kind", "is_active", "province"]
    list_select_related = ["province"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["province"]


@admin.register(District)
class DistrictAdmin(PolicyAdmin):
    regency_field = "regency"
    list_display = ["code", "name", "regency", "is_active"]
    list_filter = ["is_active", "regency__province", "regency"]
    list_select_related = ["regency"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["regency"]


@admin.register(Village)
class VillageAdmin(PolicyAdmin):
    regency_field = "regency"
    list_display = ["code", "name", "kind", "district", "regency", "is_active"]
    list_filter = ["kind", "is_active", "regency__province", "regency"]
    list_select_related = ["district", "regency"]
    search_fields = ["code", "name", "district__name"]
    autocomplete_fields = ["district", "regency"]
    show_full_result_count = False
