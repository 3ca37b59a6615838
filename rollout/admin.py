"""Admin: programme targets are edited here (through rollout.services, audited); statuses, reports and snapshots
only change through rollout.services elsewhere."""

from django.contrib import admin
from django.db import models

from accounts.access import Capability, PolicyAdmin, ReadOnlyAdmin
from rollout import services
from rollout.models import AdoptionSnapshot, ProgrammeTarget, ProgressReport, VillageStatus


@admin.register(ProgrammeTarget)
class ProgrammeTargetAdmin(PolicyAdmin):
    """Province administrators set the yearly targets the dashboard compares against; each change is audited."""

    change_capability = Capability.MANAGE_ALLOCATIONS
    list_display = ["year", "adopted_pct"]

    def save_model(self, request, obj, form, change):
        services.target_save(actor=request.user, target=obj)

    def delete_model(self, request, obj):
        services.target_delete(actor=request.user, target=obj)

    def delete_queryset(self, request, queryset):
        # The list's bulk delete, one audited delete per target.
        for target in queryset:
            services.target_delete(actor=request.user, target=target)


@admin.register(VillageStatus)
class VillageStatusAdmin(ReadOnlyAdmin):
    regency_field = "village__regency"
    list_display = ["village", "pillar1", "pillar2", "pillar3", "signal", "blocker", "last_verified_on"]
    list_filter = ["pillar1", "pillar2", "pillar3", "signal", "blocker", "village__regency"]
    list_select_related = ["village"]
    search_fields = ["village__code", "village__name"]
    show_full_result_count = False


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnlyAdmin):
    regency_field = "village__regency"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["village", "submitted_at", "submitted_by", "status", "reviewed_by", "is_correction"]
    list_filter = ["status", "is_correction", "village__regency"]
    list_select_related = ["village", "submitted_by", "reviewed_by"]
    search_fields = ["village__code", "village__name", "submitted_by__username"]
    show_full_result_count = False


@admin.register(AdoptionSnapshot)
class AdoptionSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["date", "level", "code", "name", "units", "adopted_units", "desa", "adopted_desa"]
    list_filter = ["level", "date"]
    search_fields = ["code", "name"]
