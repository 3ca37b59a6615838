"""The browser login, throttled against password guessing like the API token endpoint."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.utils.translation import gettext as _

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
