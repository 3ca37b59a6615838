"""How a review shows and who may give it, on the pages and in the API.

The rules themselves (the status follows the most recent report; nobody reviews their own
report) are tested on the services in test_services.py; here, that their outcome reaches people.
"""

import datetime

import pytest
from django.utils import translation

from accounts.models import Role
from accounts.services import UserInput, user_update
from rollout import services
from rollout.models import PillarStatus, ProgressReport, ReportStatus, VillageStatus
from tests.factories import UserFactory
from villages.models import Village, VillageKind

pytestmark = pytest.mark.django_db

SUPERSEDED_ID = "Terverifikasi; laporan yang lebih baru berlaku"
OWN_REPORT_ID = "Anda yang mengirim laporan ini"
OWN_REVIEW_REFUSED_ID = "pemeriksa lain yang harus memverifikasi atau menolaknya"


@pytest.fixture
def village(registry) -> Village:
    return Village.objects.filter(district=registry.district_a1, kind=VillageKind.DESA).order_by("code").first()


@pytest.fixture
def superseded(village, officer_a, ro_report_input, ro_clock, province_staff) -> ProgressReport:
    """An older report verified after a newer one: recorded, the newer one stays in place."""
    older = services.report_submit(actor=officer_a, item=ro_report_input(village, pillar1=PillarStatus.IN_PROGRESS))
    ro_clock.set(ro_clock.moment + datetime.timedelta(days=3))
    newer = services.report_submit(actor=officer_a, item=ro_report_input(village, pillar1=PillarStatus.LIVE))
    services.report_verify(report=newer, actor=province_staff)
    return services.report_verify(report=older, actor=province_staff)


@pytest.fixture
def promoted_author(village, officer_a, province_admin, ro_report_input) -> tuple[object, ProgressReport]:
    """officer_a's awaiting report, and officer_a since made province staff."""
    report = services.report_submit(actor=officer_a, item=ro_report_input(village))
    staff = user_update(
        actor=province_admin,
        user=officer_a,
        data=UserInput(username=officer_a.username, role=Role.PROVINCE_STAFF, regency=None),
    )
    return staff, report


def _decided(report: ProgressReport) -> tuple:
    return ProgressReport.objects.filter(pk=report.pk).values_list("status", "reviewed_by_id", "superseded").get()


# --- a superseded verification says so -----------------------------------------------------------


def test_the_api_says_a_verified_report_was_superseded(api_client, auditor, superseded):
    api_client.force_authenticate(auditor)

    rows = api_client.get("/api/v1/reports/", {"status": "verified"}).json()["results"]

    assert {row["id"]: row["superseded"] for row in rows} == {
        superseded.pk: True,
        VillageStatus.objects.get(village=superseded.village).last_report_id: False,
    }
    detail = api_client.get(f"/api/v1/reports/{superseded.pk}/").json()
    assert (detail["status"], detail["superseded"]) == (ReportStatus.VERIFIED, True)


def test_the_verify_answer_says_the_report_was_superseded(
    api_client, village, officer_a, ro_report_input, ro_clock, province_staff
):
    older = services.report_submit(actor=officer_a, item=ro_report_input(village, pillar1=PillarStatus.IN_PROGRESS))
    ro_clock.set(ro_clock.moment + datetime.timedelta(days=1))
    services.report_verify(
        report=services.report_submit(actor=officer_a, item=ro_report_input(village)), actor=province_staff
    )
    api_client.force_authenticate(province_staff)

    response = api_client.post(f"/api/v1/reports/{older.pk}/verify/")

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["superseded"]) == (ReportStatus.VERIFIED, True)


def test_the_report_list_says_a_verified_report_was_superseded(client, auditor, superseded):
    client.force_login(auditor)

    page = client.get("/rollout/reports/", {"status": "verified"}).content.decode()

    assert page.count(SUPERSEDED_ID) == 1


def test_the_village_history_says_a_verified_report_was_superseded(client, province_staff, superseded):
    client.force_login(province_staff)

    page = client.get(f"/dashboard/villages/{superseded.village.code}/").content.decode()

    history = page[page.index('id="report-history"') :]
    assert history.count(SUPERSEDED_ID) == 1


def test_the_outcome_is_translated(superseded):
    with translation.override("en"):
        assert superseded.get_outcome_display() == "Verified; a newer report is in place"
    with translation.override("id"):
        assert superseded.get_outcome_display() == SUPERSEDED_ID


# --- nobody reviews their own report ------------------------------------------------------------


@pytest.mark.parametrize(("decision", "body"), [("verify", {}), ("reject", {"reason": "Tidak sesuai."})])
def test_the_api_refuses_a_review_by_the_promoted_author(api_client, promoted_author, decision, body):
    staff, report = promoted_author
    api_client.force_authenticate(staff)
    before = _decided(report)

    response = api_client.post(f"/api/v1/reports/{report.pk}/{decision}/", body, format="json")

    assert response.status_code == 403, response.content
    assert response.json()["detail"]
    assert _decided(report) == before == (ReportStatus.AWAITING, None, False)
    assert not VillageStatus.objects.exists()


@pytest.mark.parametrize(("decision", "body"), [("verify", {}), ("reject", {"reason": "Tidak sesuai."})])
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_the_page_refuses_a_review_by_the_promoted_author(client, promoted_author, decision, body, htmx):
    staff, report = promoted_author
    client.force_login(staff)
    headers = {"HX-Request": "true"} if htmx else {}

    response = client.post(f"/rollout/reports/{report.pk}/{decision}/", body, headers=headers, follow=True)

    assert response.status_code == 200
    assert OWN_REVIEW_REFUSED_ID in response.content.decode()
    assert _decided(report) == (ReportStatus.AWAITING, None, False)


def test_the_queue_offers_no_decision_on_the_own_report(client, promoted_author, registry, ro_report_input):
    staff, own = promoted_author
    other_village = Village.objects.filter(district=registry.district_a2).order_by("code").first()
    other_officer = UserFactory(username="petugas.lain", role=Role.REGENCY_OFFICER, regency=registry.regency_a)
    other = services.report_submit(actor=other_officer, item=ro_report_input(other_village))
    client.force_login(staff)

    for url in ("/rollout/reports/", "/"):
        page = client.get(url).content.decode()

        assert f"/rollout/reports/{other.pk}/verify/" in page, url
        assert f"/rollout/reports/{own.pk}/verify/" not in page, url
        assert f"/rollout/reports/{own.pk}/reject/" not in page, url
        assert OWN_REPORT_ID in page, url
