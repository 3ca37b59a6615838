"""Authentication: Django's model backend, with the user's regency loaded along with the user."""

from django.contrib.auth.backends import ModelBackend

from accounts.models import User


class PortalBackend(ModelBackend):
    """Every page names the officer's regency (the navbar) and most scope by it: loading it with
    the user saves each request a query."""

    def get_user(self, user_id):
        try:
            user = User._default_manager.select_related("regency").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
