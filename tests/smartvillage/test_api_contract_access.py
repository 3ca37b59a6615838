"""The API's contract is public on purpose: `/api/schema/` (OpenAPI) and `/api/docs/` (Swagger UI)
open without an account, read nothing from the database and change nothing."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

CONTRACT = ("api-schema", "api-docs")


@pytest.mark.parametrize("name", CONTRACT)
def test_the_api_contract_opens_to_an_anonymous_visitor_without_a_query(
    client, registry, name, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get(reverse(name))

    assert response.status_code == 200
    text = response.content.decode()
    assert registry.regency_a.name not in text and registry.district_a1.name not in text


def test_the_schema_describes_every_endpoint_to_an_anonymous_visitor(client):
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()

    assert {"/api/v1/auth/token/", "/api/v1/grants/{id}/disburse/", "/api/v1/reports/bulk/"} <= set(schema["paths"])


@pytest.mark.parametrize("name", CONTRACT)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_contract_is_read_only(client, name, method):
    response = getattr(client, method)(reverse(name), "{}", content_type="application/json")

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
