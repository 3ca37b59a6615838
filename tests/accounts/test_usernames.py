# ruff: noqa: RUF001 -- the point of these tests is letters that look alike.
"""Usernames are unique in the form login reads them (NFKC, lowercase): no path creates `STAF` beside
`staf`, and the database refuses it too. Usernames are stored in NFKC."""

import io
import os
import unicodedata

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from accounts import services
from accounts.models import Role, User
from smartvillage.errors import ApplicationError
from tests.accounts.spellings import spellings
from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Kata-Sandi-Baru-2024"
# A sample of the class for the slower paths (forms, commands); the database walks all of it below.
SAMPLE = ("STAF", "Staf", "ｓｔａｆ", "ＳＴＡＦ", "𝐬𝐭𝐚𝐟", "𝕊𝕥𝕒𝕗", "ſtaf")


@pytest.fixture
def staf(db):
    return UserFactory(username="staf", role=Role.PROVINCE_STAFF)


@pytest.fixture
def root(db):
    return UserFactory(username="root", role=Role.PROVINCE_ADMIN, is_staff=True, is_superuser=True)


def test_the_sample_spells_staf():
    assert {unicodedata.normalize("NFKC", username).lower() for username in SAMPLE} == {"staf"}


@pytest.mark.parametrize("username", SAMPLE)
def test_the_portal_account_form_refuses_another_spelling(client, province_admin, staf, username):
    client.force_login(province_admin)
    data = {"username": username, "role": Role.AUDITOR, "is_active": "on"}
    data |= {"password": NEW_PASSWORD, "password2": NEW_PASSWORD}

    response = client.post(reverse("accounts:user-new"), data)

    assert response.status_code == 200
    assert response.context["form"].errors, "the form accepted a second staf"
    assert User.objects.count() == 2


@pytest.mark.parametrize("username", SAMPLE)
def test_the_service_refuses_another_spelling_on_create_and_on_rename(province_admin, staf, username):
    with pytest.raises(ApplicationError) as refused:
        services.user_create(
            actor=province_admin, data=services.UserInput(username=username, role=Role.AUDITOR), password=NEW_PASSWORD
        )
    assert "username" in refused.value.fields
    other = UserFactory(username="lain", role=Role.AUDITOR)

    with pytest.raises(ApplicationError):
        services.user_update(
            actor=province_admin, user=other, data=services.UserInput(username=username, role="auditor")
        )

    other.refresh_from_db()
    assert other.username == "lain"


@pytest.mark.parametrize("username", SAMPLE)
def test_the_django_admin_refuses_another_spelling_on_add_and_on_change(client, root, staf, username):
    client.force_login(root)
    other = UserFactory(username="lain", role=Role.AUDITOR)

    added = client.post(
        reverse("admin:accounts_user_add"),
        {"username": username, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
        | {"role": Role.AUDITOR},
    )
    changed = client.post(
        reverse("admin:accounts_user_change", args=[other.pk]),
        {"username": username, "role": Role.AUDITOR, "is_active": "on", "date_joined_0": "2024-01-01"}
        | {"date_joined_1": "00:00:00"},
    )

    assert added.status_code == 200 and added.context["adminform"].form.errors
    assert changed.status_code == 200 and changed.context["adminform"].form.errors
    assert set(User.objects.values_list("username", flat=True)) == {"staf", "root", "lain"}


@pytest.mark.parametrize("username", SAMPLE)
def test_createsuperuser_refuses_another_spelling(staf, username, monkeypatch):
    monkeypatch.setitem(os.environ, "DJANGO_SUPERUSER_PASSWORD", NEW_PASSWORD)

    with pytest.raises(CommandError, match="already taken"):
        call_command("createsuperuser", interactive=False, username=username, email="", stdout=io.StringIO())

    assert User.objects.count() == 1


@pytest.mark.parametrize("username", SAMPLE)
def test_the_manager_and_a_plain_save_refuse_another_spelling(staf, username):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username=username, password=NEW_PASSWORD)
    with pytest.raises(IntegrityError), transaction.atomic():
        User(username=username).save()


@pytest.mark.postgres  # SQLite has no NFKC function: there the save (above) normalises
def test_the_database_refuses_every_spelling_however_it_is_inserted(staf):
    accepted = []
    for username in spellings("staf"):
        try:
            with transaction.atomic():
                User.objects.bulk_create([User(username=username, password="!")])  # no save(): the index alone
        except IntegrityError:
            continue
        accepted.append(username)

    assert accepted == []


@pytest.mark.postgres
def test_the_unique_index_is_on_the_canonical_form():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'user_username_canonical_unique'")
        (definition,) = cursor.fetchone()

    assert "(lower(normalize(username, nfkc)))" in definition.lower().replace('"', "")


def test_usernames_are_stored_in_nfkc_whatever_the_path(province_admin, registry):
    created = services.user_create(
        actor=province_admin,
        data=services.UserInput(username="ｐｅｔｕｇａｓ．ｂａｒｕ", role=Role.AUDITOR),
        password=NEW_PASSWORD,
    )
    made = User.objects.create_user(username="𝐨𝐩𝐞𝐫𝐚𝐭𝐨𝐫", password=NEW_PASSWORD)

    assert (created.username, made.username) == ("petugas.baru", "operator")
    assert set(User.objects.values_list("username", flat=True)) >= {"petugas.baru", "operator"}


def test_case_is_kept_for_display_and_ignored_at_login(province_admin):
    user = services.user_create(
        actor=province_admin, data=services.UserInput(username="Budi.Santoso", role=Role.AUDITOR), password=PASSWORD
    )

    assert user.username == "Budi.Santoso"
    for typed in ("budi.santoso", "BUDI.SANTOSO", "Budi.Santoso"):
        assert authenticate(RequestFactory().post("/login/"), username=typed, password=PASSWORD) == user
