import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rollout import services
from rollout.models import DemoDataset, PillarStatus, ProgressReport, ReportStatus, Signal, VillageStatus
from tests.factories import VillageFactory
from villages.models import Village

pytestmark = pytest.mark.django_db


def report_data(**overrides) -> dict:
    data = {
        "pillar1": PillarStatus.LIVE,
        "pillar2": PillarStatus.IN_PROGRESS,
        "pillar3": PillarStatus.NOT_STARTED,
        "signal": Signal.G4,
        "signal_sufficient": "on",
        "blocker": "",
        "blocker_note": "",
        "note": "Operator sudah dilatih",
        "evidence_url": "",
    }
    data.update(overrides)
    return data


def bulk_post(villages, included: dict[str, dict]) -> dict:
    post = {"form-TOTAL_FORMS": str(len(villages)), "form-INITIAL_FORMS": str(len(villages))}
    for index, village in enumerate(villages):
        row = {**report_data(), **included.get(village.code, {})}
        row.pop("note"), row.pop("evidence_url")
        if village.code in included:
            row["include"] = "on"
        post.update({f"form-{index}-{name}": value for name, value in row.items()})
        post[f"form-{index}-village"] = village.code
    return post


def test_an_officer_submits_a_report_from_the_village_page(client, officer_a, registry):
    village = Village.objects.filter(regency=registry.regency_a).first()
    client.force_login(officer_a)

    response = client.post(f"/rollout/villages/{village.code}/report/", report_data())

    assert response.status_code == 302
    report = ProgressReport.objects.get(village=village)
    assert report.status == ReportStatus.AWAITING
    assert report.submitted_by == officer_a
    assert not VillageStatus.objects.filter(village=village).exists()


