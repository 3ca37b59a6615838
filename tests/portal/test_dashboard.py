import csv
import datetime
import io
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.template.loader import render_to_string
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from openpyxl import load_workbook

from accounts.models import User
from grants import selectors as grant_selectors
from grants import services as grant_services
from grants.models import Allocation
from portal import views as dashboard
from rollout import selectors, services
from rollout.models import (
    Blocker,
    DemoDataset,
    PillarStatus,
    ProgrammeTarget,
    ReportStatus,
    Signal,
    SnapshotLevel,
    VillageStatus,
)
from rollout.templatetags.blockers import blocker_text
from smartvillage.templatetags.rupiah import percent, rupiah, rupiah_short
from tests.factories import VillageFactory
from villages.models import Village
from villages.services import regions_load

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


def test_an_officers_regency_overview_has_no_other_figures(client, officer_a, figures):
    # An officer's home is the field workspace (tests/portal/test_officer_home.py); the regency's figures
    # are one tap away.
    client.force_login(officer_a)

    html = client.get("/dashboard/regencies/18.01/").content.decode()

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
    village_b = Village.objects.filter(regency__code="18.71").first()

    assert client.get(f"/dashboard/villages/{village_b.code}/").status_code == 404


def test_the_drill_down_reaches_a_village_page(client, province_staff, figures):
    client.force_login(province_staff)
    village = Village.objects.filter(regency__code="18.01", rollout__isnull=False).first()

    regency_page = client.get("/dashboard/regencies/18.01/").content.decode()
    district_page = client.get(f"/dashboard/districts/{village.district.code}/").content.decode()
    village_page = client.get(f"/dashboard/villages/{village.code}/").content.decode()

    assert f"/dashboard/districts/{village.district.code}/" in regency_page
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
        Village.objects.filter(district__code="18.01.02").values_list("code", flat=True)
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
    if role == "officer_a" and url == "/":
        url = "/dashboard/regencies/18.01/"  # an officer's home is the field workspace (test_officer_home.py)
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
        "18.01": sum(g.village.regency.code == "18.01" for g in listed),
        "18.71": 1,
    }
    assert province["18.01"] == 2  # three paid in 18.01, one of them to the live village
    assert regency == {
        district: sum(g.village.district.code == district for g in listed) for district in ("18.01.01", "18.01.02")
    }


def test_the_headline_money_is_the_allocations_ledger(client, province_staff, busy, ro_allocation, ro_grant):
    # Issue 11: "disbursed" is gross everywhere (it was net of returns here, and only here).
    returned = ro_grant("returned", Village.objects.filter(regency=busy.regency_a).order_by("code").last())
    client.force_login(province_staff)
    summary = grant_selectors.allocation_summary(allocation=ro_allocation, user=province_staff)
    regency_row = grant_selectors.ledger(
        allocation=ro_allocation, user=province_staff, level="regency", regency_code="18.01"
    )[0]

    province_html = client.get("/").content.decode()
    regency_html = client.get("/dashboard/regencies/18.01/").content.decode()
    kota_html = client.get("/dashboard/regencies/18.71/").content.decode()

    assert summary.returned == returned.amount and summary.disbursed > summary.net_disbursed
    assert headline(province_html, "headline-disbursed") == rupiah_short(summary.disbursed)
    assert headline(province_html, "headline-disbursed-share") == (
        f"{percent(summary.disbursed_pct)} dari {rupiah_short(ro_allocation.total_amount)}"
    )
    assert headline(province_html, "headline-returned") == rupiah_short(summary.returned)
    assert headline(province_html, "headline-net-disbursed") == (
        f"Disalurkan bersih {rupiah_short(summary.net_disbursed)} ({percent(summary.net_disbursed_pct)})"
    )
    assert headline(province_html, "headline-remaining") == rupiah_short(
        ro_allocation.total_amount - summary.net_disbursed
    )
    assert headline(regency_html, "headline-disbursed") == rupiah_short(regency_row.disbursed)
    assert headline(regency_html, "headline-disbursed-share").startswith(f"{percent(regency_row.disbursed_pct)} ")
    remaining = regency_row.committed - regency_row.net_disbursed
    assert headline(regency_html, "headline-remaining") == rupiah_short(remaining)
    assert headline(kota_html, "headline-disbursed") == "Rp0"  # no grant in the regency
    assert headline(kota_html, "headline-remaining") == "Rp0"


