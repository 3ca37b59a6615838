"""The portal's main flows in a real browser (Chromium), against the live server.

Each test seeds through the real code (the bundled registry, seed_demo) in a transactional database,
which costs seconds: keep this module to the few flows that only a browser can check.
"""

import datetime
import itertools
import json
import re
from urllib.parse import urlparse

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from accounts.access import Capability, has_capability
from accounts.models import User
from grants.models import Allocation, Grant
from rollout.models import AdoptionSnapshot, PillarStatus, ProgressReport, ReportStatus, Signal, SnapshotLevel
from rollout.services import adoption_recompute
from villages.models import DESA_KINDS, Village

OFFICER, OFFICER_REGENCY = "petugas.pesisirbarat", "18.13"
OTHER_REGENCY, OTHER_REGENCY_NAME, OTHER_DISTRICT = "18.01", "Lampung Selatan", "18.01.04"
REGENCIES_AND_CITIES = 15

# 2.385 (id), 2,385 (en) and 2385 are all 2385; a decimal part is a separate number.
NUMBER = re.compile(r"\d{1,3}(?:[.,\u00a0\u202f]\d{3})+(?!\d)|\d+")


PHONE = {"width": 390, "height": 844}


def map_figures(page) -> dict[str, dict]:
    """The properties the map draws, per regency code."""
    data = json.loads(page.locator("#map-data").text_content())
    return {feature["properties"]["code"]: feature["properties"] for feature in data["features"]}


def numbers_in(text: str) -> list[int]:
    return [int(re.sub(r"\D", "", match)) for match in NUMBER.findall(text)]


def regency_cell(page, code: str, column: str):
    return page.locator(f'#regency-table tr[data-code="{code}"] td[data-col="{column}"]')


def test_it_shows_a_verified_report_on_the_dashboard(demo, eager_celery, browsing, log_in, artifacts):
    village = (
        Village.objects.filter(regency__code=OFFICER_REGENCY, kind__in=DESA_KINDS, is_active=True)
        .exclude(rollout__pillar1=PillarStatus.LIVE)
        .exclude(reports__status=ReportStatus.AWAITING)
        .order_by("code")
        .first()
    )
    assert village is not None, "the demo leaves desa of Pesisir Barat not adopted"

    # Officers work in the field: a phone-sized screen.
    officer = browsing.new_page(viewport=PHONE)
    log_in(officer, OFFICER)
    officer.goto(f"/rollout/villages/{village.code}/report/")
    officer.select_option("#id_pillar1", PillarStatus.LIVE)
    officer.select_option("#id_signal", Signal.G4)
    officer.check("#id_signal_sufficient")
    # The form starts from the current status, blocked by no signal: 4G ends that blocker, and choosing no
    # blocker empties its note.
    officer.select_option("#id_blocker", "")
    expect(officer.locator("#id_blocker_note")).to_have_value("")
    # The report goes through the device's queue, online too (tests/browser/test_field_capture.py): kept, sent.
    officer.click("form:has(#id_pillar1) button[type=submit]")
    expect(officer.locator("[data-confirmation][data-sent]")).to_be_visible()  # "received by the portal"
    expect(officer.locator("nav [data-queue-count]")).to_have_attribute("data-queue-count", "0")

    report = ProgressReport.objects.get(village=village, status=ReportStatus.AWAITING)
    assert report.blocker_note == ""
    officer.goto("/rollout/reports/")
    with translation.override("id"):
        awaiting = str(ReportStatus.AWAITING.label)
    expect(officer.locator(f"#report-{report.pk}")).to_contain_text(village.name)
    expect(officer.locator(f"#report-{report.pk}")).to_contain_text(awaiting)

    officer.goto("/")
    officer.screenshot(path=artifacts / "officer-workspace.png", full_page=True)
    # Wide tables scroll inside their own box; the page itself never scrolls sideways.
    assert officer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(officer.locator(f'#my-reports [data-report="{report.pk}"] [data-status="awaiting"]')).to_be_visible()
    officer.click("text=Angka kabupaten")
    assert officer.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(officer.locator("#headline-adopted-desa")).to_be_visible()

    staff = browsing.new_page()
    log_in(staff, "staf")
    staff.goto("/")
    headline_before = staff.locator("#headline-adopted-desa").inner_text()
    map_before = map_figures(staff)[OFFICER_REGENCY]
    regency_before = numbers_in(regency_cell(staff, OFFICER_REGENCY, "adopted").inner_text())[0]

    staff.goto("/rollout/reports/")
    with staff.expect_navigation():
        staff.click(f'#report-{report.pk} form[action$="/verify/"] button[type=submit]')
    expect(staff.locator(f"#report-{report.pk}")).to_have_count(0)
    report.refresh_from_db()
    assert report.status == ReportStatus.VERIFIED

    # The verification recomputed today's snapshots (inline: Celery is eager here).
    province = AdoptionSnapshot.objects.filter(level=SnapshotLevel.PROVINCE, code="18").latest("date")
    assert province.date == timezone.localdate()

    staff.goto("/")
    try:
        expect(staff.locator("#regency-map path.leaflet-interactive")).to_have_count(REGENCIES_AND_CITIES)
    finally:
        staff.screenshot(path=artifacts / "dashboard.png", full_page=True)
    headline = staff.locator("#headline-adopted-desa")
    expect(headline).not_to_have_text(headline_before)
    assert province.adopted_desa in numbers_in(headline.inner_text())
    assert numbers_in(regency_cell(staff, OFFICER_REGENCY, "adopted").inner_text())[0] == regency_before + 1
    expect(staff.locator("canvas#trend-chart")).to_be_visible()
    # The map shades and labels the regency from the new figures.
    assert map_figures(staff)[OFFICER_REGENCY]["adopted_units"] == map_before["adopted_units"] + 1
    assert browsing.problems() == []


