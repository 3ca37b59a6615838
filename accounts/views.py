"""Account pages: the browser login (throttled against password guessing like the API token endpoint),
account management for province administrators, and the audit trail for auditors."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts import selectors, services
from accounts.access import Capability, require_capability
from accounts.forms import AuditFilterForm, UserForm
from accounts.models import Role, User
from smartvillage.errors import ApplicationError
from smartvillage.exports import EXPORT_FORMATS, export_response

# Failed logins allowed per client address and username within the window, then the form refuses.
LOGIN_FAILURE_LIMIT = 10
LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60


def _key(request) -> str:
    username = (request.POST.get("username") or "").strip().lower()
    return f"login-failures:{request.META.get('REMOTE_ADDR', '')}:{username}"


class ThrottledLoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        limit = getattr(settings, "LOGIN_FAILURE_LIMIT", LOGIN_FAILURE_LIMIT)
        if cache.get(_key(request), 0) >= limit:
            # Refused before the password is even checked: the guesser learns nothing.
            context = self.get_context_data(throttled=_("Too many failed attempts. Wait 15 minutes and try again."))
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        key = _key(self.request)
        cache.add(key, 0, LOGIN_FAILURE_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, LOGIN_FAILURE_WINDOW_SECONDS)
        return super().form_invalid(form)


# --- account management (province administrators) ------------------------------------------------

USERS_PAGE_SIZE = 50
AUDIT_PAGE_SIZE = 50


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
    context = {"form": form, "account": account, "history": selectors.audit_for_object(account)[:20]}
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


# --- the audit trail (auditors and province administrators; read only) ----------------------------


@login_required
@require_safe
def audit(request: HttpRequest) -> HttpResponse:
    require_capability(request.user, Capability.VIEW_AUDIT)
    form = AuditFilterForm(request.GET)
    query = form.query()
    page = Paginator(selectors.audit_trail(query=query), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    params = {name: value for name, value in request.GET.items() if name != "page" and value}
    context = {
        "form": form,
        "trail": query.trail,
        "page": page,
        "rows": list(selectors.audit_rows(query.trail, page)),
        "query": urlencode(params),
    }
    return render(request, "accounts/audit.html", context)


@login_required
@require_safe
def audit_export(request: HttpRequest) -> HttpResponse:
    require_capability(request.user, Capability.VIEW_AUDIT)
    file_format = request.GET.get("format", "csv")
    if file_format not in EXPORT_FORMATS:
        raise Http404
    query = AuditFilterForm(request.GET).query()
    return export_response(
        filename=f"audit-{query.trail}",
        headers=[_("Time"), _("By"), _("Action"), _("Object"), _("Details")],
        rows=selectors.audit_rows(query.trail, selectors.audit_trail(query=query).iterator()),
        file_format=file_format,
    )
