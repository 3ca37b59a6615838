"""Province administrators manage accounts on the portal; every change is in the audit trail."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import AuditAction, AuditEntry, Role, User
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Kata-Sandi-Baru-2024"


def form_data(**overrides) -> dict:
    data = {
        "username": "petugas.baru",
        "first_name": "Siti",
        "last_name": "Aminah",
        "email": "siti@example.org",
        "role": Role.REGENCY_OFFICER,
        "regency": "18.01",
        "is_active": "on",
        "password": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def edit_data(user: User, **overrides) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "regency": user.regency.code if user.regency_id else "",
        "is_active": "on" if user.is_active else None,
        "password": "",
        "password2": "",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


@pytest.fixture
def admin_client(client, province_admin):
    client.force_login(province_admin)
    return client


def test_an_admin_creates_a_regency_officer_who_can_then_log_in(admin_client, province_admin, registry, client):
    response = admin_client.post(reverse("accounts:user-new"), form_data())

    assert response.status_code == 302
    user = User.objects.get(username="petugas.baru")
    assert (user.role, user.regency.code, user.is_active) == (Role.REGENCY_OFFICER, "18.01", True)
    entry = AuditEntry.objects.get(object_type="accounts.user", object_id=str(user.pk))
    assert (entry.action, entry.actor) == (AuditAction.USER_CREATED, province_admin)
    assert entry.changes["role"] == [None, Role.REGENCY_OFFICER]
    assert entry.changes["regency"] == [None, "18.01"]
    client.logout()
    assert client.login(username="petugas.baru", password=NEW_PASSWORD)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"regency": ""}, "regency"),  # an officer needs a regency
        ({"password2": "something-else-9"}, "password2"),
        ({"password": "123", "password2": "123"}, "password"),  # too short and numeric
        ({"username": "admin.provinsi"}, "username"),  # taken
        ({"username": "bad name!"}, "username"),
        ({"role": "superuser"}, "role"),
        ({"role": ""}, "role"),  # no role is chosen for the admin
        ({"regency": "99.99"}, "regency"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_an_invalid_account_is_refused_with_a_field_error_and_nothing_written(admin_client, registry, overrides, field):
    users_before = User.objects.count()

    response = admin_client.post(reverse("accounts:user-new"), form_data(**overrides))

    assert response.status_code == 200
    assert response.context["form"].errors.get(field), response.context["form"].errors
    assert User.objects.count() == users_before
    assert not AuditEntry.objects.exists()


def test_a_new_account_has_no_role_until_one_is_chosen(admin_client):
    # The form used to open with "Province administrator" selected, the first role in the list.
    page = admin_client.get(reverse("accounts:user-new")).content.decode()

    role_select = page[page.index('name="role"') : page.index("</select>", page.index('name="role"'))]
    assert role_select.count("selected") == 1
    assert '<option value="" selected>' in role_select


def test_a_province_role_never_keeps_a_regency(admin_client, registry):
    admin_client.post(reverse("accounts:user-new"), form_data(role=Role.AUDITOR))

    assert User.objects.get(username="petugas.baru").regency_id is None


def test_a_role_change_is_audited_and_revokes_the_api_token(admin_client, province_admin, officer_a, api_client):
    token = Token.objects.create(user=officer_a)

    response = admin_client.post(reverse("accounts:user", args=[officer_a.pk]), edit_data(officer_a, role="auditor"))

    assert response.status_code == 302
    officer_a.refresh_from_db()
    assert (officer_a.role, officer_a.regency_id) == (Role.AUDITOR, None)
    changed = AuditEntry.objects.get(action=AuditAction.USER_CHANGED)
    assert changed.changes == {"role": [Role.REGENCY_OFFICER, Role.AUDITOR], "regency": ["18.01", None]}
    assert AuditEntry.objects.filter(action=AuditAction.TOKENS_REVOKED, object_id=str(officer_a.pk)).exists()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/v1/villages/").status_code == 401


def test_a_deactivated_account_can_no_longer_log_in_or_use_its_session(admin_client, officer_a, client):
    officer_client = type(client)()
    officer_client.force_login(officer_a)

    admin_client.post(reverse("accounts:user", args=[officer_a.pk]), edit_data(officer_a, is_active=None))

    officer_a.refresh_from_db()
    assert not officer_a.is_active
    assert officer_client.get("/").status_code == 302  # the open session no longer works
    assert not type(client)().login(username=officer_a.username, password=PASSWORD)


def test_a_new_password_is_audited_without_its_value(admin_client, officer_a):
    admin_client.post(
        reverse("accounts:user", args=[officer_a.pk]),
        edit_data(officer_a, password=NEW_PASSWORD, password2=NEW_PASSWORD),
    )

    entry = AuditEntry.objects.get(action=AuditAction.USER_CHANGED)
    assert entry.changes == {"password": ["***", "***"]}
    assert NEW_PASSWORD not in str(entry.changes)
    officer_a.refresh_from_db()
    assert officer_a.check_password(NEW_PASSWORD)


def test_saving_an_unchanged_account_records_nothing(admin_client, officer_a):
    response = admin_client.post(reverse("accounts:user", args=[officer_a.pk]), edit_data(officer_a))

    assert response.status_code == 302
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("overrides", [{"role": Role.PROVINCE_STAFF}, {"is_active": None}])
def test_an_admin_cannot_remove_their_own_administration_rights(admin_client, province_admin, overrides):
    response = admin_client.post(
        reverse("accounts:user", args=[province_admin.pk]), edit_data(province_admin, **overrides)
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    province_admin.refresh_from_db()
    assert (province_admin.role, province_admin.is_active) == (Role.PROVINCE_ADMIN, True)
    assert not AuditEntry.objects.exists()


def test_an_admin_revokes_an_accounts_api_token(admin_client, province_admin, officer_a, api_client):
    token = Token.objects.create(user=officer_a)

    response = admin_client.post(reverse("accounts:user-revoke-tokens", args=[officer_a.pk]))

    assert response.status_code == 302
    assert not Token.objects.filter(user=officer_a).exists()
    entry = AuditEntry.objects.get(action=AuditAction.TOKENS_REVOKED)
    assert (entry.actor, entry.object_id) == (province_admin, str(officer_a.pk))
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/v1/villages/").status_code == 401


def test_revoking_an_absent_token_records_nothing(admin_client, officer_a):
    admin_client.post(reverse("accounts:user-revoke-tokens", args=[officer_a.pk]))

    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("role_fixture", ["province_staff", "auditor", "officer_a"])
def test_only_province_admins_manage_accounts(client, request, role_fixture, officer_b):
    client.force_login(request.getfixturevalue(role_fixture))

    assert client.get(reverse("accounts:users")).status_code == 403
    assert client.post(reverse("accounts:user-new"), form_data()).status_code == 403
    assert client.post(reverse("accounts:user", args=[officer_b.pk]), edit_data(officer_b)).status_code == 403
    assert client.post(reverse("accounts:user-revoke-tokens", args=[officer_b.pk])).status_code == 403
    assert not User.objects.filter(username="petugas.baru").exists()


def test_the_account_list_filters_and_escapes_names(admin_client, officer_a, officer_b):
    UserFactory(username="jahil", first_name="<script>alert(1)</script>", role=Role.AUDITOR)

    listed = admin_client.get(reverse("accounts:users"), {"role": Role.REGENCY_OFFICER}).content.decode()
    everyone = admin_client.get(reverse("accounts:users")).content.decode()

    assert "petugas.a" in listed and "petugas.b" in listed and "jahil" not in listed
    assert "<script>alert(1)</script>" not in everyone
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in everyone


def test_the_account_list_runs_a_constant_number_of_queries(admin_client, registry):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(reverse("accounts:users")).status_code == 200
        return len(captured)

    UserFactory.create_batch(2, role=Role.REGENCY_OFFICER, regency=registry.regency_a)
    few = queries()
    UserFactory.create_batch(20, role=Role.REGENCY_OFFICER, regency=registry.regency_b)

    assert queries() == few