def test_it_answers_404_to_an_officer_on_another_regencys_pages(demo, browsing, log_in):
    page = browsing.new_page()
    log_in(page, OFFICER)
    own = [
        f"/dashboard/regencies/{OFFICER_REGENCY}/",
        f"/registry/regencies/{OFFICER_REGENCY}/",
        f"/rollout/districts/{OFFICER_REGENCY}.01/bulk/",
    ]
    other = [
        f"/dashboard/regencies/{OTHER_REGENCY}/",
        f"/registry/regencies/{OTHER_REGENCY}/",
        f"/rollout/districts/{OTHER_DISTRICT}/bulk/",
    ]

    # Their own regency's pages open, so the 404s below come from the access policy.
    assert {url: page.goto(url).status for url in own} == dict.fromkeys(own, 200)
    for url in other:
        browsing.expect_error_status(url)
        assert page.goto(url).status == 404, url
        expect(page.locator("body")).not_to_contain_text(OTHER_REGENCY_NAME)
    assert browsing.problems() == []


def test_it_switches_the_login_page_from_indonesian_to_english(browsing):
    page = browsing.new_page()
    page.goto("/login/")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("button", name="Masuk", exact=True)).to_be_visible()

    with page.expect_navigation():
        page.select_option("select[name=language]", "en")

    assert urlparse(page.url).path == "/login/"
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Log in", exact=True)).to_be_visible()
    assert browsing.problems() == []


