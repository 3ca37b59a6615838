"""A password change, by the account itself or by an administrator, whatever the path, ends the
account's other sessions and revokes its API tokens."""

import getpass
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import AuditAction, AuditEntry, Role
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Kata-Sandi-Baru-2024"


@pytest.fixture
def root(db):
    return UserFactory(username="root", role=Role.PROVINCE_ADMIN, is_staff=True, is_superuser=True)


def _by_the_user(client, user, root, province_admin):
    client.force_login(user)
    response = client.post(
        reverse("accounts:password-change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.context["form"].errors
    return client  # the session that changed it


def _by_a_portal_administrator(client, user, root, province_admin):
    client.force_login(province_admin)
    data = {
        "username": user.username,
        "role": user.role,
        "regency": user.regency.code if user.regency_id else "",
        "is_active": "on",
    }
    response = client.post(
        reverse("accounts:user", args=[user.pk]), data | {"password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert response.status_code == 302, response.context["form"].errors


def _in_the_django_admin(client, user, root, province_admin):
    client.force_login(root)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors


def _with_the_changepassword_command(client, user, root, province_admin):
    # Django's command, which calls set_password() and save() outside the services; its prompt is
    # answered by the test's getpass (see the test).
    call_command("changepassword", user.username, stdout=io.StringIO())


PATHS = {
    "by the user": _by_the_user,
    "by a portal administrator": _by_a_portal_administrator,
    "in the Django admin": _in_the_django_admin,
    "with manage.py changepassword": _with_the_changepassword_command,
}
# The paths that go through the services, and so record the change in the audit trail.
AUDITED = {"by the user", "by a portal administrator", "in the Django admin"}


@pytest.mark.parametrize("path", PATHS)
def test_a_password_change_ends_other_sessions_and_revokes_api_tokens(
    path, client, officer_a, root, province_admin, monkeypatch
):
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": NEW_PASSWORD)
    other_session = type(client)()
    other_session.force_login(officer_a)
    assert other_session.get("/").status_code == 200
    token = Token.objects.create(user=officer_a)
    integration = APIClient()
    integration.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert integration.get("/api/v1/villages/").status_code == 200

    changer = PATHS[path](client, officer_a, root, province_admin)

    officer_a.refresh_from_db()
    assert officer_a.check_password(NEW_PASSWORD)
    assert not Token.objects.filter(user=officer_a).exists()
    assert integration.get("/api/v1/villages/").status_code == 401
    response = other_session.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    if changer is not None:  # the user's own session stays signed in
        assert changer.get("/").status_code == 200
    if path in AUDITED:
        entries = AuditEntry.objects.filter(object_type="accounts.user", object_id=str(officer_a.pk))
        assert {"password": ["***", "***"]} in [entry.changes for entry in entries]
        assert entries.filter(action=AuditAction.TOKENS_REVOKED).exists()
        assert NEW_PASSWORD not in str([entry.changes for entry in entries])


def test_a_new_token_can_be_obtained_with_the_new_password(client, officer_a):
    Token.objects.create(user=officer_a)
    _by_the_user(client, officer_a, None, None)

    old = APIClient().post("/api/v1/auth/token/", {"username": officer_a.username, "password": PASSWORD})
    new = APIClient().post("/api/v1/auth/token/", {"username": officer_a.username, "password": NEW_PASSWORD})

    assert old.status_code == 400
    assert new.status_code == 200


def test_the_own_password_change_checks_the_old_password_and_the_validators(client, officer_a):
    client.force_login(officer_a)
    url = reverse("accounts:password-change")

    wrong_old = client.post(
        url, {"old_password": "salah", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"})

    assert wrong_old.status_code == 200 and wrong_old.context["form"].errors["old_password"]
    assert weak.status_code == 200 and weak.context["form"].errors["new_password2"]
    officer_a.refresh_from_db()
    assert officer_a.check_password(PASSWORD)
    assert not AuditEntry.objects.exists()


def test_the_navbar_links_to_the_password_change(client, officer_a):
    client.force_login(officer_a)

    page = client.get("/").content.decode()

    assert f'href="{reverse("accounts:password-change")}"' in page
    assert client.get(reverse("accounts:password-change")).status_code == 200


def test_the_password_page_needs_a_login(client):
    response = client.get(reverse("accounts:password-change"))

    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_guessing_the_old_password_is_locked_out_like_a_login(client, officer_a, settings):
    # The page checked the old password with no count: a borrowed session could guess without bound.
    settings.AXES_FAILURE_LIMIT = 3
    client.force_login(officer_a)
    url = reverse("accounts:password-change")
    guess = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}

    guesses = [client.post(url, {"old_password": f"tebakan-{n}", **guess}) for n in range(3)]
    right = client.post(url, {"old_password": PASSWORD, **guess})
    login = Client().post("/login/", {"username": officer_a.username, "password": PASSWORD})

    assert all(r.context["form"].errors["old_password"] for r in guesses)
    assert right.status_code == 429
    assert "Terlalu banyak" in right.content.decode()
    assert login.status_code == 429  # the same count as the login's
    officer_a.refresh_from_db()
    assert officer_a.check_password(PASSWORD)
