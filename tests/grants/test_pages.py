import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from grants import selectors, services
from grants.models import Disbursement, Grant, GrantEvent, GrantStatus
from smartvillage.templatetags.rupiah import percent, rupiah, rupiah_short
from tests.factories import VillageFactory
from villages.models import District, Province, Regency, Village

pytestmark = pytest.mark.django_db

TRANSFER_DATE = datetime.date(2024, 5, 2)


@pytest.fixture
def page_allocation(registry, province_admin):
    allocation = services.allocation_create(
        actor=province_admin, province=Province.objects.get(code="18"), fiscal_year=2024, legal_basis="Kepgub 1/2024"
    )
    services.allocation_plan(allocation=allocation, actor=province_admin)
    return services.allocation_activate(allocation=allocation, actor=province_admin)


def make_room(allocation, actor, grants: int) -> None:
    allocation.refresh_from_db()
    services.allocation_update(
        allocation=allocation, actor=actor, total_amount=allocation.total_amount + grants * allocation.unit_amount
    )


@pytest.fixture
def approved_grant(page_allocation, province_staff, registry):
    grant = Grant.objects.filter(allocation=page_allocation, village__regency=registry.regency_a).first()
    return services.grant_approve(grant=grant, actor=province_staff)


def post_action(client, grant, action, **fields):
    data = {f"{action}-{name}": value for name, value in fields.items()}
    return client.post(f"/grants/grant/{grant.pk}/{action}/", data)


@pytest.mark.parametrize(
    "value, full, short",
    [
        (15_906_000_000, "Rp15.906.000.000", "Rp15,9 miliar"),
        (6_000_000, "Rp6.000.000", "Rp6 juta"),
        (708_000_000, "Rp708.000.000", "Rp708 juta"),
        (500_000, "Rp500.000", "Rp500.000"),
        (1_250_000_000_000, "Rp1.250.000.000.000", "Rp1,3 triliun"),
        (-500_000, "-Rp500.000", "-Rp500.000"),
    ],
)
def test_rupiah_is_written_the_indonesian_way(value, full, short):
    with translation.override("id"):
        assert rupiah(value) == full
        assert rupiah_short(value) == short


def test_rupiah_follows_the_english_switch():
    with translation.override("en"):
        assert rupiah(15_906_000_000) == "Rp15,906,000,000"
        assert rupiah_short(15_906_000_000) == "Rp15.9 billion"


def test_the_allocation_page_shows_total_disbursed_and_remaining(client, province_staff, approved_grant):
    services.grant_disburse(grant=approved_grant, actor=province_staff, reference="SP2D-1", transfer_date=TRANSFER_DATE)
    client.force_login(province_staff)

    html = client.get(f"/grants/{approved_grant.allocation_id}/").content.decode()

    allocation = approved_grant.allocation
    assert rupiah(allocation.total_amount) in html
    assert rupiah(approved_grant.amount) in html
    assert rupiah(allocation.total_amount - approved_grant.amount) in html
    assert 'role="progressbar"' in html
    assert "Kabupaten Lampung Selatan" in html and "Kota Bandar Lampung" in html


def test_the_allocation_and_regency_pages_show_disbursed_returned_net_and_remaining(
    client, province_staff, approved_grant
):
    services.grant_disburse(grant=approved_grant, actor=province_staff, reference="SP2D-2", transfer_date=TRANSFER_DATE)
    services.grant_return(grant=approved_grant, actor=province_staff, amount=1_000_000, reference="STS-2")
    client.force_login(province_staff)
    allocation = approved_grant.allocation

    overview = client.get(f"/grants/{allocation.pk}/").content.decode()
    regency = client.get(f"/grants/{allocation.pk}/regencies/18.01/").content.decode()

    net = approved_grant.amount - 1_000_000
    assert f'id="returned-total">Dikembalikan {rupiah(1_000_000)}<' in overview
    assert f'id="net-disbursed-total">Disalurkan bersih {rupiah(net)}<' in overview
    assert f">{rupiah_short(allocation.total_amount - net)}<" in overview
    assert '<th class="num">Disalurkan bersih</th>' in overview
    planned = (
        Grant.objects.filter(allocation=allocation, village__regency__code="18.01").count() * allocation.unit_amount
    )
    with translation.override("id"):
        share = percent(round(100 * approved_grant.amount / planned, 1))
    assert f"disalurkan {rupiah(approved_grant.amount)} ({share})" in regency
    assert (
        f"dikembalikan {rupiah(1_000_000)}, disalurkan bersih {rupiah(net)}, sisa {rupiah(planned - net)}." in regency
    )


