import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from tests.conftest import PASSWORD
from tests.factories import VillageFactory
from villages.models import DESA_KINDS, Village, VillageKind

pytestmark = pytest.mark.django_db

LIST_URLS = ["/api/v1/regencies/", "/api/v1/districts/", "/api/v1/villages/"]


def codes(response) -> list[str]:
    return [row["code"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    "url", [*LIST_URLS, "/api/v1/regencies/18.01/", "/api/v1/districts/18.01.01/", "/api/v1/villages/18.01.01.2001/"]
)
def test_it_refuses_anonymous_requests_with_401(api_client, registry, url):
    response = api_client.get(url)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Token")
    assert "results" not in response.json()


def test_it_issues_a_token_that_authenticates(api_client, province_staff, registry):
    response = api_client.post("/api/v1/auth/token/", {"username": province_staff.username, "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=province_staff).key == token

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/regencies/").status_code == 200


def test_it_refuses_a_token_for_a_wrong_password(api_client, province_staff):
    response = api_client.post("/api/v1/auth/token/", {"username": province_staff.username, "password": "salah"})

    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_it_accepts_a_session_login(client, province_staff, registry):
    client.force_login(province_staff)

    assert client.get("/api/v1/villages/").status_code == 200


def test_regencies_carry_their_active_unit_counts(api_client, province_staff, registry):
    Village.objects.filter(pk=Village.objects.filter(regency=registry.regency_a).first().pk).update(is_active=False)
    api_client.force_authenticate(province_staff)

    rows = {row["code"]: row for row in api_client.get("/api/v1/regencies/").json()["results"]}

    for regency in (registry.regency_a, registry.regency_b):
        active = Village.objects.filter(regency=regency, is_active=True)
        assert rows[regency.code]["desa_count"] == active.filter(kind__in=DESA_KINDS).count()
        assert rows[regency.code]["kelurahan_count"] == active.filter(kind=VillageKind.KELURAHAN).count()
        assert rows[regency.code]["district_count"] == regency.districts.filter(is_active=True).count()
    assert rows["18.71"]["kind"] == "kota"


def test_districts_filter_by_regency(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    response = api_client.get("/api/v1/districts/", {"regency": "18.01"})

    assert codes(response) == ["18.01.01", "18.01.02"]


def test_villages_filter_by_regency_district_and_kind(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    by_regency = api_client.get("/api/v1/villages/", {"regency": "18.71"})
    by_district = api_client.get("/api/v1/villages/", {"district": "18.01.01", "kind": "kelurahan"})

    assert codes(by_regency) == sorted(Village.objects.filter(regency_id="18.71").values_list("code", flat=True))
    assert codes(by_district) == list(
        Village.objects.filter(district_id="18.01.01", kind="kelurahan").values_list("code", flat=True)
    )
    assert len(codes(by_district)) == 1


def test_villages_search_by_name_and_code_prefix(api_client, province_staff, registry):
    VillageFactory(district=registry.district_a2, name="Way Urang")
    api_client.force_authenticate(province_staff)

    assert [row["name"] for row in api_client.get("/api/v1/villages/", {"search": "urang"}).json()["results"]] == [
        "Way Urang"
    ]
    assert all(
        code.startswith("18.01.02") for code in codes(api_client.get("/api/v1/villages/", {"search": "18.01.02"}))
    )


def test_a_bad_filter_value_is_a_400_with_the_field(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    response = api_client.get("/api/v1/villages/", {"kind": "kampung"})

    assert response.status_code == 400
    assert "kind" in response.json()


def test_villages_are_paginated_and_ordered_by_code(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    first = api_client.get("/api/v1/villages/", {"page_size": 3}).json()
    second = api_client.get(first["next"]).json()

    all_codes = list(Village.objects.order_by("code").values_list("code", flat=True))
    assert first["count"] == len(all_codes)
    assert [row["code"] for row in first["results"] + second["results"]] == all_codes[:6]


def test_a_village_is_found_by_its_kemendagri_code(api_client, province_staff, registry):
    village = Village.objects.filter(district=registry.district_a1).first()
    api_client.force_authenticate(province_staff)

    body = api_client.get(f"/api/v1/villages/{village.code}/").json()

    assert body == {
        "code": village.code,
        "name": village.name,
        "kind": village.kind,
        "district": "18.01.01",
        "district_name": "Natar",
        "regency": "18.01",
        "regency_name": "Kabupaten Lampung Selatan",
        "is_active": True,
    }


def test_an_unknown_code_is_404(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    assert api_client.get("/api/v1/villages/18.01.01.2999/").status_code == 404


@pytest.mark.parametrize("url", LIST_URLS)
def test_a_regency_officer_lists_only_the_own_regency(api_client, officer_a, url):
    api_client.force_authenticate(officer_a)

    listed = codes(api_client.get(url, {"page_size": 500}))

    assert listed
    assert all(code.startswith("18.01") for code in listed)


@pytest.mark.parametrize(
    "url", ["/api/v1/regencies/18.71/", "/api/v1/districts/18.71.01/", "/api/v1/villages/?regency=18.71"]
)
def test_a_regency_officer_cannot_read_another_regency(api_client, officer_a, url):
    api_client.force_authenticate(officer_a)

    response = api_client.get(url)

    assert response.status_code == 404 or response.json()["count"] == 0


@pytest.mark.parametrize("url", LIST_URLS)
def test_list_query_count_does_not_grow_with_page_size(api_client, province_staff, registry, url):
    VillageFactory.create_batch(20, district=registry.district_a2)
    api_client.force_authenticate(province_staff)

    with CaptureQueriesContext(connection) as small:
        assert api_client.get(url, {"page_size": 2}).status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert api_client.get(url, {"page_size": 100}).status_code == 200

    assert len(large) == len(small)


def test_api_writes_are_refused(api_client, province_admin, registry):
    api_client.force_authenticate(province_admin)

    assert api_client.post("/api/v1/villages/", {"code": "18.01.01.2999"}).status_code == 405
    assert api_client.delete("/api/v1/villages/18.01.01.2001/").status_code == 405


def test_the_openapi_schema_describes_the_registry(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/villages/", "/api/v1/villages/{code}/", "/api/v1/auth/token/"} <= set(schema["paths"])
    parameters = {p["name"] for p in schema["paths"]["/api/v1/villages/"]["get"]["parameters"]}
    assert {"regency", "district", "kind", "search", "page", "page_size"} <= parameters


def test_the_swagger_ui_loads_its_assets_locally(client):
    html = client.get("/api/docs/").content.decode()

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn." not in html and "unpkg" not in html


# --- bad input found by the schema fuzzing (tests/smartvillage/test_api_fuzz.py) -----------------


@pytest.mark.parametrize(
    "url", ["/api/v1/regencies/0/", "/api/v1/districts/18-01-01/", "/api/v1/villages/%E4%A1%BF%C2%A6K%60/"]
)
def test_a_malformed_code_is_a_json_404(api_client, province_staff, registry, url):
    # Routed by Django's URL resolver before, which answered its HTML "Not Found" page.
    api_client.force_authenticate(province_staff)

    response = api_client.get(url)

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_the_schema_documents_the_format_of_a_code(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    (code,) = schema["paths"]["/api/v1/villages/{code}/"]["get"]["parameters"]
    assert code["schema"]["pattern"] == r"^[0-9]{2}(\.[0-9]{2}){0,2}(\.[0-9]{4})?$"


@pytest.mark.parametrize("url", LIST_URLS)
def test_a_search_with_a_null_character_is_a_400_naming_search(api_client, province_staff, registry, url):
    # DRF's own search filter answered a bare list of messages, naming no input.
    api_client.force_authenticate(province_staff)

    response = api_client.get(url, {"search": "Natar\x00"})

    assert response.status_code == 400
    assert response.json()["search"]
