import csv
import datetime
import io
import json
import re

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from grants import selectors as grant_selectors
from grants import services as grant_services
from grants.models import Allocation
from grants.templatetags.rupiah import percent, rupiah_short
from rollout import selectors, services
from rollout.models import DemoDataset, PillarStatus, ProgrammeTarget, Signal, SnapshotLevel
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


# The overview's queries (issue 7): session; user with the regency; the province or regency with its
# latest allocation and the demo flag; the latest snapshots (headline and table) with the target;
# the snapshot history (forecasts and trend); the ledger with the paid-but-not-live counts; the
# lagging, paid-but-not-live and awaiting lists; and for an officer, the own reports.
OVERVIEW_QUERIES = {"province_admin": 9, "province_staff": 9, "auditor": 9, "officer_a": 10}
QUERY_BUDGET = 10


def paid(ro_grant, village):
    return ro_grant("disbursed", village)


@pytest.fixture
def busy(figures, ro_grant, ro_submitted):
    """Everything the overview shows: grants paid to live and to lagging villages, a report awaiting
    verification, the year's target and the demo label."""
    villages = list(Village.objects.filter(regency=figures.regency_a).order_by("code"))
    for village in villages[:3]:
        paid(ro_grant, village)
    ro_submitted(villages[-1])
    ProgrammeTarget.objects.create(year=timezone.localdate().year, adopted_pct=90)
    DemoDataset.objects.create()
    services.adoption_recompute()
    return figures


def grow(registry, ro_grant, ro_submitted) -> None:
    """More of everything the overview reads: villages, grants, reports and a day of snapshots."""
    allocation = Allocation.objects.get()
    grant_services.allocation_update(
        allocation=allocation,
        actor=User.objects.get(username="staf.provinsi"),
        total_amount=allocation.total_amount * 4,
    )
    for district in (registry.district_a1, registry.district_a2, registry.district_b1):
        for village in VillageFactory.create_batch(4, district=district):
            paid(ro_grant, village)
            ro_submitted(village)
    services.adoption_recompute(on_date=timezone.localdate() - datetime.timedelta(days=40))
    services.adoption_recompute()


@pytest.mark.parametrize("role", OVERVIEW_QUERIES)
@pytest.mark.parametrize("url", ["/", "/dashboard/regencies/18.01/"])
def test_the_overview_runs_a_fixed_number_of_queries_within_the_budget(
    client, request, busy, ro_grant, ro_submitted, role, url
):
    client.force_login(request.getfixturevalue(role))
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    grow(busy, ro_grant, ro_submitted)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200

    assert len(few) == len(many) == OVERVIEW_QUERIES[role] <= QUERY_BUDGET, [q["sql"] for q in many]


def paid_not_live_column(html: str) -> dict[str, int]:
    rows = re.findall(r'<tr data-code="([^"]+)">.*?data-col="paid_not_live" data-value="(\d+)"', html, re.S)
    return {code: int(count) for code, count in rows}


def test_the_paid_not_live_column_counts_the_paid_grants_of_villages_not_live(client, province_staff, busy, ro_grant):
    lagging = Village.objects.filter(regency=busy.regency_b).first()
    paid(ro_grant, lagging)
    client.force_login(province_staff)

    province = paid_not_live_column(client.get("/").content.decode())
    regency = paid_not_live_column(client.get("/dashboard/regencies/18.01/").content.decode())

    listed = list(selectors.paid_not_live(user=province_staff))
    assert province == {
        "18.01": sum(g.village.regency_id == "18.01" for g in listed),
        "18.71": 1,
    }
    assert province["18.01"] == 2  # three paid in 18.01, one of them to the live village
    assert regency == {
        district: sum(g.village.district_id == district for g in listed) for district in ("18.01.01", "18.01.02")
    }


def test_the_headline_money_is_the_allocations_ledger(client, province_staff, busy, ro_allocation):
    client.force_login(province_staff)
    summary = grant_selectors.allocation_summary(allocation=ro_allocation, user=province_staff)
    regency_row = grant_selectors.ledger(
        allocation=ro_allocation, user=province_staff, level="regency", regency_code="18.01"
    )[0]

    province_html = client.get("/").content.decode()
    regency_html = client.get("/dashboard/regencies/18.01/").content.decode()
    kota_html = client.get("/dashboard/regencies/18.71/").content.decode()

    assert headline(province_html, "headline-disbursed") == rupiah_short(summary.totals.net_disbursed)
    assert f"{percent(summary.net_disbursed_pct_of_total)} " in province_html
    assert headline(regency_html, "headline-disbursed") == rupiah_short(regency_row.net_disbursed)
    assert f"{percent(regency_row.disbursed_pct)} " in regency_html
    assert headline(kota_html, "headline-disbursed") == "Rp0"  # no grant in the regency


def test_the_headline_target_is_the_target_of_the_snapshots_year(client, province_staff, busy):
    client.force_login(province_staff)

    with_target = client.get("/").content.decode()
    ProgrammeTarget.objects.all().delete()
    without = client.get("/dashboard/regencies/18.01/").content.decode()

    assert "· target 90 %" in with_target
    assert f"· target {selectors.DEFAULT_TARGET_PCT} %" in without


@pytest.mark.parametrize("url", ["/", "/dashboard/regencies/18.01/"])
def test_the_overview_carries_the_demo_label_only_with_demo_data(client, province_staff, busy, url):
    client.force_login(province_staff)

    labelled = client.get(url).content.decode()
    DemoDataset.objects.all().delete()
    plain = client.get(url).content.decode()

    assert 'role="note"' in labelled
    assert 'role="note"' not in plain


def test_the_trend_and_the_forecasts_follow_the_snapshot_history(client, province_staff, busy):
    services.adoption_recompute(on_date=timezone.localdate() - datetime.timedelta(days=40))
    client.force_login(province_staff)

    html = client.get("/?regency=18.71").content.decode()

    trend = json_script(html, "trend-data")
    assert list(trend) == ["18", "18.71"]
    for code in trend:
        history = selectors.snapshot_history(user=province_staff, code=code)
        assert trend[code]["name"] == history[-1].name
        assert trend[code]["points"] == [
            [row.date.isoformat(), row.adopted_pct if row.adopted_desa_pct is None else row.adopted_desa_pct]
            for row in history
        ]
    forecasts = selectors.forecasts(user=province_staff, level=SnapshotLevel.REGENCY)
    for code in ("18.01", "18.71"):
        cell = render_to_string("dashboard/_forecast.html", {"forecast": forecasts[code]})
        row = re.search(rf'<tr data-code="{re.escape(code)}">(.*?)</tr>', html, re.S).group(1)
        assert cell in row


def test_the_dashboard_without_snapshots_explains_what_to_do(client, province_staff, registry):
    client.force_login(province_staff)

    html = client.get("/").content.decode()

    assert "recompute_adoption" in html