def test_a_bad_report_keeps_the_input_and_shows_the_field_error(client, officer_a, registry):
    village = Village.objects.filter(regency=registry.regency_a).first()
    client.force_login(officer_a)

    response = client.post(
        f"/rollout/villages/{village.code}/report/", report_data(blocker="no_signal", note="catatan saya")
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "catatan saya" in html and "is-invalid" in html
    assert not ProgressReport.objects.exists()


def test_choosing_no_blocker_drops_the_note_of_the_former_blocker(client, officer_a, registry):
    # The form starts from the village's status (blocked, with a note); the officer picks "none".
    village = Village.objects.filter(regency=registry.regency_a).first()
    client.force_login(officer_a)

    response = client.post(
        f"/rollout/villages/{village.code}/report/", report_data(blocker="", blocker_note="Menara BTS belum ada")
    )

    assert response.status_code == 302
    report = ProgressReport.objects.get(village=village)
    assert (report.blocker, report.blocker_note) == ("", "")


def test_a_grid_row_with_no_blocker_drops_its_note(client, officer_a, registry):
    villages = list(Village.objects.filter(district=registry.district_a1).order_by("code"))
    client.force_login(officer_a)

    post = bulk_post(villages, {villages[0].code: {"blocker": "", "blocker_note": "Menara BTS belum ada"}})
    response = client.post(f"/rollout/districts/{registry.district_a1.code}/bulk/", post)

    assert response.status_code == 302
    assert ProgressReport.objects.get(village=villages[0]).blocker_note == ""


def test_an_officer_cannot_open_another_regencys_report_form_or_grid(client, officer_a, registry):
    village_b = Village.objects.filter(regency=registry.regency_b).first()
    client.force_login(officer_a)

    assert client.get(f"/rollout/villages/{village_b.code}/report/").status_code == 404
    assert client.get(f"/rollout/districts/{registry.district_b1.code}/bulk/").status_code == 404
    assert client.post(f"/rollout/villages/{village_b.code}/report/", report_data()).status_code == 404
    assert not ProgressReport.objects.exists()


@pytest.mark.parametrize("role_fixture", ["province_staff", "auditor"])
def test_only_regency_officers_submit_reports(request, client, registry, role_fixture):
    village = Village.objects.filter(regency=registry.regency_a).first()
    client.force_login(request.getfixturevalue(role_fixture))

    assert client.post(f"/rollout/villages/{village.code}/report/", report_data()).status_code == 403


def test_the_bulk_grid_reports_the_ticked_villages_together(client, officer_a, registry):
    villages = list(Village.objects.filter(district=registry.district_a1).order_by("code"))
    client.force_login(officer_a)
    ticked = {villages[0].code: {}, villages[2].code: {"pillar1": PillarStatus.IN_PROGRESS}}

    response = client.post(f"/rollout/districts/{registry.district_a1.code}/bulk/", bulk_post(villages, ticked))

    assert response.status_code == 302
    reports = ProgressReport.objects.order_by("village__code")
    assert [r.village.code for r in reports] == sorted(ticked)
    assert reports[1].pillar1 == PillarStatus.IN_PROGRESS


def test_one_bad_row_in_the_grid_submits_nothing_and_marks_the_row(client, officer_a, registry):
    villages = list(Village.objects.filter(district=registry.district_a1).order_by("code"))
    client.force_login(officer_a)
    ticked = {villages[0].code: {}, villages[1].code: {"blocker": "no_signal", "signal_sufficient": "on"}}

    response = client.post(f"/rollout/districts/{registry.district_a1.code}/bulk/", bulk_post(villages, ticked))

    assert response.status_code == 400
    assert "table-danger" in response.content.decode()
    assert not ProgressReport.objects.exists()


def test_staff_verify_a_report_from_the_queue_and_the_status_changes(client, officer_a, province_staff, registry):
    village = Village.objects.filter(regency=registry.regency_a).first()
    client.force_login(officer_a)
    client.post(f"/rollout/villages/{village.code}/report/", report_data())
    report = ProgressReport.objects.get()
    client.force_login(province_staff)

    queue = client.get("/rollout/reports/").content.decode()
    response = client.post(f"/rollout/reports/{report.pk}/verify/")

    assert f'id="report-{report.pk}"' in queue
    assert response.status_code == 302
    assert VillageStatus.objects.get(village=village).pillar1 == PillarStatus.LIVE


def test_staff_reject_with_a_reason_and_the_officer_sees_it(client, officer_a, province_staff, registry):
    village = Village.objects.filter(regency=registry.regency_a).first()
    client.force_login(officer_a)
    client.post(f"/rollout/villages/{village.code}/report/", report_data())
    report = ProgressReport.objects.get()
    client.force_login(province_staff)
    client.post(f"/rollout/reports/{report.pk}/reject/", {"reason": "Bukti tidak dilampirkan"})
    client.force_login(officer_a)

    rejected = client.get("/rollout/reports/", {"status": "rejected"}).content.decode()

    assert "Bukti tidak dilampirkan" in rejected
    assert not VillageStatus.objects.filter(village=village).exists()


def test_a_rejection_without_reason_is_refused(client, officer_a, province_staff, registry):
    village = Village.objects.filter(regency=registry.regency_a).first()
    report = services.report_submit(
        actor=officer_a,
        item=services.ReportInput(
            village=village, pillar1="live", pillar2="live", pillar3="live", signal="4g", signal_sufficient=True
        ),
    )
    client.force_login(province_staff)

    client.post(f"/rollout/reports/{report.pk}/reject/", {"reason": "  "})

    report.refresh_from_db()
    assert report.status == ReportStatus.AWAITING


@pytest.mark.parametrize("role_fixture", ["officer_a", "auditor"])
def test_only_province_staff_verify(request, client, officer_a, registry, role_fixture):
    village = Village.objects.filter(regency=registry.regency_a).first()
    report = services.report_submit(
        actor=officer_a,
        item=services.ReportInput(
            village=village, pillar1="live", pillar2="live", pillar3="live", signal="4g", signal_sufficient=True
        ),
    )
    client.force_login(request.getfixturevalue(role_fixture))

    assert client.post(f"/rollout/reports/{report.pk}/verify/").status_code == 403
    report.refresh_from_db()
    assert report.status == ReportStatus.AWAITING


def test_an_officer_sees_only_the_own_regencys_reports(client, officer_a, officer_b, registry):
    village_b = Village.objects.filter(regency=registry.regency_b).first()
    services.report_submit(
        actor=officer_b,
        item=services.ReportInput(
            village=village_b, pillar1="live", pillar2="live", pillar3="live", signal="4g", signal_sufficient=True
        ),
    )
    client.force_login(officer_a)

    assert village_b.code not in client.get("/rollout/reports/").content.decode()


def test_the_report_queue_query_count_does_not_grow(client, officer_a, province_staff, registry):
    def submit(village):
        services.report_submit(
            actor=officer_a,
            item=services.ReportInput(
                village=village, pillar1="live", pillar2="live", pillar3="live", signal="4g", signal_sufficient=True
            ),
        )

    submit(Village.objects.filter(regency=registry.regency_a).first())
    client.force_login(province_staff)
    with CaptureQueriesContext(connection) as few:
        client.get("/rollout/reports/")
    for _ in range(12):
        submit(VillageFactory(district=registry.district_a2))
    with CaptureQueriesContext(connection) as many:
        client.get("/rollout/reports/")

    assert len(many) == len(few)


def test_the_bulk_grid_query_count_does_not_grow(client, officer_a, registry):
    client.force_login(officer_a)
    with CaptureQueriesContext(connection) as few:
        client.get(f"/rollout/districts/{registry.district_a2.code}/bulk/")
    VillageFactory.create_batch(12, district=registry.district_a2)
    with CaptureQueriesContext(connection) as many:
        client.get(f"/rollout/districts/{registry.district_a2.code}/bulk/")

    assert len(many) == len(few)


def test_pages_carry_the_demo_label_only_with_demo_data(client, province_staff, registry):
    client.force_login(province_staff)
    before = client.get("/registry/").content.decode()
    DemoDataset.objects.create()
    after = client.get("/registry/").content.decode()

    assert 'role="note"' not in before
    assert 'role="note"' in after


def test_an_htmx_verification_answers_the_row_to_swap_in(client, officer_a, province_staff, registry):
    village = Village.objects.filter(regency=registry.regency_a).first()
    report = services.report_submit(
        actor=officer_a,
        item=services.ReportInput(
            village=village, pillar1="live", pillar2="live", pillar3="live", signal="4g", signal_sufficient=True
        ),
    )
    client.force_login(province_staff)

    first = client.post(f"/rollout/reports/{report.pk}/verify/", headers={"HX-Request": "true"})
    again = client.post(f"/rollout/reports/{report.pk}/verify/", headers={"HX-Request": "true"})

    assert first.status_code == 200
    assert first.content.decode().startswith(f'<tr id="awaiting-{report.pk}" class="table-success">')
    assert again.status_code == 200  # htmx swaps only 2xx answers; the row says it was refused
    assert "table-danger" in again.content.decode()
    assert VillageStatus.objects.get(village=village).pillar1 == PillarStatus.LIVE