def test_the_allocation_page_drills_down_to_districts_and_grants(client, province_staff, page_allocation):
    client.force_login(province_staff)

    regency_page = client.get(f"/grants/{page_allocation.pk}/regencies/18.01/").content.decode()
    district_list = client.get(f"/grants/{page_allocation.pk}/grants/", {"district": "18.01.01"}).content.decode()

    assert f"/grants/{page_allocation.pk}/grants/?district=18.01.01" in regency_page
    grant = Grant.objects.filter(village__district__code="18.01.01").first()
    assert f"/grants/grant/{grant.pk}/" in district_list
    assert "18.01.02." not in district_list


def test_a_staff_member_disburses_a_grant_from_its_page(client, province_staff, approved_grant):
    client.force_login(province_staff)

    response = post_action(
        client, approved_grant, "disburse", reference="SP2D/900/2024", transfer_date="2024-05-02", confirm="on"
    )

    assert response.status_code == 302
    approved_grant.refresh_from_db()
    assert approved_grant.status == GrantStatus.DISBURSED
    assert approved_grant.disbursement.reference == "SP2D/900/2024"
    timeline = client.get(f"/grants/grant/{approved_grant.pk}/").content.decode()
    assert "SP2D/900/2024" in timeline


def test_an_unconfirmed_action_keeps_the_input_and_changes_nothing(client, province_staff, approved_grant):
    client.force_login(province_staff)

    response = post_action(client, approved_grant, "disburse", reference="SP2D/901/2024", transfer_date="2024-05-02")

    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="SP2D/901/2024"' in html
    assert "is-invalid" in html
    approved_grant.refresh_from_db()
    assert approved_grant.status == GrantStatus.APPROVED


def test_a_refused_action_shows_the_services_reason_on_the_form(client, province_staff, approved_grant):
    client.force_login(province_staff)
    other = Grant.objects.exclude(pk=approved_grant.pk).filter(allocation=approved_grant.allocation).first()
    services.grant_approve(grant=other, actor=province_staff)
    services.grant_disburse(grant=other, actor=province_staff, reference="SP2D-USED", transfer_date=TRANSFER_DATE)

    response = post_action(
        client, approved_grant, "disburse", reference="SP2D-USED", transfer_date="2024-05-02", confirm="on"
    )

    assert response.status_code == 400
    assert "SP2D-USED" in response.content.decode()
    assert Disbursement.objects.count() == 1


@pytest.mark.parametrize("typed", ["5.750.000", "5750000", "Rp 5.750.000", "Rp5.750.000,-", "5.750.000,00"])
def test_amounts_are_typed_the_indonesian_way(client, province_staff, approved_grant, typed):
    services.grant_disburse(grant=approved_grant, actor=province_staff, reference="SP2D-2", transfer_date=TRANSFER_DATE)
    client.force_login(province_staff)

    post_action(client, approved_grant, "account", spent_amount=typed, note="LPJ", confirm="on")

    approved_grant.refresh_from_db()
    assert approved_grant.spent_amount == 5_750_000


# "1.5" and "5.7500" were read as Rp15 and Rp57,500 while dots were simply dropped.
@pytest.mark.parametrize("typed", ["-5", "5,5", "enam juta", "1" * 20, "1.5", "5.7500", "5..750", ".750", "5.750,50"])
def test_a_bad_amount_is_a_form_error(client, province_staff, approved_grant, typed):
    services.grant_disburse(grant=approved_grant, actor=province_staff, reference="SP2D-3", transfer_date=TRANSFER_DATE)
    client.force_login(province_staff)

    response = post_action(client, approved_grant, "return", amount=typed, reference="STS-1", confirm="on")

    assert response.status_code == 400
    approved_grant.refresh_from_db()
    assert approved_grant.returned_amount == 0


