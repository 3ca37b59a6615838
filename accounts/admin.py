"""Admin for accounts: under the access policy, every change recorded in the audit trail.

Province administrators manage accounts on the portal's own pages (accounts.views); this
admin is the technical operators' (superusers') fallback.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.access import Capability, PolicyAdmin
from accounts.models import User


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

    def save_model(self, request, obj, form, change):
        services.user_save_from_admin(actor=request.user, user=obj)

    def user_change_password(self, request, id, form_url=""):
        """Django's password page, but a valid POST goes through the service, which also ends the
        account's sessions and revokes its API tokens, audited."""
        if request.method != "POST":
            return super().user_change_password(request, id, form_url)
        user = self.get_object(request, unquote(id))
        if user is None or not self.has_change_permission(request, user):
            # Django's own answers (404, 403) for these.
            return super().user_change_password(request, id, form_url)
        form = self.change_password_form(user, request.POST)
        if not form.is_valid() or not (form.cleaned_data["set_usable_password"] or "unset-password" in request.POST):
            return super().user_change_password(request, id, form_url)  # the form again, with its errors
        password = form.cleaned_data["password1"] if form.cleaned_data["set_usable_password"] else None
        user = services.user_password_change(actor=request.user, user=user, password=password)
        self.log_change(request, user, self.construct_change_message(request, form, None))
        messages.success(request, _("Password changed successfully.") if password else _("Password login disabled."))
        update_session_auth_hash(request, user)  # keeps the administrator's own session if it was theirs
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:accounts_user_change", args=(user.pk,)))
