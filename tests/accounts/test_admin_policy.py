"""The Django admin follows the same access policy as the pages and the API, and audits its changes."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import AuditAction, AuditEntry, Role
from rollout.models import ProgrammeTarget
from tests.factories import UserFactory
from villages.models import Village

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(registry):
    """A staff account (allowed into the admin) with a programme role."""

    def make(role: str, **fields):
        regency = registry.regency_a if role == Role.REGENCY_OFFICER else None
        return UserFactory(username=f"operator.{role}", role=role, regency=regency, is_staff=True, **fields)

    return make


@pytest.fixture
def root(db):
    return UserFactory(username="root", role=Role.PROVINCE_ADMIN, is_staff=True, is_superuser=True)


@pytest.mark.parametrize("role_fixture", ["auditor", "officer_a", "province_staff", "province_admin"])
def test_accounts_without_staff_status_never_enter_the_admin(client, request, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))

    response = client.get(reverse("admin:villages_village_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_an_officer_in_the_admin_sees_only_their_regency(client, operator, registry):
    client.force_login(operator(Role.REGENCY_OFFICER))
    other = Village.objects.filter(regency=registry.regency_b).first()

    listing = client.get(reverse("admin:villages_village_changelist"))

    assert listing.status_code == 200
    shown = {village.code for village in listing.context["cl"].result_list}
    assert shown == set(Village.objects.filter(regency=registry.regency_a).values_list("code", flat=True))
    assert client.get(reverse("admin:villages_village_change", args=[other.code])).status_code == 302  # "not found"
    assert client.get(reverse("admin:grants_allocation_changelist")).status_code == 403
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PROVINCE_STAFF, Role.PROVINCE_ADMIN])
def test_province_roles_view_but_do_not_change_programme_data_in_the_admin(client, operator, registry, role):
    client.force_login(operator(role))
    village = Village.objects.filter(regency=registry.regency_b).first()

    assert client.get(reverse("admin:villages_village_changelist")).status_code == 200
    assert client.get(reverse("admin:grants_grant_changelist")).status_code == 200
    assert client.get(reverse("admin:villages_village_add")).status_code == 403
    response = client.post(reverse("admin:villages_village_change", args=[village.code]), {"name": "Diubah"})
    assert response.status_code == 403
    village.refresh_from_db()
    assert village.name != "Diubah"


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.PROVINCE_STAFF])
def test_only_account_managers_see_accounts_in_the_admin(client, operator, role):
    client.force_login(operator(role))

    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403


def test_grant_events_are_read_only_even_for_superusers(client, root):
    client.force_login(root)

    assert client.get(reverse("admin:grants_grantevent_add")).status_code == 403


def test_a_superuser_changing_a_role_in_the_admin_is_audited(client, root, officer_a):
    client.force_login(root)
    change = reverse("admin:accounts_user_change", args=[officer_a.pk])
    data = {
        "username": officer_a.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "role": Role.AUDITOR,
        "regency": "",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2024-01-01",
        "initial-date_joined_1": "00:00:00",
    }

    response = client.post(change, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditEntry.objects.get(action=AuditAction.USER_CHANGED)
    assert entry.actor == root
    assert entry.changes["role"] == [Role.REGENCY_OFFICER, Role.AUDITOR]


def test_a_province_admin_changing_a_programme_target_is_audited(client, operator):
    admin_user = operator(Role.PROVINCE_ADMIN)
    target = ProgrammeTarget.objects.create(year=2024, adopted_pct=100)
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:rollout_programmetarget_change", args=[target.pk]), {"year": 2024, "adopted_pct": 90}
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=AuditAction.TARGET_CHANGED)
    assert (entry.actor, entry.changes) == (admin_user, {"adopted_pct": [100, 90]})


def test_staff_cannot_change_programme_targets(client, operator):
    target = ProgrammeTarget.objects.create(year=2024, adopted_pct=100)
    client.force_login(operator(Role.PROVINCE_STAFF))

    response = client.post(
        reverse("admin:rollout_programmetarget_change", args=[target.pk]), {"year": 2024, "adopted_pct": 1}
    )

    assert response.status_code == 403
    target.refresh_from_db()
    assert target.adopted_pct == 100
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    "change",
    [{"role": Role.AUDITOR, "regency": ""}, {"is_active": None}, {"is_staff": "on"}, {"is_superuser": "on"}],
)
def test_a_change_of_access_in_the_admin_revokes_the_api_token(client, root, officer_a, change):
    # As on the portal's account page: an integration keeps no access the account no longer has.
    token = Token.objects.create(user=officer_a)
    client.force_login(root)
    data = {
        "username": officer_a.username,
        "is_active": "on",
        "role": Role.REGENCY_OFFICER,
        "regency": officer_a.regency_id,
        "date_joined_0": "2024-01-01",
        "date_joined_1": "00:00:00",
    } | change

    response = client.post(
        reverse("admin:accounts_user_change", args=[officer_a.pk]), {k: v for k, v in data.items() if v is not None}
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not Token.objects.filter(key=token.key).exists()
    assert AuditEntry.objects.filter(action=AuditAction.TOKENS_REVOKED, object_id=str(officer_a.pk)).exists()


def test_a_province_admin_adding_a_programme_target_is_audited(client, operator):
    admin_user = operator(Role.PROVINCE_ADMIN)
    client.force_login(admin_user)

    response = client.post(reverse("admin:rollout_programmetarget_add"), {"year": 2025, "adopted_pct": 80})

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=AuditAction.TARGET_CHANGED)
    assert (entry.actor, entry.changes) == (admin_user, {"year": [None, 2025], "adopted_pct": [None, 80]})


def test_a_bulk_delete_of_programme_targets_in_the_admin_is_audited(client, operator):
    # The changelist's "delete selected" goes through the service as the single delete does.
    admin_user = operator(Role.PROVINCE_ADMIN)
    targets = [ProgrammeTarget.objects.create(year=year, adopted_pct=90) for year in (2024, 2025)]
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:rollout_programmetarget_changelist"),
        {"action": "delete_selected", "_selected_action": [t.pk for t in targets], "post": "yes"},
    )

    assert response.status_code == 302
    assert not ProgrammeTarget.objects.exists()
    entries = AuditEntry.objects.filter(action=AuditAction.TARGET_CHANGED)
    assert sorted(entry.object_repr for entry in entries) == ["2024: 90 %", "2025: 90 %"]
    assert {entry.actor for entry in entries} == {admin_user}
    assert all(entry.changes == {"adopted_pct": [90, None]} for entry in entries)
