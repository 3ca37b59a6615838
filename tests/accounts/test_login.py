import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_login_form_refuses_after_repeated_failures(client, province_staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    failures = [client.post("/login/", {"username": province_staff.username, "password": "salah"}) for _ in range(3)]

    blocked = client.post("/login/", {"username": province_staff.username, "password": PASSWORD})

    assert [r.status_code for r in failures] == [200, 200, 200]
    assert blocked.status_code == 429
    assert 'role="alert"' in blocked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_correct_login_within_the_limit_works(client, province_staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    client.post("/login/", {"username": province_staff.username, "password": "salah"})

    response = client.post("/login/", {"username": province_staff.username, "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(province_staff.pk)