def test_next_years_draft_does_not_replace_this_years_money(
    client, province_staff, province_admin, busy, ro_allocation
):
    # A trial user's finding: preparing next year's allocation (a draft, nothing paid) turned the
    # dashboard's money to Rp0 of the draft's budget.
    summary = grant_selectors.allocation_summary(allocation=ro_allocation, user=province_staff)
    draft = grant_services.allocation_create(
        actor=province_admin,
        province=ro_allocation.province,
        fiscal_year=ro_allocation.fiscal_year + 1,
        legal_basis="Rancangan keputusan gubernur TA berikutnya (uji)",
    )
    client.force_login(province_staff)

    province_html = client.get("/").content.decode()

    assert summary.disbursed > 0
    assert grant_selectors.latest_allocation(province_code="18") == ro_allocation
    assert headline(province_html, "headline-disbursed") == rupiah_short(summary.disbursed)
    grant_services.allocation_activate(allocation=draft, actor=province_admin)
    assert grant_selectors.latest_allocation(province_code="18") == draft  # once decided, the new year shows


def test_disbursed_returned_and_net_agree_on_the_dashboard_grant_pages_exports_and_api(
    client, province_staff, busy, ro_allocation, ro_grant
):
    ro_grant("returned", Village.objects.filter(regency=busy.regency_a).order_by("code").last())
    client.force_login(province_staff)
    ledger = {row.code: row for row in grant_selectors.ledger(allocation=ro_allocation, user=province_staff)}
    summary = grant_selectors.allocation_summary(allocation=ro_allocation, user=province_staff)

    dashboard_html = client.get("/").content.decode()
    grants_html = client.get(f"/grants/{ro_allocation.pk}/").content.decode()
    api = client.get(f"/api/v1/allocations/{ro_allocation.pk}/ledger/").json()
    grants_export = csv_rows(client.get(f"/grants/{ro_allocation.pk}/ledger/export/", {"file": "csv"}))
    dashboard_export = csv_rows(client.get("/dashboard/export/regencies/", {"file": "csv"}))

    table = re.findall(r'<tr data-code="([^"]+)">.*?data-col="disbursed" data-value="(\d+)"', dashboard_html, re.S)
    assert dict(table) == {code: str(ledger[code].disbursed) if code in ledger else "0" for code, _value in table}
    card = re.search(r'id="disbursed-total"[^>]*>(.*?)</div>', grants_html).group(1)
    assert card == headline(dashboard_html, "headline-disbursed") == rupiah_short(summary.disbursed)
    remaining = re.search(r'id="remaining-total"[^>]*>(.*?)</div>', grants_html).group(1)
    assert remaining == headline(dashboard_html, "headline-remaining") == rupiah_short(summary.remaining)
    assert (api["disbursed"], api["returned"], api["net_disbursed"], api["remaining"]) == (
        summary.disbursed,
        summary.returned,
        summary.net_disbursed,
        summary.remaining,
    )
    for export in (grants_export, dashboard_export):
        header = export[0]
        columns = [header.index(name) for name in ("Disalurkan (Rp)", "Dikembalikan (Rp)", "Disalurkan bersih (Rp)")]
        by_code = {row[0]: [int(row[column]) for column in columns] for row in export[1:]}
        assert by_code["18.01"] == [ledger["18.01"].disbursed, ledger["18.01"].returned, ledger["18.01"].net_disbursed]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


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


# --- figures that agree (issue 11) -------------------------------------------------------------


def number(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def awaiting_rows(html: str) -> list[str]:
    table = re.search(r'<table[^>]*id="awaiting-reports">(.*?)</table>', html, re.S).group(1)
    return re.findall(r'<tr id="awaiting-(\d+)"', table)


@pytest.fixture
def seeded(db) -> str:
    """What `make run` leaves: the bundled registry and seed_demo (accounts, grants, rollout); its output."""
    regions_load()
    output = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=output)
    return output.getvalue()


