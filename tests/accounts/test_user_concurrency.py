"""Two administrators racing on accounts, with real threads on PostgreSQL."""

import itertools

import pytest

from accounts import services
from accounts.models import AuditAction, AuditEntry, Role, User
from smartvillage.errors import ApplicationError
from tests.grants.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_admins_creating_the_same_username_get_one_account_and_one_clear_refusal(province_admin):
    data = services.UserInput(username="petugas.kembar", role=Role.AUDITOR)
    calls = [lambda: services.user_create(actor=province_admin, data=data, password="Kata-Sandi-Baru-2024")] * 4

    results, errors = run_together(calls)

    assert len(results) == 1
    assert len(errors) == 3 and all(isinstance(error, ApplicationError) for error in errors)
    assert all("username" in error.fields for error in errors)
    assert User.objects.filter(username="petugas.kembar").count() == 1
    assert AuditEntry.objects.filter(action=AuditAction.USER_CREATED).count() == 1


def test_admins_creating_spellings_of_one_username_at_once_get_one_account(province_admin):
    spellings = [
        "petugas.kembar",
        "PETUGAS.KEMBAR",
        "Petugas.Kembar",
        "\uff30\uff25\uff34\uff35\uff27\uff21\uff33.kembar",
    ]
    calls = [
        (
            lambda username=username: services.user_create(
                actor=province_admin,
                data=services.UserInput(username=username, role=Role.AUDITOR),
                password="Kata-Sandi-Baru-2024",
            )
        )
        for username in spellings
    ]

    results, errors = run_together(calls)

    assert len(results) == 1
    assert len(errors) == 3 and all(isinstance(error, ApplicationError) for error in errors)
    assert all("username" in error.fields for error in errors)
    assert User.objects.with_username("petugas.kembar").count() == 1
    assert AuditEntry.objects.filter(action=AuditAction.USER_CREATED).count() == 1


def test_concurrent_role_changes_each_leave_an_audit_entry_matching_the_final_state(province_admin, officer_a):
    roles = [Role.AUDITOR, Role.PROVINCE_STAFF, Role.AUDITOR, Role.PROVINCE_STAFF]
    calls = [
        (
            lambda role=role: services.user_update(
                actor=province_admin,
                user=officer_a,
                data=services.UserInput(username=officer_a.username, role=role),
            )
        )
        for role in roles
    ]

    _results, errors = run_together(calls)

    assert errors == []
    officer_a.refresh_from_db()
    entries = list(AuditEntry.objects.filter(action=AuditAction.USER_CHANGED).order_by("id"))
    # Row locks serialise the updates: each entry starts where the previous one ended.
    assert entries[0].changes["role"][0] == Role.REGENCY_OFFICER
    for previous, following in itertools.pairwise(entries):
        assert following.changes["role"][0] == previous.changes["role"][1]
    assert entries[-1].changes["role"][1] == officer_a.role
