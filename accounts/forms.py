"""Forms for the login, the own password and the administrators' account pages."""

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from accounts.services import Regency, UserInput
from smartvillage.forms import BootstrapForm


class LoginForm(auth_forms.AuthenticationForm):
    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        # Django's "Please enter a correct %(username)s and password" interpolates the field's verbose
        # name, which reads "nama pengguna nama pengguna" in Indonesian; and usernames are not
        # case-sensitive here (accounts.models.CanonicalUsername), only passwords are.
        "invalid_login": _("The username or password is not correct. The password is case-sensitive."),
    }


def lockout_message() -> str:
    minutes = int(settings.LOGIN_COOLOFF_MINUTES)
    return gettext("Too many failed attempts. Wait %(minutes)d minutes and try again.") % {"minutes": minutes}


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form (old password, new one twice, the password validators) with Bootstrap classes.

    The old password is checked through `authenticate()`, as the login checks it, so guessing it from
    a signed-in session (a borrowed phone, a stolen session cookie) is counted and locked out by the
    same rule as the login's (accounts/lockout.py), not tried without bound."""

    def __init__(self, user, *args, request, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control form-control-sm"

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        # Once locked out, axes' middleware answers the lockout page (429) instead of this form.
        if authenticate(self.request, username=self.user.get_username(), password=old_password) is None:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class UserForm(BootstrapForm):
    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    regency = forms.ModelChoiceField(
        label=_("Regency/city"),
        queryset=Regency.objects.filter(is_active=True).order_by("code"),
        to_field_name="code",
        required=False,
        help_text=_("Required for regency officers, empty for every other role."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, required=False, strip=False)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput, required=False, strip=False)

    def __init__(self, *args, user: User | None = None, **kwargs):
        if user is not None:
            kwargs.setdefault(
                "initial",
                {
                    "username": user.username,
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                    "email": user.email,
                    "role": user.role,
                    "regency": user.regency,
                    "is_active": user.is_active,
                },
            )
        super().__init__(*args, **kwargs)
        # A new account needs a password; for an existing one, an empty password keeps the current one.
        self.fields["password"].required = user is None
        if user is None:
            # No role is preselected: the first in the list is the administrator, and an account made in
            # a hurry must not get every right by default.
            self.fields["role"].choices = [("", _("Choose a role")), *Role.choices]
        if user is not None:
            self.fields["password"].help_text = _("Leave empty to keep the current password.")

    def clean(self):
        data = super().clean()
        if data.get("password") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data

    def user_input(self) -> UserInput:
        data = self.cleaned_data
        return UserInput(
            username=data["username"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            role=data["role"],
            regency=data["regency"],
            is_active=data["is_active"],
        )