def test_seed_demo_prints_the_money_the_dashboard_and_the_grant_pages_show(client, seeded):
    allocation = Allocation.objects.get()
    client.force_login(User.objects.get(username="staf"))
    summary = grant_selectors.allocation_summary(allocation=allocation, user=User.objects.get(username="staf"))

    dashboard_html = client.get("/").content.decode()
    grants_html = client.get(f"/grants/{allocation.pk}/").content.decode()

    assert summary.returned > 0  # the demo has returns, so gross and net differ
    with translation.override("id"):
        assert (
            f"disbursed {rupiah(summary.disbursed)} ({summary.disbursed_pct} %), returned {rupiah(summary.returned)}, "
            f"net disbursed {rupiah(summary.net_disbursed)}, remaining {rupiah(summary.remaining)}."
        ) in seeded
    assert headline(dashboard_html, "headline-disbursed") == rupiah_short(summary.disbursed)
    assert f"{percent(summary.disbursed_pct)} dari" in headline(dashboard_html, "headline-disbursed-share")
    assert re.search(r'id="disbursed-total"[^>]*>(.*?)</div>', grants_html).group(1) == rupiah_short(summary.disbursed)
    assert f"{percent(summary.disbursed_pct)} dari" in grants_html


def test_the_awaiting_count_is_the_awaiting_list_after_seed_demo(client, seeded):
    # One seed for every kind of reader (seed_demo takes seconds): staff, auditor and an officer.
    for username in ("staf", "auditor", "petugas.pesisirbarat"):
        user = User.objects.get(username=username)
        client.force_login(user)

        html = client.get(f"/dashboard/regencies/{user.regency.code}/" if user.regency else "/").content.decode()

        listed = awaiting_rows(html)
        waiting = selectors.report_list(user=user).filter(status=ReportStatus.AWAITING)
        assert listed, username  # seed_demo leaves officers' reports awaiting verification
        assert number(headline(html, "headline-awaiting")) == len(listed) == waiting.count(), username


@pytest.mark.parametrize("url", ["/", "/dashboard/regencies/18.01/"])
def test_the_awaiting_count_follows_a_new_submission_at_once(client, province_staff, busy, ro_submitted, url):
    client.force_login(province_staff)
    before = client.get(url).content.decode()

    report = ro_submitted(Village.objects.filter(regency=busy.regency_a).order_by("code").first())
    after = client.get(url).content.decode()

    assert number(headline(after, "headline-awaiting")) == number(headline(before, "headline-awaiting")) + 1
    assert str(report.pk) in awaiting_rows(after)
    assert number(headline(after, "headline-awaiting")) == len(awaiting_rows(after))


LISTS = {"lagging-list": "lagging", "paid-not-live-list": "paid-not-live", "awaiting-reports": "awaiting"}


@pytest.fixture
def long_lists(busy, ro_grant, ro_submitted):
    """More lagging villages, paid-not-live grants and awaiting reports than a dashboard list shows."""
    allocation = Allocation.objects.get()
    grant_services.allocation_update(
        allocation=allocation,
        actor=User.objects.get(username="staf.provinsi"),
        total_amount=allocation.total_amount * 4,
    )
    for village in VillageFactory.create_batch(dashboard.LIST_LIMIT + 2, district=busy.district_a2):
        paid(ro_grant, village)
        ro_submitted(village, pillar1=PillarStatus.IN_PROGRESS)
    return busy