def test_a_batch_disburses_the_regencys_approved_grants_with_one_sp2d(
    client, province_staff, page_allocation, registry
):
    services.grants_approve_batch(allocation=page_allocation, regency=registry.regency_a, actor=province_staff)
    client.force_login(province_staff)

    response = client.post(
        f"/grants/{page_allocation.pk}/regencies/18.01/",
        {"action": "disburse", "reference": "SP2D-BATCH", "transfer_date": "2024-06-01", "confirm": "on"},
    )

    assert response.status_code == 302
    disbursement = Disbursement.objects.get(reference="SP2D-BATCH")
    paid = Grant.objects.filter(disbursement=disbursement)
    assert set(paid.values_list("village__regency__code", flat=True)) == {"18.01"}
    assert paid.count() == Grant.objects.filter(allocation=page_allocation, village__regency__code="18.01").count()


def test_a_batch_disbursement_needs_a_reference(client, province_staff, page_allocation):
    client.force_login(province_staff)

    response = client.post(f"/grants/{page_allocation.pk}/regencies/18.01/", {"action": "disburse", "confirm": "on"})

    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()
    assert not Disbursement.objects.exists()


@pytest.mark.parametrize("role_fixture", ["auditor", "officer_a"])
def test_read_only_roles_cannot_move_grants_from_pages(request, client, approved_grant, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))

    action = post_action(client, approved_grant, "disburse", reference="X", transfer_date="2024-05-02", confirm="on")
    batch = client.post(
        f"/grants/{approved_grant.allocation_id}/regencies/18.01/", {"action": "approve", "confirm": "on"}
    )
    page = client.get(f"/grants/grant/{approved_grant.pk}/").content.decode()

    assert action.status_code == batch.status_code == 403
    assert "/disburse/" not in page
    assert GrantEvent.objects.filter(grant=approved_grant).count() == 2


def test_only_province_admins_manage_the_allocation(client, province_staff, province_admin, registry):
    allocation = services.allocation_create(
        actor=province_admin, province=Province.objects.get(code="18"), fiscal_year=2025, legal_basis="Kepgub"
    )
    client.force_login(province_staff)
    refused = client.post(f"/grants/{allocation.pk}/action/", {"action": "plan", "confirm": "on"})
    client.force_login(province_admin)
    done = client.post(f"/grants/{allocation.pk}/action/", {"action": "plan", "confirm": "on"})

    assert refused.status_code == 403
    assert done.status_code == 302
    assert Grant.objects.filter(allocation=allocation).count() == Village.objects.filter(is_active=True).count()


def test_an_officer_sees_only_the_own_regency(client, officer_a, page_allocation):
    client.force_login(officer_a)
    grant_b = Grant.objects.filter(allocation=page_allocation, village__regency__code="18.71").first()

    overview = client.get(f"/grants/{page_allocation.pk}/").content.decode()
    listed = client.get(f"/grants/{page_allocation.pk}/grants/").content.decode()

    assert "Kabupaten Lampung Selatan" in overview and "Kota Bandar Lampung" not in overview
    assert grant_b.village.code not in listed
    assert client.get(f"/grants/grant/{grant_b.pk}/").status_code == 404
    assert client.get(f"/grants/{page_allocation.pk}/regencies/18.71/").status_code == 404
    exported = client.get(f"/grants/{page_allocation.pk}/grants/export/", {"file": "csv"}).content.decode()
    assert grant_b.village.code not in exported