def test_the_trend_chart_spaces_snapshots_by_their_dates(demo, browsing, log_in):
    # A snapshot today, years after the demo's last monthly one: the chart must show the gap.
    adoption_recompute(on_date=timezone.localdate())
    page = browsing.new_page()
    log_in(page, "staf")
    page.goto("/")

    chart = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.getElementById("trend-chart"));
            return { type: chart.scales.x.type, xs: chart.getDatasetMeta(0).data.map((point) => point.x) };
        }"""
    )

    trend = json.loads(page.locator("#trend-data").text_content())
    days = [datetime.date.fromisoformat(day) for day, _value in trend["18"]["points"]]
    assert chart["type"] == "time"
    assert len(chart["xs"]) == len(days) >= 3
    # Pixels per day are the same between any two neighbouring snapshots, the long gap included.
    scales = [
        (x2 - x1) / (d2 - d1).days for (x1, d1), (x2, d2) in itertools.pairwise(zip(chart["xs"], days, strict=True))
    ]
    assert max(scales) == pytest.approx(min(scales), rel=0.05), scales


# Pages every role opens; {own} is the regency the role reads (an officer's own, Pesisir Barat for the others).
COMMON_PAGES = [
    "/",
    "/dashboard/regencies/{regency}/",
    "/dashboard/districts/{district}/",
    "/dashboard/villages/{village}/",
    "/dashboard/lists/lagging/?regency={regency}",
    "/dashboard/lists/awaiting/?regency={regency}",
    "/dashboard/lists/paid-not-live/?regency={regency}",
    "/grants/",
    "/grants/{allocation}/",
    "/grants/{allocation}/regencies/{regency}/",
    "/grants/{allocation}/grants/?regency={regency}",
    "/grants/grant/{grant}/",
    "/rollout/reports/",
    "/rollout/reports/?status=verified",
    "/registry/",
    "/registry/regencies/{regency}/",
    "/registry/districts/{district}/",
    "/api/docs/",
]
ROLE_PAGES = {
    Capability.SUBMIT_REPORTS: [
        "/rollout/villages/{village}/report/",
        "/rollout/districts/{district}/bulk/",
        "/dashboard/lists/my-reports/",
    ],
    Capability.VIEW_AUDIT: ["/audit/"],
    Capability.MANAGE_USERS: ["/accounts/users/", "/accounts/users/new/"],
}
ROLES = ["staf", OFFICER, "auditor", "admin"]


def test_no_page_logs_a_console_error_for_any_role(demo, browsing, log_in):
    allocation = Allocation.objects.get()
    visited = {}
    for username in ROLES:
        user = User.objects.get(username=username)
        regency = user.regency.code if user.regency_id else OFFICER_REGENCY
        village = Village.objects.filter(regency__code=regency, rollout__blocker__gt="").order_by("code").first()
        grant = Grant.objects.filter(allocation=allocation, village=village).get()
        names = {
            "regency": regency,
            "district": village.district.code,
            "village": village.code,
            "allocation": allocation.pk,
            "grant": grant.pk,
        }
        pages = COMMON_PAGES + [
            url for capability, urls in ROLE_PAGES.items() if has_capability(user, capability) for url in urls
        ]
        page = browsing.new_page()
        log_in(page, username)
        for url in pages:
            path = url.format(**names)
            response = page.goto(path)
            assert response.status == 200, (username, path)
            page.wait_for_load_state("load")
        visited[username] = len(pages)

        # The icon the pages link and the one browsers ask for by themselves are both there.
        for href in page.locator('link[rel="icon"]').evaluate_all("(links) => links.map((link) => link.href)"):
            assert page.request.get(href).status == 200, href
        favicon = page.request.get("/favicon.ico")
        assert favicon.status == 200 and favicon.headers["content-type"] in ("image/x-icon", "image/vnd.microsoft.icon")

    assert set(visited) == set(ROLES)
    assert visited["admin"] > visited["auditor"] > visited["staf"]
    # The `browsing` fixture then asserts that none of these pages logged a console error.


def test_the_awaiting_count_follows_a_decision_taken_on_the_dashboard(demo, browsing, log_in):
    page = browsing.new_page()
    log_in(page, "staf")
    page.goto("/")
    before = int(page.locator("#headline-awaiting").inner_text())
    first = page.locator("#awaiting-reports tbody tr").first

    first.locator('form[action$="/verify/"] button[type=submit]').click()

    expect(first).to_have_class(re.compile("table-success"))
    still_awaiting = page.locator("#awaiting-reports tbody tr:not(.table-success)")
    expect(page.locator("#headline-awaiting")).to_have_text(str(before - 1))
    assert still_awaiting.count() == before - 1