def cut_note(html: str, table_id: str) -> str:
    """The note under a dashboard list (what it says about its length), tags removed."""
    block = re.search(rf'id="{table_id}">.*?</table></div>(.*?)</div>', html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", block).split())


@pytest.mark.parametrize("url", ["/", "/dashboard/regencies/18.01/"])
def test_a_list_cut_to_the_limit_says_so_and_links_to_the_whole_list(client, province_staff, long_lists, url):
    client.force_login(province_staff)

    html = client.get(url).content.decode()

    scope = {"regency": "18.01"} if "regencies" in url else {"province": "18"}
    for table_id, name in LISTS.items():
        rows = re.search(rf'id="{table_id}">.*?<tbody>(.*?)</tbody>', html, re.S).group(1).count("<tr")
        full = client.get(f"/dashboard/lists/{name}/", scope)
        assert full.status_code == 200
        total = full.context["page"].paginator.count
        assert rows == dashboard.LIST_LIMIT < total
        assert cut_note(html, table_id).startswith(f"{dashboard.LIST_LIMIT} dari {total}")
        link = re.search(rf'id="{table_id}">.*?</table></div>.*?href="([^"]+)"', html, re.S).group(1)
        assert (
            link.replace("&amp;", "&") == f"/dashboard/lists/{name}/?{next(iter(scope))}={next(iter(scope.values()))}"
        )


def test_a_list_within_the_limit_says_nothing_of_a_cut(client, province_staff, busy):
    client.force_login(province_staff)

    html = client.get("/").content.decode()

    for table_id in LISTS:
        assert cut_note(html, table_id) == ""


@pytest.mark.parametrize("name", ["lagging", "paid-not-live", "awaiting", "my-reports"])
def test_a_whole_list_shows_every_row_in_the_readers_scope(client, officer_a, long_lists, name):
    client.force_login(officer_a)

    response = client.get(f"/dashboard/lists/{name}/")

    assert response.status_code == 200
    rows = list(response.context["page"].object_list)
    regencies = {(row.regency if hasattr(row, "regency") else row.village.regency).code for row in rows}
    assert regencies <= {"18.01"}
    assert client.get(f"/dashboard/lists/{name}/", {"regency": "18.71"}).status_code == 404


def test_an_unknown_whole_list_is_a_404(client, province_staff, busy):
    client.force_login(province_staff)

    assert client.get("/dashboard/lists/everything/").status_code == 404


def repeated_blockers(html: str) -> list[str]:
    """Cells that say a blocker's category and then the same words again ("X: X ...")."""
    labels = [str(label) for label in Blocker.labels]
    with translation.override("id"):
        labels += [str(label) for label in Blocker.labels]
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    return [label for label in set(labels) if re.search(rf"{re.escape(label)}\s*:\s*{re.escape(label)}", text, re.I)]


def test_the_seeded_dashboard_names_no_official_category_and_repeats_no_blocker(client, seeded):
    client.force_login(User.objects.get(username="staf"))
    lagging = Village.objects.filter(rollout__blocker=Blocker.NO_SIGNAL).order_by("code").first()

    pages = [client.get(url).content.decode() for url in ("/", "/dashboard/regencies/18.13/")]
    pages.append(client.get(f"/dashboard/villages/{lagging.code}/").content.decode())
    pages.append(client.get("/dashboard/lists/lagging/").content.decode())

    for html in pages:
        # "Desa tertinggal" is Kemendes' category of underdeveloped villages, not "not adopted yet".
        assert "tertinggal" not in html.lower()
        assert repeated_blockers(html) == []
    assert "Desa/kelurahan belum teradopsi" in pages[0]


def test_the_catalogue_borrows_no_official_village_category():
    catalogue = (Path(settings.BASE_DIR) / "locale" / "id" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")

    assert "tertinggal" not in catalogue.lower()


@pytest.mark.parametrize(
    ("blocker", "note", "text"),
    [
        (Blocker.NO_SIGNAL, "", "Tidak ada sinyal internet"),
        (Blocker.NO_SIGNAL, "Menara BTS rusak", "Tidak ada sinyal internet: Menara BTS rusak"),
        (Blocker.NO_SIGNAL, "Tidak ada sinyal internet di wilayah desa.", "Tidak ada sinyal internet di wilayah desa."),
        (Blocker.NO_SIGNAL, "tidak ada sinyal internet sama sekali", "tidak ada sinyal internet sama sekali"),
        ("", "", ""),
    ],
)
def test_a_blocker_reads_its_category_and_note_once(blocker, note, text):
    status = VillageStatus(blocker=blocker, blocker_note=note)

    with translation.override("id"):
        assert blocker_text(status) == text
    assert blocker_text(None) == ""


def test_every_page_links_a_favicon_and_favicon_ico_is_served(client, province_staff, figures):
    client.force_login(province_staff)

    html = client.get("/").content.decode()
    redirect = client.get("/favicon.ico")
    icons = re.findall(r'<link rel="icon" href="([^"]+)"', html)

    assert icons == ["/static/favicon.svg", "/static/favicon.ico"]
    assert redirect.status_code == 302 and redirect["Location"] == "/static/favicon.ico"
    for name in ("favicon.svg", "favicon.ico"):
        assert (Path(settings.BASE_DIR) / "static" / name).stat().st_size > 0
