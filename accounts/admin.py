from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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
