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

    assert codes(by_regency) == sorted(Village.objects.filter(regency__code="18.71").values_list("code", flat=True))
    assert codes(by_district) == list(
        Village.objects.filter(district__code="18.01.01", kind="kelurahan").values_list("code", flat=True)
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
    third = api_client.get(second["next"]).json()

    all_codes = list(Village.objects.order_by("code").values_list("code", flat=True))
    assert [row["code"] for row in first["results"] + second["results"] + third["results"]] == all_codes
    assert len(all_codes) == 8


def test_every_village_list_row_is_the_village_as_its_detail_route_gives_it(api_client, province_staff, registry):
    # The list is read from .values() rows, the detail through the serializer: the JSON must be the same.
    Village.objects.filter(pk=Village.objects.filter(regency=registry.regency_b).first().pk).update(is_active=False)
    api_client.force_authenticate(province_staff)

    rows = api_client.get("/api/v1/villages/").json()["results"]

    assert len(rows) == Village.objects.count()
    assert {row["is_active"] for row in rows} == {True, False}
    for row in rows:
        assert row == api_client.get(f"/api/v1/villages/{row['code']}/").json()


# --- pagination (smartvillage.api.Pagination: every list of the API) ------------------------------


def page(api_client, **query) -> dict:
    response = api_client.get("/api/v1/villages/", query)
    assert response.status_code == 200, response.content
    return response.json()


def add_villages(district, number: int) -> None:
    """`number` more villages (desa adat, codes from 3000) in `district`."""
    Village.objects.bulk_create(
        Village(
            code=f"{district.code}.{3000 + n}",
            name=f"Desa Adat {n}",
            kind=VillageKind.DESA_ADAT,
            district=district,
            regency_id=district.regency_id,
        )
        for n in range(number)
    )


def test_a_page_with_rows_after_it_links_the_next_page_and_leaves_the_count_out(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    body = page(api_client, page_size=3)

    assert len(body["results"]) == 3
    assert body["count"] is None
    assert body["next"] == "http://testserver/api/v1/villages/?page=2&page_size=3"
    assert body["previous"] is None


def test_the_last_page_gives_the_count_and_no_next_link(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    body = page(api_client, page_size=3, page=3)

    assert len(body["results"]) == 2
    assert body["count"] == 8
    assert body["next"] is None
    assert body["previous"] == "http://testserver/api/v1/villages/?page=2&page_size=3"


def test_the_second_page_links_back_to_the_first_without_a_page_number(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    body = page(api_client, page_size=3, page=2)

    assert body["previous"] == "http://testserver/api/v1/villages/?page_size=3"
    assert body["next"] == "http://testserver/api/v1/villages/?page=3&page_size=3"


def test_a_full_last_page_has_no_next_link(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    body = page(api_client, page_size=4, page=2)

    assert len(body["results"]) == 4
    assert (body["count"], body["next"]) == (8, None)


def test_one_page_holding_every_row_gives_the_count(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    body = page(api_client)

    assert (len(body["results"]), body["count"], body["next"], body["previous"]) == (8, 8, None, None)


def test_count_true_gives_the_count_on_every_page(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    first = page(api_client, page_size=3, count="true")
    second = api_client.get(first["next"]).json()

    assert first["count"] == second["count"] == 8
    assert "count=true" in first["next"]


def test_count_true_counts_the_filtered_rows(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    body = page(api_client, page_size=2, count="true", regency="18.01")

    assert body["count"] == Village.objects.filter(regency__code="18.01").count() == 6


def test_a_bad_count_value_is_a_400_naming_count(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    response = api_client.get("/api/v1/villages/", {"count": "banyak"})

    assert response.status_code == 400
    assert response.json()["count"]


def test_an_empty_list_is_one_empty_page_with_a_count_of_0(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    body = page(api_client, district="18.99.99")

    assert body == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("number", ["4", "3"])
def test_a_page_beyond_the_end_is_a_json_404(api_client, province_staff, registry, number):
    # 8 villages in pages of 4: page 3 starts right after the last row.
    api_client.force_authenticate(province_staff)

    response = api_client.get("/api/v1/villages/", {"page_size": 4, "page": number})

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_a_page_beyond_the_end_of_an_empty_list_is_a_404(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    assert api_client.get("/api/v1/villages/", {"district": "18.99.99", "page": 2}).status_code == 404


@pytest.mark.parametrize("number", ["0", "-1", "dua", "1.5", str(10**30), str(2**63 // 50)])
def test_a_page_that_is_no_page_number_or_names_no_rows_is_a_json_404(api_client, province_staff, registry, number):
    api_client.force_authenticate(province_staff)

    response = api_client.get("/api/v1/villages/", {"page": number})

    assert response.status_code == 404
    assert response.json()["detail"]


def test_page_last_gives_the_last_page_with_the_count(api_client, province_staff, registry):
    api_client.force_authenticate(province_staff)

    body = page(api_client, page_size=3, page="last")

    assert [row["code"] for row in body["results"]] == list(
        Village.objects.order_by("code").values_list("code", flat=True)[6:]
    )
    assert (body["count"], body["next"]) == (8, None)
    assert body["previous"] == "http://testserver/api/v1/villages/?page=2&page_size=3"


@pytest.mark.parametrize("size", ["0", "-3", "tiga", ""])
def test_a_page_size_that_is_no_positive_number_gives_the_default_size(api_client, province_staff, registry, size):
    add_villages(registry.district_a2, 50)
    api_client.force_authenticate(province_staff)

    body = page(api_client, page_size=size)

    assert len(body["results"]) == 50
    assert body["next"]


def test_a_page_size_above_500_gives_500_rows(api_client, province_staff, registry):
    add_villages(registry.district_a2, 500)
    api_client.force_authenticate(province_staff)

    body = page(api_client, page_size=1000)

    assert len(body["results"]) == 500
    assert body["next"] == "http://testserver/api/v1/villages/?page=2&page_size=1000"
    assert len(api_client.get(body["next"]).json()["results"]) == 8


@pytest.mark.parametrize("url", LIST_URLS)
def test_a_list_page_counts_no_rows_unless_asked(api_client, province_staff, registry, url):
    api_client.force_authenticate(province_staff)

    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(url, {"page_size": 1}).status_code == 200
    plain = [query["sql"] for query in queries]  # now: the next request resets the log it reads
    with CaptureQueriesContext(connection) as queries:
        assert api_client.get(url, {"page_size": 1, "count": "true"}).status_code == 200
    counted = [query["sql"] for query in queries]

    assert not any("COUNT(*)" in sql for sql in plain)
    assert len(counted) == len(plain) + 1
    assert any("COUNT(*)" in sql for sql in counted)


def test_the_schema_documents_the_count_as_nullable_and_the_count_parameter(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    operation = schema["paths"]["/api/v1/villages/"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["count"]["schema"] == {"type": "boolean"}
    page_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    count = schema["components"]["schemas"][page_schema]["properties"]["count"]
    assert (count["type"], count["nullable"]) == ("integer", True)


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

    # 2000: never made by VillageFactory (its numbers run 001-999), whatever the tests before made.
    assert api_client.get("/api/v1/villages/18.01.01.2000/").status_code == 404


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
    small_count = len(small)  # now: the next request resets the log the context reads
    with CaptureQueriesContext(connection) as large:
        assert api_client.get(url, {"page_size": 100}).status_code == 200

    assert len(large) == small_count == 1


def test_api_writes_are_refused(api_client, province_admin, registry):
    api_client.force_authenticate(province_admin)

    assert api_client.post("/api/v1/villages/", {"code": "18.01.01.2999"}, format="json").status_code == 405
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
