import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.mark.parametrize("model", ["province", "regency", "district", "village"])
def test_the_admin_lists_search_and_filter_every_registry_model(client, superuser, registry, model):
    client.force_login(superuser)

    listed = client.get(f"/admin/villages/{model}/")
    searched = client.get(f"/admin/villages/{model}/", {"q": "18.01"})
    filtered = client.get(f"/admin/villages/{model}/", {"is_active__exact": "1"})

    assert listed.status_code == searched.status_code == filtered.status_code == 200
    assert "18" in searched.content.decode()


def test_the_admin_manages_user_roles_and_regencies(client, superuser, officer_a):
    client.force_login(superuser)

    page = client.get(f"/admin/accounts/user/{officer_a.pk}/change/").content.decode()

    assert 'name="role"' in page and 'name="regency"' in page
