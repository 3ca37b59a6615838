"""Authentication: the lockout check (django-axes) before Django's model backend, with the user's
regency loaded along with the user."""

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend

from accounts.models import User


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a locked-out client before any password is checked (see accounts/lockout.py).

    Every login over HTTP passes its request (the login form, the admin's, DRF's token serializer);
    a call without one (the shell, a management command, the test client's `login()`) has no client
    address to count against, so it is not counted rather than refused."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class PortalBackend(ModelBackend):
    """Every page names the officer's regency (the navbar) and most scope by it: loading it with
    the user saves each request a query."""

    def get_user(self, user_id):
        try:
            user = User._default_manager.select_related("regency").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