def test_the_ledger_exports_match_the_ledger(client, province_staff, approved_grant):
    services.grant_disburse(grant=approved_grant, actor=province_staff, reference="SP2D-4", transfer_date=TRANSFER_DATE)
    client.force_login(province_staff)
    allocation = approved_grant.allocation
    expected = {
        row.code: [row.units, row.committed, row.disbursed]
        for row in selectors.ledger(allocation=allocation, user=province_staff, level="regency")
    }

    xlsx = client.get(f"/grants/{allocation.pk}/ledger/export/", {"level": "regency", "file": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    csv_rows = list(
        csv.reader(io.StringIO(client.get(f"/grants/{allocation.pk}/ledger/export/").content.decode("utf-8-sig")))
    )

    assert rows[0][:4] == ("Kode", "Wilayah", "Jumlah", "Direncanakan (Rp)")
    assert {row[0]: [row[2], row[3], row[5]] for row in rows[1:]} == expected
    assert isinstance(rows[1][3], int)
    assert {row[0]: [int(row[2]), int(row[3]), int(row[5])] for row in csv_rows[1:]} == expected


def test_the_grant_export_follows_the_filters_and_escapes_formulas(client, province_staff, page_allocation, registry):
    make_room(page_allocation, province_staff, 1)
    village = VillageFactory(district=registry.district_a2, name="=cmd|' /C calc'!A0")
    services.grant_plan(allocation=page_allocation, village=village, actor=province_staff)
    client.force_login(province_staff)

    response = client.get(f"/grants/{page_allocation.pk}/grants/export/", {"district": "18.01.02", "file": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))

    codes = {row[0] for row in rows[1:]}
    assert codes == set(
        Grant.objects.filter(village__district__code="18.01.02").values_list("village__code", flat=True)
    )
    names = {row[1] for row in rows[1:]}
    assert "'=cmd|' /C calc'!A0" in names
    assert all(isinstance(row[5], int) for row in rows[1:])


def test_the_grant_list_filters_by_regency_and_district_names(client, province_staff, officer_a, page_allocation):
    # A trial user's finding: the filters asked for codes (18.01, 18.01.04) nobody knows by heart.
    client.force_login(province_staff)
    url = f"/grants/{page_allocation.pk}/grants/"
    regency = Regency.objects.get(code="18.01")
    district = District.objects.filter(regency=regency).order_by("code").first()

    everything = client.get(url).content.decode()
    in_regency = client.get(url, {"regency": "18.01"}).content.decode()
    in_district = client.get(url, {"district": district.code}).content.decode()
    client.force_login(officer_a)
    officer_page = client.get(url).content.decode()

    assert f'<option value="18.01">{regency.name}</option>' in everything
    assert f'<option value="{district.code}">' not in everything  # districts once a regency is chosen
    assert f'<option value="18.01" selected>{regency.name}</option>' in in_regency
    assert f'<option value="{district.code}">{district.name}</option>' in in_regency
    assert f'<option value="{district.code}" selected>{district.name}</option>' in in_district
    shown = Grant.objects.filter(allocation=page_allocation, village__district=district).count()
    assert f"{shown} hibah" in in_district
    other_regencies = Regency.objects.exclude(code=officer_a.regency.code).values_list("code", flat=True)
    assert not any(f'<option value="{code}"' in officer_page for code in other_regencies)


def test_the_grant_list_query_count_does_not_grow_with_the_rows(client, province_staff, page_allocation, registry):
    client.force_login(province_staff)
    with CaptureQueriesContext(connection) as few:
        client.get(f"/grants/{page_allocation.pk}/grants/")
    make_room(page_allocation, province_staff, 15)
    for _ in range(15):
        village = VillageFactory(district=registry.district_a2)
        services.grant_plan(allocation=page_allocation, village=village, actor=province_staff)
    with CaptureQueriesContext(connection) as many:
        client.get(f"/grants/{page_allocation.pk}/grants/")

    assert len(many) == len(few)


def test_the_allocation_page_query_count_does_not_grow_with_the_grants(
    client, province_staff, page_allocation, registry
):
    client.force_login(province_staff)
    with CaptureQueriesContext(connection) as few:
        client.get(f"/grants/{page_allocation.pk}/")
    make_room(page_allocation, province_staff, 15)
    for _ in range(15):
        services.grant_plan(
            allocation=page_allocation, village=VillageFactory(district=registry.district_b1), actor=province_staff
        )
    with CaptureQueriesContext(connection) as many:
        client.get(f"/grants/{page_allocation.pk}/")

    assert len(many) == len(few)


def test_a_refused_allocation_action_reads_as_an_error(client, province_admin, page_allocation):
    # messages.error() rendered as class "alert-error", which Bootstrap does not style: it read as plain text.
    client.force_login(province_admin)

    response = client.post(f"/grants/{page_allocation.pk}/action/", {"action": "close"}, follow=True)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="alert alert-danger"' in html and "Centang kotak" in html
    assert "alert-error" not in html
