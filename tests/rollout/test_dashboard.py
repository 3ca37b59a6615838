import csv
import io
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from rollout import services
from rollout.models import PillarStatus, Signal
from tests.factories import VillageFactory
from villages.models import Village

pytestmark = pytest.mark.django_db


def verify_live(officer, staff, village):
    report = services.report_submit(
        actor=officer,
        item=services.ReportInput(
            village=village,
            pillar1=PillarStatus.LIVE,
            pillar2=PillarStatus.NOT_STARTED,
            pillar3=PillarStatus.NOT_STARTED,
            signal=Signal.G4,
            signal_sufficient=True,
        ),
    )
    services.report_verify(report=report, actor=staff)


def json_script(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def headline(html: str, element_id: str) -> str:
    """The text of a headline card element, tags removed and spaces collapsed."""
    inner = re.search(rf'id="{element_id}">(.*?)</div>\s*(?:</div>|<div class="small)', html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", inner).split())


@pytest.fixture
def figures(registry, officer_a, province_staff):
    verify_live(officer_a, province_staff, Village.objects.filter(regency=registry.regency_a).first())
    services.adoption_recompute()
    return registry


def test_the_province_dashboard_shows_the_latest_snapshot(client, province_staff, figures):
    client.force_login(province_staff)

    html = client.get("/").content.decode()

    desa = Village.objects.filter(kind__in=["desa", "desa_adat"], is_active=True)
    adopted_desa = desa.filter(rollout__pillar1=PillarStatus.LIVE).count()
    assert headline(html, "headline-units") == str(Village.objects.filter(is_active=True).count())
    assert headline(html, "headline-adopted-desa").startswith(
        f"{round(100 * adopted_desa / desa.count(), 1)}".replace(".", ",")
    )
    assert 'data-code="18.01"' in html and 'data-code="18.71"' in html


def test_the_map_carries_the_regency_boundaries_with_their_figures(client, province_staff, figures):
    client.force_login(province_staff)

    features = json_script(client.get("/").content.decode(), "map-data")["features"]

    codes = {feature["properties"]["code"] for feature in features}
    assert codes == {"18.01", "18.71"}  # the boundaries of the regencies the snapshot covers
    kota = next(f for f in features if f["properties"]["code"] == "18.71")
    assert kota["properties"]["adopted_desa_pct"] is None  # a kota without desa is shaded by all units
    assert kota["properties"]["shade_pct"] == 0.0


def test_an_officer_home_is_the_own_regency_with_no_other_figures(client, officer_a, figures):
    client.force_login(officer_a)

    html = client.get("/").content.decode()

    assert "Kabupaten Lampung Selatan" in html
    assert "Kota Bandar Lampung" not in html
    features = json_script(html, "map-data")["features"]
    assert [f["properties"]["code"] for f in features] == ["18.01"]
    assert set(json_script(html, "trend-data")) == {"18.01"}


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/regencies/18.71/",
        "/dashboard/districts/18.71.01/",
        "/dashboard/export/districts/?regency=18.71",
    ],
)
def test_an_officer_cannot_open_another_regency(client, officer_a, figures, url):
    client.force_login(officer_a)

    assert client.get(url).status_code == 404


def test_an_officer_cannot_open_a_village_of_another_regency(client, officer_a, figures):
    client.force_login(officer_a)
    village_b = Village.objects.filter(regency_id="18.71").first()

    assert client.get(f"/dashboard/villages/{village_b.code}/").status_code == 404


def test_the_drill_down_reaches_a_village_page(client, province_staff, figures):
    client.force_login(province_staff)
    village = Village.objects.filter(regency_id="18.01", rollout__isnull=False).first()

    regency_page = client.get("/dashboard/regencies/18.01/").content.decode()
    district_page = client.get(f"/dashboard/districts/{village.district_id}/").content.decode()
    village_page = client.get(f"/dashboard/villages/{village.code}/").content.decode()

    assert f"/dashboard/districts/{village.district_id}/" in regency_page
    assert f"/dashboard/villages/{village.code}/" in district_page
    assert 'id="village-status"' in village_page and 'id="report-history"' in village_page


@pytest.mark.parametrize("table", ["regencies", "districts", "villages", "lagging", "paid-not-live", "reports"])
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_every_dashboard_table_exports(client, province_staff, figures, table, file_format):
    client.force_login(province_staff)

    response = client.get(f"/dashboard/export/{table}/", {"file": file_format})

    assert response.status_code == 200
    if file_format == "csv":
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    else:
        rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][0] in ("Kode", "Kode desa/kelurahan", "Dikirim")


def test_the_village_export_follows_the_district_filter(client, province_staff, figures):
    client.force_login(province_staff)

    response = client.get("/dashboard/export/villages/", {"district": "18.01.02", "file": "csv"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]
    assert {row[0] for row in rows} == set(
        Village.objects.filter(district_id="18.01.02").values_list("code", flat=True)
    )


@pytest.mark.parametrize("url", ["/", "/dashboard/regencies/18.01/", "/dashboard/districts/18.01.02/"])
def test_dashboard_pages_run_a_constant_number_of_queries(client, province_staff, figures, url):
    client.force_login(province_staff)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    VillageFactory.create_batch(12, district=figures.district_a2)
    services.adoption_recompute()
    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many) == len(few)


def test_the_dashboard_without_snapshots_explains_what_to_do(client, province_staff, registry):
    client.force_login(province_staff)

    html = client.get("/").content.decode()

    assert "recompute_adoption" in html
