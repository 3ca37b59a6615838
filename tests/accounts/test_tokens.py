import pytest
from rest_framework.authtoken.models import Token

from accounts.models import AuditAction, AuditEntry
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_token_endpoint_throttles_password_guessing(api_client, province_staff, settings):
    attempts = [
        api_client.post("/api/v1/auth/token/", {"username": province_staff.username, "password": f"salah{n}"})
        for n in range(12)
    ]

    assert [r.status_code for r in attempts[:10]] == [400] * 10
    assert attempts[10].status_code == 429
    assert "detail" in attempts[10].json()
    right = api_client.post("/api/v1/auth/token/", {"username": province_staff.username, "password": PASSWORD})
    assert right.status_code == 429  # even the right password waits: the guesser does not learn it


def test_a_token_can_be_revoked_and_then_authenticates_nothing(api_client, province_staff):
    token = api_client.post("/api/v1/auth/token/", {"username": province_staff.username, "password": PASSWORD}).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")

    assert api_client.delete("/api/v1/auth/token/revoke/").status_code == 204
    assert not Token.objects.filter(user=province_staff).exists()
    assert api_client.get("/api/v1/villages/").status_code == 401
    entry = AuditEntry.objects.get(action=AuditAction.TOKENS_REVOKED)
    assert (entry.actor, entry.object_id) == (province_staff, str(province_staff.pk))
