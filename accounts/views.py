"""Account pages: the browser login and the own password, and account management for province
administrators."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.access import Capability, require_capability
from accounts.forms import LoginForm, PasswordChangeForm, UserForm
from accounts.models import Role, User
from smartvillage.errors import ApplicationError


class LoginView(auth_views.LoginView):
    """The browser login. Password guessing is counted by django-axes (accounts/lockout.py), which
    refuses a locked-out client with status 429 before its password is checked."""

    form_class = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    """Any signed-in user changes their own password: their other sessions end and their API tokens
    are revoked (services.user_password_change); this session stays signed in."""

    form_class = PasswordChangeForm
    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("home")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        user = services.user_password_change(
            actor=self.request.user, user=self.request.user, password=form.cleaned_data["new_password1"]
        )
        update_session_auth_hash(self.request, user)
        messages.success(self.request, _("Your password is changed. Your other sessions and API tokens have ended."))
        return redirect(self.get_success_url())


# --- account management (province administrators) ------------------------------------------------

USERS_PAGE_SIZE = 50


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    require_capability(request.user, Capability.MANAGE_USERS)
    filters = {name: request.GET.get(name, "").strip() for name in ("q", "role", "regency", "active")}
    users = selectors.user_list(**filters)
    page = Paginator(users, USERS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "roles": Role.choices,
        "query": urlencode({name: value for name, value in filters.items() if value}),
    }
    return render(request, "accounts/user_list.html", context)


@login_required
def user_new(request: HttpRequest) -> HttpResponse:
    require_capability(request.user, Capability.MANAGE_USERS)
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(
                actor=request.user, data=form.user_input(), password=form.cleaned_data["password"]
            )
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Account %(username)s created.") % {"username": user.username})
            return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"form": form, "account": None})


@login_required
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_capability(request.user, Capability.MANAGE_USERS)
    account = get_object_or_404(selectors.user_list(), pk=pk)
    form = UserForm(request.POST or None, user=account)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(
                actor=request.user,
                user=account,
                data=form.user_input(),
                password=form.cleaned_data["password"] or None,
            )
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Account %(username)s saved.") % {"username": form.cleaned_data["username"]})
            return redirect("accounts:users")
    context = {"form": form, "account": account, "history": selectors.audit_for_object(obj=account)[:20]}
    return render(request, "accounts/user_form.html", context)


@login_required
@require_POST
def user_revoke_tokens(request: HttpRequest, pk: int) -> HttpResponse:
    require_capability(request.user, Capability.MANAGE_USERS)
    account = get_object_or_404(User, pk=pk)
    if services.user_tokens_revoke(actor=request.user, user=account):
        messages.success(request, _("The API token of %(username)s is revoked.") % {"username": account.username})
    else:
        messages.info(request, _("%(username)s has no API token.") % {"username": account.username})
    return redirect("accounts:user", pk=pk)
