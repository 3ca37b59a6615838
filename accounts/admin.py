"""Admin for accounts: under the access policy, every change recorded in the audit trail.

Province administrators manage accounts on the portal's own pages (accounts.views); this
admin is the technical operators' (superusers') fallback.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.access import Capability, PolicyAdmin
from accounts.models import AuditAction, User
from accounts.services import HIDDEN, USER_FIELDS, audit_record, changed_fields, field_values

# What the admin's forms can change, beyond the portal's own account form.
ADMIN_USER_FIELDS = (*USER_FIELDS, "is_staff", "is_superuser")


@admin.register(User)
class UserAdmin(PolicyAdmin, BaseUserAdmin):
    view_capability = Capability.MANAGE_USERS
    list_display = ["username", "email", "first_name", "last_name", "role", "regency", "is_active"]
    list_filter = ["role", "regency", "is_active", "is_staff"]
    list_select_related = ["regency"]
    autocomplete_fields = ["regency"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Programme role"), {"fields": ["role", "regency"]}),
    ]
    add_fieldsets = [
        *BaseUserAdmin.add_fieldsets,
        (_("Programme role"), {"fields": ["role", "regency"]}),
    ]

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        before = field_values(User.objects.get(pk=obj.pk), ADMIN_USER_FIELDS) if change else None
        super().save_model(request, obj, form, change)
        after = field_values(obj, ADMIN_USER_FIELDS)
        if before is None:
            changes = {name: [None, value] for name, value in after.items()}
            audit_record(actor=request.user, action=AuditAction.USER_CREATED, obj=obj, changes=changes)
        elif changes := changed_fields(before, after):
            audit_record(actor=request.user, action=AuditAction.USER_CHANGED, obj=obj, changes=changes)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = User.objects.get(pk=id)
            audit_record(
                actor=request.user, action=AuditAction.USER_CHANGED, obj=user, changes={"password": [HIDDEN, HIDDEN]}
            )
        return response
