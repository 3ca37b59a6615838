import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from accounts.access import regency_scope, restrict_to_scope
from accounts.models import Role, User
from tests.factories import UserFactory
from villages.models import Village

pytestmark = pytest.mark.django_db


def test_a_regency_officer_without_a_regency_is_refused_by_validation(db):
    user = User(username="petugas", role=Role.REGENCY_OFFICER)

    with pytest.raises(ValidationError) as caught:
        user.full_clean()

    assert "regency" in caught.value.message_dict


def test_a_regency_officer_without_a_regency_is_refused_by_the_database(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="petugas", role=Role.REGENCY_OFFICER)


def test_a_province_role_with_a_regency_is_refused(registry):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="staf", role=Role.PROVINCE_STAFF, regency=registry.regency_a)


def test_a_new_user_gets_the_least_privileged_role(db):
    assert User.objects.create_user(username="baru", password="x-y-z-123456").role == Role.AUDITOR


@pytest.mark.parametrize("role", [Role.PROVINCE_ADMIN, Role.PROVINCE_STAFF, Role.AUDITOR])
def test_province_roles_see_every_regency(registry, role):
    user = UserFactory(role=role)

    assert regency_scope(user) is None
    assert restrict_to_scope(Village.objects.all(), user, regency_field="regency").count() == Village.objects.count()


def test_an_officer_sees_only_the_own_regency(officer_a):
    visible = restrict_to_scope(Village.objects.all(), officer_a, regency_field="regency")
    # A path to the regency's code is read as the regency itself: the same rows.
    by_code = restrict_to_scope(Village.objects.all(), officer_a, regency_field="regency__code")

    assert regency_scope(officer_a) == officer_a.regency.pk  # the unit, never its code
    assert set(visible.values_list("regency__code", flat=True)) == {"18.01"}
    assert list(by_code.order_by("code")) == list(visible.order_by("code"))


def test_the_policy_fails_closed_for_a_user_without_role_or_regency(registry):
    broken = User(username="rusak", role=Role.REGENCY_OFFICER)  # never saved: the database refuses it

    assert not restrict_to_scope(Village.objects.all(), broken, regency_field="regency").exists()


def test_seed_demo_creates_accounts_that_can_log_in(registry, client, settings, capsys):
    settings.DEBUG = True

    call_command("seed_demo")

    out = capsys.readouterr().out
    assert "petugas.lampungselatan" in out
    assert "petugas.pesisirbarat" not in out  # 18.13 is not in this small registry
    assert User.objects.get(username="petugas.lampungselatan").regency.code == "18.01"
    assert client.login(username="admin", password="demo-lampung")


def test_seed_demo_refuses_to_run_in_production(db, settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")

    assert not User.objects.filter(username="admin").exists()
