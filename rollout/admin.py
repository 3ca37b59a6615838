"""Admin: programme targets are edited here; statuses, reports and snapshots only change through rollout.services."""

from django.contrib import admin
from django.db import models

from grants.admin import ReadOnlyAdmin
from rollout.models import AdoptionSnapshot, ProgrammeTarget, ProgressReport, VillageStatus


@admin.register(ProgrammeTarget)
class ProgrammeTargetAdmin(admin.ModelAdmin):
    list_display = ["year", "adopted_pct"]


@admin.register(VillageStatus)
class VillageStatusAdmin(ReadOnlyAdmin):
    list_display = ["village", "pillar1", "pillar2", "pillar3", "signal", "blocker", "last_verified_on"]
    list_filter = ["pillar1", "pillar2", "pillar3", "signal", "blocker", "village__regency"]
    list_select_related = ["village"]
    search_fields = ["village__code", "village__name"]
    show_full_result_count = False


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnlyAdmin):
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
