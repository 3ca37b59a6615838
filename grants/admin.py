"""Admin: a read-only window on grants. Money moves only through grants.services (pages and API)."""

from django.contrib import admin

from accounts.access import ReadOnlyAdmin
from grants.models import Allocation, Disbursement, Grant, GrantEvent


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = ["fiscal_year", "funding_source", "province", "total_amount", "committed_amount", "status"]
    list_filter = ["status", "fiscal_year", "province"]
    search_fields = ["funding_source", "legal_basis"]


@admin.register(Disbursement)
class DisbursementAdmin(ReadOnlyAdmin):
    list_display = ["reference", "allocation", "transfer_date", "amount", "created_by"]
    list_filter = ["allocation", "transfer_date"]
    list_select_related = ["allocation", "created_by"]
    search_fields = ["reference"]


class GrantEventInline(admin.TabularInline):
    model = GrantEvent
    fields = ["created_at", "action", "from_status", "to_status", "actor", "amount", "reference", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True  # shown inside a grant the policy already let this user see


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin):
    regency_field = "village__regency"
    list_display = ["village", "allocation", "amount", "status", "disbursement", "returned_amount", "spent_amount"]
    list_filter = ["status", "allocation", "village__regency"]
    list_select_related = ["village", "allocation", "disbursement"]
    search_fields = ["village__code", "village__name", "disbursement__reference"]
    inlines = [GrantEventInline]
    show_full_result_count = False


@admin.register(GrantEvent)
class GrantEventAdmin(ReadOnlyAdmin):
    regency_field = "grant__village__regency"
    list_display = ["created_at", "grant", "action", "from_status", "to_status", "actor", "amount", "reference"]
    list_filter = ["action", "to_status"]
    list_select_related = ["grant__village", "grant__allocation", "actor"]  # a grant is shown by its village code
    search_fields = ["grant__village__code", "reference", "actor__username"]
