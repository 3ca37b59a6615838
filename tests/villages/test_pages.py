"""Server-rendered pages of the region registry: login, registry, regency and district pages."""

from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from tests.conftest import PASSWORD
from tests.factories import DistrictFactory, VillageFactory
from villages.models import District, Regency, Village, VillageKind

pytestmark = pytest.mark.django_db

REGISTRY_URL = "/registry/"


def regency_url(code: str) -> str:
    return reverse("villages:regency", args=[code])


def district_url(code: str) -> str:
    return reverse("villages:district", args=[code])


class _TableParser(HTMLParser):
    """Collects the text of each table row, by table section (thead, tbody, tfoot)."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, list[list[str]]] = {"thead": [], "tbody": [], "tfoot": []}
        self._section = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag in self.rows:
            self._section = tag
        elif tag == "tr" and self._section:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in self.rows:
            self._section = None
        elif tag == "tr" and self._row is not None:
            self.rows[self._section].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(response) -> dict[str, list[list[str]]]:
    parser = _TableParser()
    parser.feed(response.content.decode())
    return parser.rows


def village_codes_on_page(response) -> set[str]:
    """Codes of the villages listed in the page's village tables (four dotted parts)."""
    codes = set()
    for row in table_rows(response)["tbody"]:
        if row and row[0].count(".") == 3:
            codes.add(row[0])
    return codes


def independent_counts(regency) -> tuple[int, int, int]:
    """Active districts, active desa (including desa adat) and active kelurahan of a regency."""
    districts = District.objects.filter(regency=regency, is_active=True).count()
    desa = Village.objects.filter(
        regency=regency, is_active=True, kind__in=[VillageKind.DESA, VillageKind.DESA_ADAT]
    ).count()
    kelurahan = Village.objects.filter(regency=regency, is_active=True, kind=VillageKind.KELURAHAN).count()
    return districts, desa, kelurahan


