"""The regency officer's home (issue 13): what needs doing in the regency, the own rejected reports with one
tap to report again, one tap to any village's report form, the own reports with their status."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rollout import services
from rollout.models import Blocker, PillarStatus, Signal
from tests.factories import VillageFactory
from villages.models import Village

pytestmark = pytest.mark.django_db


def report(officer, village, **fields):
    values = {
        "pillar1": PillarStatus.LIVE,
        "pillar2": PillarStatus.LIVE,
        "pillar3": PillarStatus.LIVE,
        "signal": Signal.G4,
        "signal_sufficient": True,
    }
    values.update(fields)
    return services.report_submit(actor=officer, item=services.ReportInput(village=village, **values))


def worklist(html: str) -> dict[str, str]:
    """Village code -> the text of its row in the work list."""
    section = re.search(r'<section class="mb-4" id="worklist">(.*?)</section>', html, re.S).group(1)
    rows = re.findall(r'data-village="([^"]+)">(.*?)</a>', section, re.S)
    return {code: " ".join(re.sub(r"<[^>]+>", " ", row).split()) for code, row in rows}


@pytest.fixture
def field(registry, officer_a, province_staff):
    """Regency A: one village live and freshly verified, one blocked by no signal, the others never reported."""
    live, blocked, *_rest = Village.objects.filter(regency=registry.regency_a).order_by("code")
    services.report_verify(report=report(officer_a, live), actor=province_staff)
    services.report_verify(
        report=report(
            officer_a,
            blocked,
            pillar1=PillarStatus.IN_PROGRESS,
            signal=Signal.NONE,
            signal_sufficient=False,
            blocker=Blocker.NO_SIGNAL,
            blocker_note="Menara BTS belum ada",
        ),
        actor=province_staff,
    )
    return live, blocked


def test_the_home_leads_with_the_villages_that_need_a_visit(client, officer_a, registry, field):
    live, blocked = field
    client.force_login(officer_a)

    rows = worklist(client.get("/").content.decode())

    regency_a = set(Village.objects.filter(regency=registry.regency_a).values_list("code", flat=True))
    assert set(rows) == regency_a - {live.code}
    assert next(iter(rows)) == blocked.code  # blocked first
    assert "Menara BTS belum ada" in rows[blocked.code]
    never = next(code for code in rows if code != blocked.code)
    assert "Belum live" in rows[never] or "Not live" in rows[never]


def test_each_village_is_one_tap_from_its_report_form(client, officer_a, registry, field):
    client.force_login(officer_a)

    html = client.get("/").content.decode()

    for village in Village.objects.filter(regency=registry.regency_a):
        assert f'href="/rollout/villages/{village.code}/report/"' in html
    for village in Village.objects.filter(regency=registry.regency_b):
        assert village.code not in html


def test_a_rejected_report_shows_its_reason_and_leaves_once_reported_again(
    client, officer_a, province_staff, registry, field
):
    village = Village.objects.filter(regency=registry.regency_a).order_by("-code").first()
    services.report_reject(report=report(officer_a, village), actor=province_staff, reason="Foto tidak jelas")
    client.force_login(officer_a)

    html = client.get("/").content.decode()
    rejected = re.search(r'id="rejected">(.*?)</section>', html, re.S).group(1)
    assert "Foto tidak jelas" in rejected
    assert f'href="/rollout/villages/{village.code}/report/"' in rejected

    report(officer_a, village)
    assert 'id="rejected"' not in client.get("/").content.decode()


def test_the_own_reports_show_their_status_and_the_rejection_reason(client, officer_a, province_staff, registry):
    first, second = Village.objects.filter(regency=registry.regency_a).order_by("code")[:2]
    waiting = report(officer_a, first)
    refused = report(officer_a, second)
    services.report_reject(report=refused, actor=province_staff, reason="Sinyal salah")
    client.force_login(officer_a)

    html = client.get("/").content.decode()
    own = re.search(r'id="my-reports">(.*?)</section>', html, re.S).group(1)

    assert re.search(rf'data-report="{waiting.pk}">.*?data-status="awaiting"', own, re.S)
    assert re.search(rf'data-report="{refused.pk}">.*?Sinyal salah.*?data-status="rejected"', own, re.S)


def test_the_home_runs_a_fixed_number_of_queries(client, officer_a, province_staff, registry, field):
    client.force_login(officer_a)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/").status_code == 200

    for district in (registry.district_a1, registry.district_a2):
        for village in VillageFactory.create_batch(5, district=district):
            services.report_reject(report=report(officer_a, village), actor=province_staff, reason="Ulangi")
    with CaptureQueriesContext(connection) as many:
        assert client.get("/").status_code == 200

    # session, user with the regency, the work list, the rejected reports, the villages, the own reports, and
    # the demo label's flag
    assert len(few) == len(many) == 7, [query["sql"] for query in many.captured_queries]


def test_the_officers_menu_has_no_api_link_and_the_staffs_has(client, officer_a, province_staff):
    client.force_login(officer_a)
    assert 'href="/api/docs/"' not in client.get("/rollout/reports/").content.decode()

    client.force_login(province_staff)
    assert 'href="/api/docs/"' in client.get("/rollout/reports/").content.decode()


def test_every_officer_page_shows_the_queue_count_and_no_other_role_has_it(client, officer_a, province_staff):
    client.force_login(officer_a)
    for url in ("/", "/rollout/reports/", "/registry/"):
        assert 'data-queue-count="0"' in client.get(url).content.decode(), url

    client.force_login(province_staff)
    assert "data-queue-count" not in client.get("/rollout/reports/").content.decode()