# --- Login -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/registry/", "/registry/regencies/18.01/", "/registry/districts/18.01.01/"])
def test_it_redirects_anonymous_users_to_the_login_page(client, registry, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={quote(path)}"


def test_it_renders_the_login_page(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="username"' in content
    assert 'name="password"' in content
    assert 'name="csrfmiddlewaretoken"' in content


def test_it_logs_in_with_username_and_password_and_redirects(client, province_staff):
    response = client.post(reverse("login"), {"username": province_staff.username, "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert int(client.session["_auth_user_id"]) == province_staff.pk
    assert client.get(REGISTRY_URL).status_code == 200


def test_it_logs_in_and_follows_the_next_parameter(client, province_staff, registry):
    target = district_url(registry.district_a1.code)

    response = client.post(
        f"{reverse('login')}?next={quote(target)}",
        {"username": province_staff.username, "password": PASSWORD, "next": target},
    )

    assert response.status_code == 302
    assert response.url == target


def test_it_rejects_a_wrong_password(client, province_staff):
    response = client.post(reverse("login"), {"username": province_staff.username, "password": "salah-sandi"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


# --- Registry page -----------------------------------------------------------------------------


def test_it_lists_every_regency_with_its_counts_and_a_total_row(client, registry, province_staff):
    # Units the counts must treat differently: an inactive desa, an inactive district and a desa adat.
    VillageFactory(district=registry.district_a2, is_active=False)
    DistrictFactory(regency=registry.regency_a, code="18.01.03", is_active=False)
    VillageFactory(district=registry.district_b1, kind=VillageKind.DESA_ADAT)
    client.force_login(province_staff)

    response = client.get(REGISTRY_URL)

    assert response.status_code == 200
    rows = table_rows(response)
    listed = {row[0]: row for row in rows["tbody"]}
    regencies = list(Regency.objects.filter(is_active=True).order_by("code"))
    assert sorted(listed) == [regency.code for regency in regencies]
    totals = [0, 0, 0]
    for regency in regencies:
        districts, desa, kelurahan = independent_counts(regency)
        row = listed[regency.code]
        assert row[1] == regency.name
        assert [int(cell) for cell in row[3:7]] == [districts, desa, kelurahan, desa + kelurahan]
        totals = [totals[0] + districts, totals[1] + desa, totals[2] + kelurahan]
    assert len(rows["tfoot"]) == 1
    footer = rows["tfoot"][0]
    assert [int(cell) for cell in footer[1:5]] == [*totals, totals[1] + totals[2]]


# --- Drill-down --------------------------------------------------------------------------------


def test_it_links_the_registry_to_each_regency_page(client, registry, province_staff):
    client.force_login(province_staff)

    content = client.get(REGISTRY_URL).content.decode()

    for regency in (registry.regency_a, registry.regency_b):
        assert f'href="{regency_url(regency.code)}"' in content


def test_it_lists_the_regency_districts_with_links_on_the_regency_page(client, registry, province_staff):
    client.force_login(province_staff)

    response = client.get(regency_url(registry.regency_a.code))

    assert response.status_code == 200
    content = response.content.decode()
    for district in (registry.district_a1, registry.district_a2):
        assert district.name in content
        assert f'href="{district_url(district.code)}"' in content
    assert registry.district_b1.name not in content
    assert district_url(registry.district_b1.code) not in content


def test_it_lists_only_the_district_villages_on_the_district_page(client, registry, province_staff):
    client.force_login(province_staff)

    response = client.get(district_url(registry.district_a1.code))

    assert response.status_code == 200
    expected = set(Village.objects.filter(district=registry.district_a1).values_list("code", flat=True))
    assert expected
    assert village_codes_on_page(response) == expected
    content = response.content.decode()
    for village in Village.objects.exclude(district=registry.district_a1):
        assert village.code not in content


# --- Search ------------------------------------------------------------------------------------


def test_it_finds_villages_by_name_on_the_registry_page(client, registry, province_staff):
    wanted = VillageFactory(district=registry.district_a2, name="Sukarame Baru")
    client.force_login(province_staff)

    response = client.get(REGISTRY_URL, {"q": "sukarame"})

    assert response.status_code == 200
    assert village_codes_on_page(response) == {wanted.code}
    assert "Sukarame Baru" in response.content.decode()


def test_it_finds_villages_by_code_prefix_on_the_registry_page(client, registry, province_staff):
    client.force_login(province_staff)
    prefix = registry.district_a2.code

    response = client.get(REGISTRY_URL, {"q": prefix})

    assert response.status_code == 200
    expected = set(Village.objects.filter(code__startswith=prefix).values_list("code", flat=True))
    assert expected
    assert village_codes_on_page(response) == expected


def test_it_filters_the_district_page_by_search(client, registry, province_staff):
    wanted = VillageFactory(district=registry.district_a1, name="Hajimena")
    elsewhere = VillageFactory(district=registry.district_a2, name="Hajimena Lain")
    client.force_login(province_staff)

    response = client.get(district_url(registry.district_a1.code), {"q": "hajimena"})

    assert response.status_code == 200
    assert village_codes_on_page(response) == {wanted.code}
    assert elsewhere.code not in response.content.decode()


# --- Regency officer scope ---------------------------------------------------------------------


def test_it_shows_a_regency_officer_only_their_regency_on_the_registry(client, registry, officer_a):
    client.force_login(officer_a)

    response = client.get(REGISTRY_URL)

    assert response.status_code == 200
    assert [row[0] for row in table_rows(response)["tbody"]] == [registry.regency_a.code]
    content = response.content.decode()
    assert registry.regency_b.name not in content
    assert regency_url(registry.regency_b.code) not in content


def test_it_shows_the_other_officer_only_their_regency_on_the_registry(client, registry, officer_b):
    client.force_login(officer_b)

    response = client.get(REGISTRY_URL)

    assert [row[0] for row in table_rows(response)["tbody"]] == [registry.regency_b.code]
    assert registry.regency_a.name not in response.content.decode()


@pytest.mark.parametrize("path", ["/registry/regencies/18.71/", "/registry/districts/18.71.01/"])
def test_it_answers_404_to_an_officer_on_another_regency_page(client, registry, officer_a, path):
    client.force_login(officer_a)

    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/registry/regencies/18.01/", "/registry/districts/18.01.01/"])
def test_it_answers_404_to_the_other_officer_on_regency_a_pages(client, registry, officer_b, path):
    client.force_login(officer_b)

    assert client.get(path).status_code == 404


def test_it_does_not_return_other_regency_villages_in_an_officer_search(client, registry, officer_a):
    client.force_login(officer_a)

    by_name = client.get(REGISTRY_URL, {"q": "Desa Uji"})
    by_code = client.get(REGISTRY_URL, {"q": registry.regency_b.code})

    regency_a_codes = set(Village.objects.filter(regency=registry.regency_a).values_list("code", flat=True))
    assert village_codes_on_page(by_name) == regency_a_codes
    assert village_codes_on_page(by_code) == set()
    for village in Village.objects.filter(regency=registry.regency_b):
        assert village.code not in by_name.content.decode()
        assert village.code not in by_code.content.decode()


# --- Query counts ------------------------------------------------------------------------------


def _query_count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries)


def _queries_with_3_and_30_villages(client, registry, url_for_district, params_for_district):
    district = DistrictFactory(regency=registry.regency_a, code="18.01.09", name="Jati Agung")
    VillageFactory.create_batch(3, district=district)
    url, params = url_for_district(district), params_for_district(district)
    client.get(url, params)  # warm up anything cached on a first request
    with_3 = _query_count(client, url, params)
    VillageFactory.create_batch(27, district=district)
    with_30 = _query_count(client, url, params)
    return with_3, with_30


def test_it_keeps_the_district_page_query_count_constant(client, registry, province_staff):
    client.force_login(province_staff)

    with_3, with_30 = _queries_with_3_and_30_villages(
        client, registry, lambda district: district_url(district.code), lambda district: {}
    )

    assert with_30 == with_3


def test_it_keeps_the_district_page_query_count_constant_for_an_officer(client, registry, officer_a):
    client.force_login(officer_a)

    with_3, with_30 = _queries_with_3_and_30_villages(
        client, registry, lambda district: district_url(district.code), lambda district: {}
    )

    assert with_30 == with_3


def test_it_keeps_the_registry_page_query_count_constant(client, registry, province_staff):
    client.force_login(province_staff)

    with_3, with_30 = _queries_with_3_and_30_villages(
        client, registry, lambda district: REGISTRY_URL, lambda district: {}
    )

    assert with_30 == with_3


def test_it_keeps_the_registry_search_query_count_constant(client, registry, province_staff):
    client.force_login(province_staff)

    with_3, with_30 = _queries_with_3_and_30_villages(
        client, registry, lambda district: REGISTRY_URL, lambda district: {"q": district.code}
    )

    assert with_30 == with_3


# --- Language ----------------------------------------------------------------------------------


def test_it_serves_pages_in_indonesian_by_default(client, registry, province_staff):
    client.force_login(province_staff)

    response = client.get(REGISTRY_URL)

    assert response.wsgi_request.LANGUAGE_CODE == "id"
    assert '<html lang="id">' in response.content.decode()


def test_it_shows_the_indonesian_translation_once_the_catalogue_has_it(client, registry, province_staff):
    with translation.override("id"):
        indonesian = translation.gettext("Region registry")
    if indonesian == "Region registry":
        pytest.skip("locale/id has no translation of the registry title yet")
    client.force_login(province_staff)

    content = client.get(REGISTRY_URL).content.decode()

    assert f'<h1 class="h3 mb-1">{indonesian}</h1>' in content
    assert ">Region registry<" not in content


def test_it_serves_the_login_page_in_indonesian_by_default(client):
    response = client.get(reverse("login"))

    assert response.wsgi_request.LANGUAGE_CODE == "id"
    assert '<html lang="id">' in response.content.decode()


def test_it_shows_django_messages_in_indonesian_by_default(client, province_staff):
    # Django's own messages (this one: a required field) come in Indonesian
    # (the wrong-password message is the portal's own: tests/accounts/test_login.py).
    response = client.post(reverse("login"), {"username": province_staff.username, "password": ""})

    content = response.content.decode()
    assert "Kolom ini wajib diisi." in content
    assert "This field is required" not in content


def test_it_switches_to_english_through_set_language(client, registry, province_staff):
    client.force_login(province_staff)

    switched = client.post(reverse("set_language"), {"language": "en", "next": REGISTRY_URL})
    response = client.get(REGISTRY_URL)

    assert switched.status_code == 302
    assert response.wsgi_request.LANGUAGE_CODE == "en"
    content = response.content.decode()
    assert '<html lang="en">' in content
    assert '<h1 class="h3 mb-1">Region registry</h1>' in content


# --- Escaping ----------------------------------------------------------------------------------

SCRIPT_NAME = "<script>alert(1)</script>"


def test_it_escapes_html_in_a_village_name_on_the_district_page(client, registry, province_staff):
    VillageFactory(district=registry.district_a1, name=SCRIPT_NAME)
    client.force_login(province_staff)

    content = client.get(district_url(registry.district_a1.code)).content.decode()

    assert SCRIPT_NAME not in content
    assert escape(SCRIPT_NAME) in content


def test_it_escapes_html_in_a_village_name_in_registry_search(client, registry, province_staff):
    VillageFactory(district=registry.district_a1, name=SCRIPT_NAME)
    client.force_login(province_staff)

    content = client.get(REGISTRY_URL, {"q": "alert"}).content.decode()

    assert SCRIPT_NAME not in content
    assert escape(SCRIPT_NAME) in content
