"""The grants API under /api/v1/: allocations, grants, their actions and batches, idempotency and access."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import IdempotencyKey
from grants import services
from grants.models import (
    Allocation,
    AllocationStatus,
    Disbursement,
    Grant,
    GrantAction,
    GrantEvent,
    GrantStatus,
)
from tests.factories import ProvinceFactory, RegencyFactory, VillageFactory
from villages.models import Province, Village

pytestmark = pytest.mark.django_db

ALLOCATIONS = "/api/v1/allocations/"
GRANTS = "/api/v1/grants/"
UNIT = services.GRANT_UNIT_AMOUNT
# The registry fixture: 6 active units in regency 18.01, 2 in 18.71.
UNITS_A, UNITS_B = 6, 2


# --- fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def api_allocation(registry, province_admin) -> Allocation:
    """The 2026 allocation of province 18, every village planned, active."""
    allocation = services.allocation_create(
        actor=province_admin,
        province=Province.objects.get(code="18"),
        fiscal_year=2026,
        legal_basis="Keputusan Gubernur Lampung Nomor G/001/2026",
    )
    services.allocation_plan(allocation=allocation, actor=province_admin)
    return services.allocation_activate(allocation=allocation, actor=province_admin)


@pytest.fixture
def api_grant(api_allocation) -> Grant:
    """A planned grant of a village of regency 18.01."""
    return _grants(api_allocation, "18.01")[0]


@pytest.fixture
def api_grant_b(api_allocation) -> Grant:
    """A planned grant of a village of regency 18.71."""
    return _grants(api_allocation, "18.71")[0]


def _grants(allocation: Allocation, regency: str) -> list[Grant]:
    return list(Grant.objects.filter(allocation=allocation, village__regency__code=regency).order_by("village__code"))


def _regency(code: str):
    return Province.objects.get(code="18").regencies.get(code=code)


def _transfer_date() -> str:
    """The latest transfer date the 2026 allocation accepts: today, until its late first quarter ends."""
    return services.transfer_window(fiscal_year=2026)[1].isoformat()


def _approved(grant: Grant, actor) -> Grant:
    return services.grant_approve(grant=grant, actor=actor)


def _disbursed(grant: Grant, actor, reference: str | None = None) -> Grant:
    return services.grant_disburse(
        grant=_approved(grant, actor),
        actor=actor,
        reference=reference or f"SP2D/{grant.pk}/2026",
        transfer_date=datetime.date.fromisoformat(_transfer_date()),
    )


def _accounted(grant: Grant, actor, spent_amount: int | None = None) -> Grant:
    grant = _disbursed(grant, actor)
    return services.grant_account(
        grant=grant, actor=actor, spent_amount=grant.amount if spent_amount is None else spent_amount
    )


def _draft_allocation(actor, fiscal_year: int = 2027) -> Allocation:
    return services.allocation_create(
        actor=actor, province=Province.objects.get(code="18"), fiscal_year=fiscal_year, legal_basis="Pergub 2027"
    )


def _post(client, url: str, body: dict | None = None, **headers):
    return client.post(url, body, format="json", headers=headers or None)


def _action(grant: Grant, name: str) -> str:
    return f"{GRANTS}{grant.pk}/{name}/"


def _statuses(allocation: Allocation) -> dict[int, str]:
    return dict(Grant.objects.filter(allocation=allocation).values_list("pk", "status"))


def _assert_field_error(response, field: str, status: int = 400) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body[field], body
    assert all(isinstance(message, str) and message for message in body[field])


# --- allocations: reads -------------------------------------------------------------------------


def test_it_lists_allocations(api_client, auditor, api_allocation):
    api_client.force_authenticate(auditor)

    body = api_client.get(ALLOCATIONS).json()

    assert body["count"] == 1
    row = body["results"][0]
    assert row["id"] == api_allocation.pk
    assert row["province"] == "18"
    assert row["fiscal_year"] == 2026
    assert row["total_amount"] == (UNITS_A + UNITS_B) * UNIT
    assert row["committed_amount"] == (UNITS_A + UNITS_B) * UNIT
    assert row["status"] == AllocationStatus.ACTIVE


def test_it_shows_one_allocation(api_client, auditor, api_allocation):
    api_client.force_authenticate(auditor)

    body = api_client.get(f"{ALLOCATIONS}{api_allocation.pk}/").json()

    assert body["id"] == api_allocation.pk
    assert body["legal_basis"] == "Keputusan Gubernur Lampung Nomor G/001/2026"
    assert body["unit_amount"] == UNIT


def test_it_answers_404_for_an_unknown_allocation(api_client, auditor, api_allocation):
    api_client.force_authenticate(auditor)

    assert api_client.get(f"{ALLOCATIONS}{api_allocation.pk + 1000}/").status_code == 404


def test_it_gives_the_regency_ledger_by_default(api_client, auditor, api_allocation):
    api_client.force_authenticate(auditor)

    body = api_client.get(f"{ALLOCATIONS}{api_allocation.pk}/ledger/").json()

    assert body["level"] == "regency"
    assert [(row["code"], row["units"], row["planned"]) for row in body["rows"]] == [
        ("18.01", UNITS_A, UNITS_A * UNIT),
        ("18.71", UNITS_B, UNITS_B * UNIT),
    ]
    assert body["totals"]["planned"] == (UNITS_A + UNITS_B) * UNIT
    assert body["unallocated"] == 0


def test_it_gives_the_province_ledger(api_client, auditor, api_allocation):
    api_client.force_authenticate(auditor)

    body = api_client.get(f"{ALLOCATIONS}{api_allocation.pk}/ledger/", {"level": "province"}).json()

    assert [(row["code"], row["units"]) for row in body["rows"]] == [("18", UNITS_A + UNITS_B)]


def test_it_gives_the_district_ledger_of_one_regency(api_client, auditor, api_allocation):
    api_client.force_authenticate(auditor)

    body = api_client.get(f"{ALLOCATIONS}{api_allocation.pk}/ledger/", {"level": "district", "regency": "18.01"}).json()

    assert body["level"] == "district"
    assert [(row["code"], row["name"], row["units"]) for row in body["rows"]] == [
        ("18.01.01", "Natar", 4),
        ("18.01.02", "Kalianda", 2),
    ]


def test_it_gives_the_district_ledger_of_the_whole_province(api_client, auditor, api_allocation):
    api_client.force_authenticate(auditor)

    body = api_client.get(f"{ALLOCATIONS}{api_allocation.pk}/ledger/", {"level": "district"}).json()

    assert [row["code"] for row in body["rows"]] == ["18.01.01", "18.01.02", "18.71.01"]


def test_it_counts_paid_and_returned_money_in_the_ledger(api_client, auditor, province_staff, api_allocation):
    first, second = _grants(api_allocation, "18.01")[:2]
    _disbursed(first, province_staff)
    _approved(second, province_staff)
    services.grant_return(grant=first, actor=province_staff, amount=1_000_000, reference="STS/1")
    api_client.force_authenticate(auditor)

    body = api_client.get(f"{ALLOCATIONS}{api_allocation.pk}/ledger/").json()

    row = body["rows"][0]
    assert row["code"] == "18.01"
    assert row["approved"] == 2 * UNIT
    assert row["disbursed"] == UNIT
    assert row["returned"] == 1_000_000
    assert row["net_disbursed"] == UNIT - 1_000_000
    assert row["to_disburse"] == (UNITS_A - 1) * UNIT
    assert body["remaining"] == api_allocation.total_amount - (UNIT - 1_000_000)


@pytest.mark.parametrize("level", ["village", "REGENCY", "18.01"])
def test_it_rejects_an_unknown_ledger_level_with_400(api_client, auditor, api_allocation, level):
    api_client.force_authenticate(auditor)

    response = api_client.get(f"{ALLOCATIONS}{api_allocation.pk}/ledger/", {"level": level})

    _assert_field_error(response, "level")


# --- grants: reads ------------------------------------------------------------------------------


def _village_codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["village"] for row in response.json()["results"]]


def test_it_lists_grants_ordered_by_village_code(api_client, auditor, api_allocation):
    api_client.force_authenticate(auditor)

    codes = _village_codes(api_client.get(GRANTS))

    assert codes == sorted(Village.objects.values_list("code", flat=True))


def test_it_lists_each_grant_with_its_village_district_and_regency(api_client, auditor, api_grant):
    api_client.force_authenticate(auditor)

    row = api_client.get(GRANTS, {"district": api_grant.village.district.code}).json()["results"][0]

    assert row["id"] == api_grant.pk
    assert row["allocation"] == api_grant.allocation_id
    assert row["village_name"] == api_grant.village.name
    assert (row["district"], row["district_name"]) == ("18.01.01", "Natar")
    assert (row["regency"], row["regency_name"]) == ("18.01", "Kabupaten Lampung Selatan")
    assert row["amount"] == UNIT
    assert row["status"] == GrantStatus.PLANNED
    assert row["transfer_reference"] is None
    assert "events" not in row


def test_it_filters_grants_by_allocation(api_client, auditor, province_admin, api_allocation):
    other = services.allocation_create(
        actor=province_admin,
        province=Province.objects.get(code="18"),
        fiscal_year=2026,
        funding_source="APBD Perubahan",
        legal_basis="Pergub perubahan",
    )
    services.allocation_plan(allocation=other, actor=province_admin, regency=_regency("18.71"))
    api_client.force_authenticate(auditor)

    response = api_client.get(GRANTS, {"allocation": other.pk})

    assert {row["allocation"] for row in response.json()["results"]} == {other.pk}
    assert _village_codes(response) == sorted(
        Village.objects.filter(regency__code="18.71").values_list("code", flat=True)
    )


def test_it_filters_grants_by_regency(api_client, auditor, api_allocation):
    api_client.force_authenticate(auditor)

    codes = _village_codes(api_client.get(GRANTS, {"regency": "18.71"}))

    assert len(codes) == UNITS_B
    assert all(code.startswith("18.71.") for code in codes)


def test_it_filters_grants_by_district(api_client, auditor, api_allocation):
    api_client.force_authenticate(auditor)

    codes = _village_codes(api_client.get(GRANTS, {"district": "18.01.02"}))

    assert len(codes) == 2
    assert all(code.startswith("18.01.02.") for code in codes)


def test_it_filters_grants_by_one_or_more_statuses(api_client, auditor, province_staff, api_allocation):
    first, second, third = _grants(api_allocation, "18.01")[:3]
    _approved(first, province_staff)
    _disbursed(second, province_staff)
    services.grant_cancel(grant=third, actor=province_staff)
    api_client.force_authenticate(auditor)

    approved = _village_codes(api_client.get(GRANTS, {"status": "approved"}))
    paid_or_cancelled = _village_codes(api_client.get(GRANTS, {"status": ["disbursed", "cancelled"]}))

    assert approved == [first.village.code]
    assert paid_or_cancelled == [second.village.code, third.village.code]


@pytest.mark.parametrize("query", [{"status": "paid"}, {"allocation": "satu"}])
def test_it_rejects_a_bad_grant_filter_with_400(api_client, auditor, api_allocation, query):
    api_client.force_authenticate(auditor)

    response = api_client.get(GRANTS, query)

    _assert_field_error(response, next(iter(query)))


def test_it_shows_a_grant_with_its_events(api_client, auditor, province_admin, province_staff, api_grant):
    _disbursed(api_grant, province_staff, reference="SP2D/0042/2026")
    api_client.force_authenticate(auditor)

    body = api_client.get(f"{GRANTS}{api_grant.pk}/").json()

    assert body["status"] == GrantStatus.DISBURSED
    assert body["transfer_reference"] == "SP2D/0042/2026"
    assert body["transfer_date"] == _transfer_date()
    events = [{key: value for key, value in event.items() if key != "created_at"} for event in body["events"]]
    assert events == [
        {
            "action": "plan",
            "from_status": "",
            "to_status": "planned",
            "actor": province_admin.username,
            "amount": UNIT,
            "reference": "",
            "note": "",
        },
        {
            "action": "approve",
            "from_status": "planned",
            "to_status": "approved",
            "actor": province_staff.username,
            "amount": UNIT,
            "reference": "",
            "note": "",
        },
        {
            "action": "disburse",
            "from_status": "approved",
            "to_status": "disbursed",
            "actor": province_staff.username,
            "amount": UNIT,
            "reference": "SP2D/0042/2026",
            "note": "",
        },
    ]


def test_it_answers_404_for_an_unknown_grant(api_client, auditor, api_allocation):
    api_client.force_authenticate(auditor)

    assert api_client.get(f"{GRANTS}{Grant.objects.order_by('-pk').first().pk + 1}/").status_code == 404


def test_it_answers_404_for_an_id_beyond_the_integer_range(api_client, auditor, api_allocation):
    api_client.force_authenticate(auditor)

    assert api_client.get(f"{GRANTS}{10**20}/").status_code == 404


@pytest.mark.parametrize("allocation", ["99999999999999999999", "1e30"])
def test_it_answers_an_allocation_filter_beyond_the_integer_range_without_a_500(
    api_client, auditor, api_allocation, allocation
):
    api_client.force_authenticate(auditor)

    response = api_client.get(GRANTS, {"allocation": allocation})

    assert response.status_code == 400 or response.json()["count"] == 0


def test_it_answers_a_ledger_regency_with_a_nul_character_without_a_500(api_client, auditor, api_allocation):
    api_client.force_authenticate(auditor)

    response = api_client.get(
        f"{ALLOCATIONS}{api_allocation.pk}/ledger/", {"level": "district", "regency": "18.01\x00"}
    )

    assert response.status_code == 400 or response.json()["rows"] == []


# --- grants: actions that succeed ---------------------------------------------------------------


def test_it_approves_a_planned_grant(api_client, province_staff, api_grant):
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "approve"), {"note": "Berkas lengkap"})

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == api_grant.pk
    assert body["status"] == GrantStatus.APPROVED
    assert body["approved_at"]
    assert body["events"][-1]["action"] == "approve"
    assert body["events"][-1]["actor"] == province_staff.username
    assert body["events"][-1]["note"] == "Berkas lengkap"


def test_it_approves_without_a_body(api_client, province_staff, api_grant):
    api_client.force_authenticate(province_staff)

    response = api_client.post(_action(api_grant, "approve"))

    assert response.status_code == 200
    assert response.json()["status"] == GrantStatus.APPROVED


def test_it_disburses_an_approved_grant(api_client, province_staff, api_grant):
    _approved(api_grant, province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(
        api_client, _action(api_grant, "disburse"), {"reference": "SP2D/0007/2026", "transfer_date": _transfer_date()}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == GrantStatus.DISBURSED
    assert body["transfer_reference"] == "SP2D/0007/2026"
    assert body["transfer_date"] == _transfer_date()
    disbursement = Disbursement.objects.get()
    assert (disbursement.reference, disbursement.amount, disbursement.created_by) == (
        "SP2D/0007/2026",
        UNIT,
        province_staff,
    )
    assert body["events"][-1]["reference"] == "SP2D/0007/2026"


def test_it_records_an_accountability_report(api_client, province_staff, api_grant):
    _disbursed(api_grant, province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(
        api_client,
        _action(api_grant, "account"),
        {"spent_amount": 5_500_000, "note": "LPJ diterima", "document_url": "https://desa.example.id/lpj.pdf"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == GrantStatus.ACCOUNTED
    assert body["spent_amount"] == 5_500_000
    assert body["report_note"] == "LPJ diterima"
    assert body["report_url"] == "https://desa.example.id/lpj.pdf"
    assert body["accounted_at"]
    assert body["events"][-1]["amount"] == 5_500_000


def test_it_keeps_the_grant_state_on_a_partial_return(api_client, province_staff, api_grant):
    _disbursed(api_grant, province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "return"), {"amount": 1_000_000, "reference": "STS/0001"})

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == GrantStatus.DISBURSED
    assert body["returned_amount"] == 1_000_000
    assert (body["events"][-1]["action"], body["events"][-1]["reference"]) == ("return", "STS/0001")


def test_it_ends_the_grant_in_returned_on_a_full_return(api_client, province_staff, api_grant):
    _disbursed(api_grant, province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "return"), {"amount": UNIT, "reference": "STS/0002"})

    assert response.status_code == 200
    assert response.json()["status"] == GrantStatus.RETURNED
    assert response.json()["returned_amount"] == UNIT


def test_it_closes_a_fully_accounted_grant(api_client, province_staff, api_grant):
    _accounted(api_grant, province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "close"))

    assert response.status_code == 200
    assert response.json()["status"] == GrantStatus.CLOSED
    assert response.json()["closed_at"]


def test_it_cancels_a_planned_grant_and_frees_its_amount(api_client, province_staff, api_grant):
    committed = Allocation.objects.get().committed_amount
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "cancel"), {"note": "Desa digabung"})

    assert response.status_code == 200
    assert response.json()["status"] == GrantStatus.CANCELLED
    assert response.json()["cancelled_at"]
    assert Allocation.objects.get().committed_amount == committed - UNIT


# --- grants: bad input is a 400 with the field --------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"transfer_date": "2026-01-15"}, "reference"),
        ({"reference": "", "transfer_date": "2026-01-15"}, "reference"),
        ({"reference": "   ", "transfer_date": "2026-01-15"}, "reference"),
        ({"reference": "X" * 101, "transfer_date": "2026-01-15"}, "reference"),
        ({"reference": "SP2D/1"}, "transfer_date"),
        ({"reference": "SP2D/1", "transfer_date": "2026-02-30"}, "transfer_date"),
        ({"reference": "SP2D/1", "transfer_date": "15/01/2026"}, "transfer_date"),
        ({"reference": "SP2D/1", "transfer_date": None}, "transfer_date"),
    ],
    ids=[
        "no-reference",
        "empty-reference",
        "blank-reference",
        "long-reference",
        "no-date",
        "impossible-date",
        "local-date-format",
        "null-date",
    ],
)
def test_it_rejects_bad_disbursement_input_with_400(api_client, province_staff, api_grant, body, field):
    _approved(api_grant, province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "disburse"), body)

    _assert_field_error(response, field)
    assert Grant.objects.get(pk=api_grant.pk).status == GrantStatus.APPROVED


def test_it_rejects_a_transfer_date_in_the_future(api_client, province_staff, api_grant):
    _approved(api_grant, province_staff)
    api_client.force_authenticate(province_staff)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()

    response = _post(api_client, _action(api_grant, "disburse"), {"reference": "SP2D/1", "transfer_date": tomorrow})

    _assert_field_error(response, "transfer_date")
    assert not Disbursement.objects.exists()


def test_it_rejects_a_transfer_reference_used_before_in_the_allocation(api_client, province_staff, api_allocation):
    first, second = _grants(api_allocation, "18.01")[:2]
    _disbursed(first, province_staff, reference="SP2D/0001/2026")
    _approved(second, province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(
        api_client, _action(second, "disburse"), {"reference": "SP2D/0001/2026", "transfer_date": _transfer_date()}
    )

    _assert_field_error(response, "reference")
    assert Grant.objects.get(pk=second.pk).status == GrantStatus.APPROVED


BAD_AMOUNTS = pytest.mark.parametrize(
    "amount",
    [-1, 0, "seribu", "", None, 1500.5, True, [1000], 10**16, 10**30],
    ids=["negative", "zero", "string", "empty", "null", "float", "boolean", "list", "huge", "beyond-bigint"],
)


@BAD_AMOUNTS
def test_it_rejects_a_bad_return_amount_with_400(api_client, province_staff, api_grant, amount):
    _disbursed(api_grant, province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "return"), {"amount": amount, "reference": "STS/1"})

    _assert_field_error(response, "amount")
    assert Grant.objects.get(pk=api_grant.pk).returned_amount == 0


def test_it_rejects_a_return_without_a_reference(api_client, province_staff, api_grant):
    _disbursed(api_grant, province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "return"), {"amount": 1000})

    _assert_field_error(response, "reference")


def test_it_rejects_returning_more_than_the_village_holds(api_client, province_staff, api_grant):
    _accounted(api_grant, province_staff, spent_amount=UNIT - 1000)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "return"), {"amount": 1001, "reference": "STS/1"})

    _assert_field_error(response, "amount")
    assert Grant.objects.get(pk=api_grant.pk).returned_amount == 0


@pytest.mark.parametrize(
    "spent_amount",
    [-1, "banyak", None, 1500.5, 10**16, 10**30],
    ids=["negative", "string", "null", "float", "huge", "beyond-bigint"],
)
def test_it_rejects_a_bad_spent_amount_with_400(api_client, province_staff, api_grant, spent_amount):
    _disbursed(api_grant, province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "account"), {"spent_amount": spent_amount})

    _assert_field_error(response, "spent_amount")
    assert Grant.objects.get(pk=api_grant.pk).status == GrantStatus.DISBURSED


def test_it_rejects_spending_more_than_the_village_received(api_client, province_staff, api_grant):
    _disbursed(api_grant, province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "account"), {"spent_amount": UNIT + 1})

    _assert_field_error(response, "spent_amount")


def test_it_accepts_a_report_of_nothing_spent(api_client, province_staff, api_grant):
    _disbursed(api_grant, province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "account"), {"spent_amount": 0})

    assert response.status_code == 200
    assert response.json()["spent_amount"] == 0


@pytest.mark.parametrize("url", ["lpj.pdf", "javascript:alert(1)", "https://", "https://x" + "y" * 200 + ".id/"])
def test_it_rejects_a_bad_document_url_with_400(api_client, province_staff, api_grant, url):
    _disbursed(api_grant, province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "account"), {"spent_amount": 1000, "document_url": url})

    _assert_field_error(response, "document_url")


def test_it_rejects_an_overlong_note_with_400(api_client, province_staff, api_grant):
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "approve"), {"note": "x" * 2001})

    _assert_field_error(response, "note")


# --- grants: refused transitions are a 409 ------------------------------------------------------


def _planned(grant, actor):
    return grant


def _returned(grant, actor):
    grant = _disbursed(grant, actor)
    return services.grant_return(grant=grant, actor=actor, amount=grant.amount, reference="STS/full")


def _cancelled(grant, actor):
    return services.grant_cancel(grant=grant, actor=actor)


def _closed(grant, actor):
    return services.grant_close(grant=_accounted(grant, actor), actor=actor)


REFUSED = [
    (_disbursed, "approve", {}),
    (_cancelled, "approve", {}),
    (_planned, "disburse", {"reference": "SP2D/9", "transfer_date": "2026-01-15"}),
    (_disbursed, "disburse", {"reference": "SP2D/9", "transfer_date": "2026-01-15"}),
    (_approved, "account", {"spent_amount": 1000}),
    (_planned, "return", {"amount": 1000, "reference": "STS/9"}),
    (_returned, "return", {"amount": 1000, "reference": "STS/9"}),
    (_disbursed, "close", {}),
    (_closed, "cancel", {}),
    (_disbursed, "cancel", {}),
    (_cancelled, "cancel", {}),
]


@pytest.mark.parametrize(
    ("prepare", "action", "body"),
    REFUSED,
    ids=[f"{action}-{prepare.__name__.strip('_')}" for prepare, action, _body in REFUSED],
)
def test_it_refuses_a_transition_from_the_wrong_state_with_409(
    api_client, province_staff, api_grant, prepare, action, body
):
    grant = prepare(api_grant, province_staff)
    before = Grant.objects.get(pk=grant.pk).status
    events = GrantEvent.objects.count()
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(grant, action), body)

    assert response.status_code == 409, response.content
    assert response.json()["detail"]
    assert Grant.objects.get(pk=grant.pk).status == before
    assert GrantEvent.objects.count() == events


def test_it_refuses_closing_a_grant_with_unexplained_money_with_409(api_client, province_staff, api_grant):
    _accounted(api_grant, province_staff, spent_amount=UNIT - 500_000)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "close"))

    assert response.status_code == 409
    assert response.json()["detail"]
    assert Grant.objects.get(pk=api_grant.pk).status == GrantStatus.ACCOUNTED


def test_it_refuses_moving_a_grant_of_a_closed_allocation_with_409(
    api_client, province_staff, province_admin, api_grant
):
    services.allocation_close(allocation=api_grant.allocation, actor=province_admin)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "approve"))

    assert response.status_code == 409
    assert response.json()["detail"]


def test_it_refuses_approving_a_grant_of_a_draft_allocation_with_409(
    api_client, province_staff, province_admin, registry
):
    allocation = _draft_allocation(province_admin)
    services.allocation_plan(allocation=allocation, actor=province_admin)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(_grants(allocation, "18.01")[0], "approve"))

    assert response.status_code == 409
    assert response.json()["detail"]


def test_it_answers_404_for_an_action_on_an_unknown_grant(api_client, province_staff, api_grant):
    api_client.force_authenticate(province_staff)

    assert _post(api_client, f"{GRANTS}{api_grant.pk + 1000}/approve/").status_code == 404


# --- allocations: writes ------------------------------------------------------------------------


def test_it_creates_an_allocation_for_every_active_unit(api_client, province_admin, registry):
    Village.objects.filter(pk=Village.objects.filter(regency__code="18.71").first().pk).update(is_active=False)
    api_client.force_authenticate(province_admin)

    response = _post(
        api_client, ALLOCATIONS, {"province": "18", "fiscal_year": 2026, "legal_basis": "Pergub Lampung 12/2026"}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["total_amount"] == (UNITS_A + UNITS_B - 1) * 6_000_000
    assert body["unit_amount"] == 6_000_000
    assert body["committed_amount"] == 0
    assert body["status"] == AllocationStatus.DRAFT
    assert body["funding_source"] == "APBD Provinsi Lampung"
    assert Allocation.objects.get(pk=body["id"]).total_amount == body["total_amount"]


def test_it_creates_an_allocation_with_an_explicit_total(api_client, province_admin, registry):
    api_client.force_authenticate(province_admin)

    response = _post(
        api_client,
        ALLOCATIONS,
        {
            "province": "18",
            "fiscal_year": 2026,
            "legal_basis": "Pergub Lampung 12/2026",
            "total_amount": 100_000_000,
            "unit_amount": 5_000_000,
        },
    )

    assert response.status_code == 201
    assert (response.json()["total_amount"], response.json()["unit_amount"]) == (100_000_000, 5_000_000)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fiscal_year": 2027, "legal_basis": "Pergub"}, "province"),
        ({"province": "99", "fiscal_year": 2027, "legal_basis": "Pergub"}, "province"),
        ({"province": "18", "legal_basis": "Pergub"}, "fiscal_year"),
        ({"province": "18", "fiscal_year": "dua ribu", "legal_basis": "Pergub"}, "fiscal_year"),
        ({"province": "18", "fiscal_year": 1999, "legal_basis": "Pergub"}, "fiscal_year"),
        ({"province": "18", "fiscal_year": 2027}, "legal_basis"),
        ({"province": "18", "fiscal_year": 2027, "legal_basis": "Pergub", "unit_amount": 0}, "unit_amount"),
        ({"province": "18", "fiscal_year": 2027, "legal_basis": "Pergub", "total_amount": -5}, "total_amount"),
        ({"province": "18", "fiscal_year": 2027, "legal_basis": "Pergub", "total_amount": 10**30}, "total_amount"),
        ({"province": "18", "fiscal_year": 2026, "legal_basis": "Pergub"}, "fiscal_year"),
    ],
    ids=[
        "no-province",
        "unknown-province",
        "no-year",
        "string-year",
        "year-out-of-range",
        "no-legal-basis",
        "zero-unit",
        "negative-total",
        "huge-total",
        "duplicate",
    ],
)
def test_it_rejects_bad_allocation_input_with_400(api_client, province_admin, api_allocation, body, field):
    api_client.force_authenticate(province_admin)

    response = _post(api_client, ALLOCATIONS, body)

    _assert_field_error(response, field)
    assert Allocation.objects.count() == 1


def test_it_updates_an_allocation(api_client, province_admin, api_allocation):
    api_client.force_authenticate(province_admin)

    response = api_client.patch(
        f"{ALLOCATIONS}{api_allocation.pk}/",
        {"total_amount": api_allocation.total_amount + UNIT, "legal_basis": "Pergub (perubahan)"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["total_amount"] == api_allocation.total_amount + UNIT
    assert response.json()["legal_basis"] == "Pergub (perubahan)"
    assert response.json()["unit_amount"] == UNIT


def test_it_refuses_a_total_below_the_committed_amount(api_client, province_admin, api_allocation):
    api_client.force_authenticate(province_admin)

    response = api_client.patch(
        f"{ALLOCATIONS}{api_allocation.pk}/", {"total_amount": api_allocation.committed_amount - 1}, format="json"
    )

    _assert_field_error(response, "total_amount")
    assert Allocation.objects.get().total_amount == api_allocation.total_amount


def test_it_refuses_editing_a_closed_allocation_with_409(api_client, province_admin, api_allocation):
    services.allocation_close(allocation=api_allocation, actor=province_admin)
    api_client.force_authenticate(province_admin)

    response = api_client.patch(f"{ALLOCATIONS}{api_allocation.pk}/", {"legal_basis": "Terlambat"}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"]


def test_it_plans_the_villages_still_missing(api_client, province_admin, registry, api_allocation):
    services.allocation_update(
        allocation=api_allocation, actor=province_admin, total_amount=api_allocation.total_amount + 2 * UNIT
    )
    VillageFactory.create_batch(2, district=registry.district_a2)
    api_client.force_authenticate(province_admin)

    response = _post(api_client, f"{ALLOCATIONS}{api_allocation.pk}/plan/")

    assert response.status_code == 200
    assert response.json() == {"created": 2, "amount": 2 * UNIT}
    assert Grant.objects.filter(allocation=api_allocation).count() == UNITS_A + UNITS_B + 2


def test_it_plans_one_regency_only(api_client, province_admin, registry):
    allocation = _draft_allocation(province_admin)
    api_client.force_authenticate(province_admin)

    response = _post(api_client, f"{ALLOCATIONS}{allocation.pk}/plan/", {"regency": "18.71"})

    assert response.status_code == 200
    assert response.json() == {"created": UNITS_B, "amount": UNITS_B * UNIT}
    assert set(Grant.objects.values_list("village__regency__code", flat=True)) == {"18.71"}


def test_it_plans_nothing_when_every_village_has_a_grant(api_client, province_admin, api_allocation):
    api_client.force_authenticate(province_admin)

    response = _post(api_client, f"{ALLOCATIONS}{api_allocation.pk}/plan/")

    assert response.status_code == 200
    assert response.json() == {"created": 0, "amount": 0}


def test_it_refuses_planning_an_unknown_regency_with_400(api_client, province_admin, registry):
    allocation = _draft_allocation(province_admin)
    api_client.force_authenticate(province_admin)

    response = _post(api_client, f"{ALLOCATIONS}{allocation.pk}/plan/", {"regency": "18.99"})

    _assert_field_error(response, "regency")
    assert not Grant.objects.exists()


def test_it_refuses_planning_a_regency_of_another_province_with_400(api_client, province_admin, registry):
    allocation = _draft_allocation(province_admin)
    RegencyFactory(province=ProvinceFactory(code="17", name="Bengkulu"), code="17.01")
    api_client.force_authenticate(province_admin)

    response = _post(api_client, f"{ALLOCATIONS}{allocation.pk}/plan/", {"regency": "17.01"})

    _assert_field_error(response, "regency")


def test_it_refuses_planning_more_than_the_allocation_with_400(api_client, province_admin, registry, api_allocation):
    VillageFactory(district=registry.district_b1)
    api_client.force_authenticate(province_admin)

    response = _post(api_client, f"{ALLOCATIONS}{api_allocation.pk}/plan/")

    _assert_field_error(response, "amount")
    assert Grant.objects.count() == UNITS_A + UNITS_B


def test_it_activates_a_draft_allocation(api_client, province_admin, registry):
    allocation = _draft_allocation(province_admin)
    api_client.force_authenticate(province_admin)

    response = _post(api_client, f"{ALLOCATIONS}{allocation.pk}/activate/")

    assert response.status_code == 200
    assert response.json()["status"] == AllocationStatus.ACTIVE


def test_it_refuses_activating_an_active_allocation_with_409(api_client, province_admin, api_allocation):
    api_client.force_authenticate(province_admin)

    response = _post(api_client, f"{ALLOCATIONS}{api_allocation.pk}/activate/")

    assert response.status_code == 409
    assert response.json()["detail"]


def test_it_closes_an_active_allocation(api_client, province_admin, api_allocation):
    api_client.force_authenticate(province_admin)

    response = _post(api_client, f"{ALLOCATIONS}{api_allocation.pk}/close/")

    assert response.status_code == 200
    assert response.json()["status"] == AllocationStatus.CLOSED


def test_it_refuses_closing_a_draft_allocation_with_409(api_client, province_admin, registry):
    allocation = _draft_allocation(province_admin)
    api_client.force_authenticate(province_admin)

    response = _post(api_client, f"{ALLOCATIONS}{allocation.pk}/close/")

    assert response.status_code == 409
    assert Allocation.objects.get(pk=allocation.pk).status == AllocationStatus.DRAFT


@pytest.mark.parametrize("method", ["put", "delete"])
def test_it_answers_an_unsupported_method_on_an_allocation_without_a_500(
    api_client, province_admin, api_allocation, method
):
    api_client.force_authenticate(province_admin)

    response = getattr(api_client, method)(f"{ALLOCATIONS}{api_allocation.pk}/", {}, format="json")

    assert response.status_code in (200, 405)


# --- batches per regency ------------------------------------------------------------------------


def _batch(allocation: Allocation, action: str) -> str:
    return f"{ALLOCATIONS}{allocation.pk}/batch/{action}/"


def test_it_batch_approves_every_planned_grant_of_the_regency(api_client, province_staff, api_allocation):
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _batch(api_allocation, "approve"), {"regency": "18.01"})

    assert response.status_code == 200
    grants_a = _grants(api_allocation, "18.01")
    assert response.json() == {"count": UNITS_A, "amount": UNITS_A * UNIT, "grants": [g.pk for g in grants_a]}
    assert {g.status for g in grants_a} == {GrantStatus.APPROVED}
    assert {g.status for g in _grants(api_allocation, "18.71")} == {GrantStatus.PLANNED}


def test_it_batch_approves_exactly_the_given_grants(api_client, province_staff, api_allocation):
    chosen = _grants(api_allocation, "18.01")[:2]
    api_client.force_authenticate(province_staff)

    response = _post(
        api_client, _batch(api_allocation, "approve"), {"regency": "18.01", "grant_ids": [g.pk for g in chosen]}
    )

    assert response.status_code == 200
    assert response.json()["grants"] == [g.pk for g in chosen]
    approved = Grant.objects.filter(status=GrantStatus.APPROVED)
    assert sorted(approved.values_list("pk", flat=True)) == sorted(g.pk for g in chosen)


def test_it_batch_disburses_the_approved_grants_with_one_transfer(api_client, province_staff, api_allocation):
    services.grants_approve_batch(allocation=api_allocation, regency=_regency("18.01"), actor=province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(
        api_client,
        _batch(api_allocation, "disburse"),
        {"regency": "18.01", "reference": "SP2D/LS/2026", "transfer_date": _transfer_date()},
    )

    assert response.status_code == 200
    assert response.json()["amount"] == UNITS_A * UNIT
    disbursement = Disbursement.objects.get()
    assert (disbursement.reference, disbursement.amount) == ("SP2D/LS/2026", UNITS_A * UNIT)
    assert set(Grant.objects.filter(disbursement=disbursement).values_list("village__regency__code", flat=True)) == {
        "18.01"
    }
    assert GrantEvent.objects.filter(action=GrantAction.DISBURSE, reference="SP2D/LS/2026").count() == UNITS_A


def test_it_batch_cancels_the_open_grants_and_frees_their_amount(api_client, province_staff, api_allocation):
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _batch(api_allocation, "cancel"), {"regency": "18.71"})

    assert response.status_code == 200
    assert response.json()["count"] == UNITS_B
    assert {g.status for g in _grants(api_allocation, "18.71")} == {GrantStatus.CANCELLED}
    assert Allocation.objects.get().committed_amount == UNITS_A * UNIT


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("outside-regency", "grant_ids"),
        ("unknown-id", "grant_ids"),
        ("empty-list", "grant_ids"),
        ("zero-id", "grant_ids"),
        ("unknown-regency", "regency"),
        ("no-regency", "regency"),
    ],
)
def test_it_rejects_a_batch_with_a_bad_grant_list_and_changes_nothing(
    api_client, province_staff, api_allocation, case, field
):
    ids = [g.pk for g in _grants(api_allocation, "18.01")]
    body = {
        "outside-regency": {"regency": "18.01", "grant_ids": [*ids, _grants(api_allocation, "18.71")[0].pk]},
        "unknown-id": {"regency": "18.01", "grant_ids": [*ids, max(ids) + 1000]},
        "empty-list": {"regency": "18.01", "grant_ids": []},
        "zero-id": {"regency": "18.01", "grant_ids": [0]},
        "unknown-regency": {"regency": "18.99", "grant_ids": ids},
        "no-regency": {"grant_ids": ids},
    }[case]
    before = _statuses(api_allocation)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _batch(api_allocation, "approve"), body)

    _assert_field_error(response, field)
    assert _statuses(api_allocation) == before


def test_it_rejects_a_batch_with_an_id_beyond_the_integer_range_with_400(api_client, province_staff, api_allocation):
    ids = [g.pk for g in _grants(api_allocation, "18.01")]
    before = _statuses(api_allocation)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _batch(api_allocation, "approve"), {"regency": "18.01", "grant_ids": [*ids, 10**20]})

    _assert_field_error(response, "grant_ids")
    assert _statuses(api_allocation) == before


def test_it_refuses_a_batch_with_one_ineligible_grant_and_changes_nothing(api_client, province_staff, api_allocation):
    grants_a = _grants(api_allocation, "18.01")
    _approved(grants_a[-1], province_staff)
    before = _statuses(api_allocation)
    events = GrantEvent.objects.count()
    api_client.force_authenticate(province_staff)

    response = _post(
        api_client, _batch(api_allocation, "approve"), {"regency": "18.01", "grant_ids": [g.pk for g in grants_a]}
    )

    assert response.status_code == 409
    assert response.json()["detail"]
    assert len(response.json()["grants"]) == 1
    assert _statuses(api_allocation) == before
    assert GrantEvent.objects.count() == events


def test_it_moves_no_money_when_a_batch_disbursement_has_one_unapproved_grant(
    api_client, province_staff, api_allocation
):
    grants_a = _grants(api_allocation, "18.01")
    for grant in grants_a[1:]:
        _approved(grant, province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(
        api_client,
        _batch(api_allocation, "disburse"),
        {
            "regency": "18.01",
            "grant_ids": [g.pk for g in grants_a],
            "reference": "SP2D/X",
            "transfer_date": _transfer_date(),
        },
    )

    assert response.status_code == 409
    assert not Disbursement.objects.exists()
    assert not Grant.objects.filter(status=GrantStatus.DISBURSED).exists()


def test_it_refuses_a_batch_with_nothing_eligible_with_409(api_client, province_staff, api_allocation):
    api_client.force_authenticate(province_staff)

    response = _post(
        api_client,
        _batch(api_allocation, "disburse"),
        {"regency": "18.01", "reference": "SP2D/X", "transfer_date": _transfer_date()},
    )

    assert response.status_code == 409
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"regency": "18.01", "transfer_date": "2026-01-15"}, "reference"),
        ({"regency": "18.01", "reference": "SP2D/X", "transfer_date": "kemarin"}, "transfer_date"),
    ],
    ids=["no-reference", "bad-date"],
)
def test_it_rejects_a_batch_disbursement_with_bad_input_with_400(
    api_client, province_staff, api_allocation, body, field
):
    services.grants_approve_batch(allocation=api_allocation, regency=_regency("18.01"), actor=province_staff)
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _batch(api_allocation, "disburse"), body)

    _assert_field_error(response, field)
    assert not Disbursement.objects.exists()


def test_it_rejects_a_batch_in_a_regency_of_another_province_with_400(api_client, province_staff, api_allocation):
    RegencyFactory(province=ProvinceFactory(code="17", name="Bengkulu"), code="17.01")
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _batch(api_allocation, "approve"), {"regency": "17.01"})

    _assert_field_error(response, "regency")


# --- Idempotency-Key ----------------------------------------------------------------------------


def _disburse_body(reference: str = "SP2D/0100/2026") -> dict:
    return {"reference": reference, "transfer_date": _transfer_date()}


def test_it_replays_the_first_response_to_a_repeated_request(api_client, province_staff, api_grant):
    _approved(api_grant, province_staff)
    api_client.force_authenticate(province_staff)
    url = _action(api_grant, "disburse")

    first = _post(api_client, url, _disburse_body(), **{"Idempotency-Key": "bayar-1"})
    second = _post(api_client, url, _disburse_body(), **{"Idempotency-Key": "bayar-1"})

    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"


def test_it_moves_money_once_for_a_repeated_request(api_client, province_staff, api_grant):
    _approved(api_grant, province_staff)
    api_client.force_authenticate(province_staff)
    url = _action(api_grant, "disburse")

    for _ in range(3):
        assert _post(api_client, url, _disburse_body(), **{"Idempotency-Key": "bayar-1"}).status_code == 200

    assert Disbursement.objects.count() == 1
    assert GrantEvent.objects.filter(grant=api_grant, action=GrantAction.DISBURSE).count() == 1


def test_it_moves_money_once_for_a_repeated_batch(api_client, province_staff, api_allocation):
    services.grants_approve_batch(allocation=api_allocation, regency=_regency("18.01"), actor=province_staff)
    api_client.force_authenticate(province_staff)
    body = {"regency": "18.01", **_disburse_body()}

    first = _post(api_client, _batch(api_allocation, "disburse"), body, **{"Idempotency-Key": "batch-1"})
    second = _post(api_client, _batch(api_allocation, "disburse"), body, **{"Idempotency-Key": "batch-1"})

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == first.json()
    assert Disbursement.objects.count() == 1
    assert GrantEvent.objects.filter(action=GrantAction.DISBURSE).count() == UNITS_A


def test_it_does_not_replay_a_request_without_a_key(api_client, province_staff, api_grant):
    api_client.force_authenticate(province_staff)

    first = _post(api_client, _action(api_grant, "approve"))
    second = _post(api_client, _action(api_grant, "approve"))

    assert (first.status_code, second.status_code) == (200, 409)
    assert not IdempotencyKey.objects.exists()


def test_it_refuses_the_same_key_with_another_body_with_422(api_client, province_staff, api_grant):
    _approved(api_grant, province_staff)
    api_client.force_authenticate(province_staff)
    url = _action(api_grant, "disburse")
    _post(api_client, url, _disburse_body("SP2D/1"), **{"Idempotency-Key": "bayar-1"})

    response = _post(api_client, url, _disburse_body("SP2D/2"), **{"Idempotency-Key": "bayar-1"})

    _assert_field_error(response, "Idempotency-Key", status=422)
    assert list(Disbursement.objects.values_list("reference", flat=True)) == ["SP2D/1"]


def test_it_refuses_the_same_key_on_another_grant_with_422(api_client, province_staff, api_allocation):
    first, second = _grants(api_allocation, "18.01")[:2]
    api_client.force_authenticate(province_staff)
    _post(api_client, _action(first, "approve"), {}, **{"Idempotency-Key": "setuju-1"})

    response = _post(api_client, _action(second, "approve"), {}, **{"Idempotency-Key": "setuju-1"})

    assert response.status_code == 422
    assert Grant.objects.get(pk=second.pk).status == GrantStatus.PLANNED


def test_it_keeps_idempotency_keys_per_user(api_client, province_staff, province_admin, api_allocation):
    first, second = _grants(api_allocation, "18.01")[:2]
    api_client.force_authenticate(province_staff)
    by_staff = _post(api_client, _action(first, "approve"), {}, **{"Idempotency-Key": "setuju-1"})
    api_client.force_authenticate(province_admin)
    by_admin = _post(api_client, _action(second, "approve"), {}, **{"Idempotency-Key": "setuju-1"})

    assert (by_staff.status_code, by_admin.status_code) == (200, 200)
    assert "Idempotent-Replayed" not in by_admin.headers
    assert by_admin.json()["id"] == second.pk
    assert Grant.objects.get(pk=second.pk).status == GrantStatus.APPROVED


def test_it_evaluates_again_a_retry_of_a_refused_request(api_client, province_staff, api_grant):
    api_client.force_authenticate(province_staff)
    url = _action(api_grant, "disburse")

    refused = _post(api_client, url, _disburse_body(), **{"Idempotency-Key": "bayar-1"})
    _approved(api_grant, province_staff)
    retried = _post(api_client, url, _disburse_body(), **{"Idempotency-Key": "bayar-1"})

    assert refused.status_code == 409
    assert retried.status_code == 200
    assert "Idempotent-Replayed" not in retried.headers
    assert retried.json()["status"] == GrantStatus.DISBURSED


def test_it_does_not_store_a_key_for_rejected_input(api_client, province_staff, api_grant):
    _approved(api_grant, province_staff)
    api_client.force_authenticate(province_staff)

    rejected = _post(api_client, _action(api_grant, "disburse"), {"reference": "SP2D/1"}, **{"Idempotency-Key": "k"})

    assert rejected.status_code == 400
    assert not IdempotencyKey.objects.exists()


def test_it_rejects_an_overlong_key_with_400(api_client, province_staff, api_grant):
    api_client.force_authenticate(province_staff)

    response = _post(api_client, _action(api_grant, "approve"), {}, **{"Idempotency-Key": "k" * 256})

    _assert_field_error(response, "Idempotency-Key")
    assert Grant.objects.get(pk=api_grant.pk).status == GrantStatus.PLANNED


# --- permissions: the matrix of every route and role is tests/smartvillage/test_access_matrix.py ---------------


def test_it_asks_an_anonymous_request_for_a_token(api_client, api_grant):
    response = _post(api_client, _action(api_grant, "approve"))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Token")


# --- regency officer scope ----------------------------------------------------------------------


def test_it_lists_only_the_own_regency_grants_to_a_regency_officer(api_client, officer_a, api_allocation):
    api_client.force_authenticate(officer_a)

    codes = _village_codes(api_client.get(GRANTS, {"page_size": 500}))

    assert len(codes) == UNITS_A
    assert all(code.startswith("18.01.") for code in codes)


def test_it_keeps_a_regency_officer_from_filtering_into_another_regency(api_client, officer_a, api_allocation):
    api_client.force_authenticate(officer_a)

    assert _village_codes(api_client.get(GRANTS, {"regency": "18.71"})) == []


def test_it_answers_404_to_a_regency_officer_for_a_grant_of_another_regency(api_client, officer_a, api_grant_b):
    api_client.force_authenticate(officer_a)

    assert api_client.get(f"{GRANTS}{api_grant_b.pk}/").status_code == 404


def test_it_shows_a_regency_officer_a_grant_of_the_own_regency(api_client, officer_b, api_grant_b):
    api_client.force_authenticate(officer_b)

    assert api_client.get(f"{GRANTS}{api_grant_b.pk}/").json()["regency"] == "18.71"


@pytest.mark.parametrize("query", [{}, {"level": "district"}, {"level": "district", "regency": "18.71"}])
def test_it_shows_a_regency_officer_only_the_own_regency_in_the_ledger(api_client, officer_a, api_allocation, query):
    api_client.force_authenticate(officer_a)

    body = api_client.get(f"{ALLOCATIONS}{api_allocation.pk}/ledger/", query).json()

    assert all(row["code"].startswith("18.01") for row in body["rows"])
    assert body["totals"]["units"] == UNITS_A


# --- query count and schema ---------------------------------------------------------------------


def test_it_lists_grants_in_a_query_count_independent_of_page_size(api_client, auditor, province_staff, api_allocation):
    for grant in _grants(api_allocation, "18.01")[:3]:
        _disbursed(grant, province_staff)
    api_client.force_authenticate(auditor)

    with CaptureQueriesContext(connection) as small:
        assert len(api_client.get(GRANTS, {"page_size": 2}).json()["results"]) == 2
    small_count = len(small)  # now: the next request resets the log the context reads
    with CaptureQueriesContext(connection) as large:
        assert len(api_client.get(GRANTS, {"page_size": 50}).json()["results"]) == UNITS_A + UNITS_B

    # One SELECT per page: no COUNT of every grant (the paginator reads one row more instead).
    assert len(large) == small_count == 1


def test_it_counts_every_matching_grant_only_when_asked(api_client, auditor, api_allocation):
    api_client.force_authenticate(auditor)

    plain = api_client.get(GRANTS, {"page_size": 2, "regency": "18.01"}).json()
    last = api_client.get(GRANTS, {"page_size": 2, "regency": "18.01", "page": 3}).json()
    with CaptureQueriesContext(connection) as queries:
        counted = api_client.get(GRANTS, {"page_size": 2, "regency": "18.01", "count": "true"}).json()

    assert plain["count"] is None
    assert counted["count"] == last["count"] == UNITS_A
    assert len(queries) == 2
    assert counted["results"] == plain["results"]


def test_every_grant_list_row_is_the_grant_as_its_detail_route_gives_it(
    api_client, auditor, province_staff, api_allocation
):
    # The list is read from .values() rows, the detail through the serializer: the same JSON but the events.
    grants = _grants(api_allocation, "18.01") + _grants(api_allocation, "18.71")
    _planned, approved, disbursed, accounted, closed, returned, cancelled, _also_planned = grants
    _approved(approved, province_staff)
    _disbursed(disbursed, province_staff)
    services.grant_account(
        grant=_disbursed(accounted, province_staff),
        actor=province_staff,
        spent_amount=UNIT - 1000,
        note="LPJ diterima",
        document_url="https://desa.example/lpj.pdf",
    )
    services.grant_close(grant=_accounted(closed, province_staff), actor=province_staff)
    services.grant_return(
        grant=_disbursed(returned, province_staff), actor=province_staff, amount=UNIT, reference="STS/1/2026"
    )
    services.grant_cancel(grant=cancelled, actor=province_staff)
    api_client.force_authenticate(auditor)

    rows = api_client.get(GRANTS).json()["results"]

    assert {row["status"] for row in rows} == set(GrantStatus.values)
    for row in rows:
        detail = api_client.get(f"{GRANTS}{row['id']}/").json()
        assert row == {name: value for name, value in detail.items() if name != "events"}


def test_it_describes_the_grants_api_in_the_openapi_schema(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    paths = response.json()["paths"]
    assert {
        "/api/v1/allocations/",
        "/api/v1/allocations/{id}/",
        "/api/v1/allocations/{id}/ledger/",
        "/api/v1/allocations/{id}/plan/",
        "/api/v1/allocations/{id}/activate/",
        "/api/v1/allocations/{id}/close/",
        "/api/v1/allocations/{id}/batch/approve/",
        "/api/v1/allocations/{id}/batch/disburse/",
        "/api/v1/allocations/{id}/batch/cancel/",
        "/api/v1/grants/",
        "/api/v1/grants/{id}/",
        "/api/v1/grants/{id}/approve/",
        "/api/v1/grants/{id}/disburse/",
        "/api/v1/grants/{id}/account/",
        "/api/v1/grants/{id}/return/",
        "/api/v1/grants/{id}/close/",
        "/api/v1/grants/{id}/cancel/",
    } <= set(paths)
    disburse = paths["/api/v1/grants/{id}/disburse/"]["post"]
    assert "Idempotency-Key" in {parameter["name"] for parameter in disburse["parameters"]}
    assert {"allocation", "regency", "district", "status"} <= {
        parameter["name"] for parameter in paths["/api/v1/grants/"]["get"]["parameters"]
    }


# --- bad input found by the schema fuzzing (tests/smartvillage/test_api_fuzz.py) -----------------


def test_it_searches_grants_by_village_name_and_code_prefix(api_client, auditor, api_allocation):
    # The code search looked up `village_id__istartswith`, a lookup a foreign key does not have: 500.
    village = _grants(api_allocation, "18.71")[0].village
    api_client.force_authenticate(auditor)

    by_code = api_client.get(GRANTS, {"search": "18.71"})
    by_name = api_client.get(GRANTS, {"search": village.name})

    assert by_code.status_code == 200, by_code.content
    assert {row["village"] for row in by_code.json()["results"]} == {
        grant.village.code for grant in _grants(api_allocation, "18.71")
    }
    assert [row["village"] for row in by_name.json()["results"]] == [village.code]


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", f"{GRANTS}-8.163857452323706e-234/"),
        ("post", f"{GRANTS}1.5/approve/"),
        ("get", f"{ALLOCATIONS}-8.163857452323706e-234/"),
        ("post", f"{ALLOCATIONS}1.5/activate/"),
    ],
)
def test_a_malformed_id_is_a_json_404(api_client, province_admin, api_allocation, method, url):
    # Routed by Django's URL resolver before, which answered its HTML "Not Found" page.
    api_client.force_authenticate(province_admin)

    response = getattr(api_client, method)(url)

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_the_schema_documents_ids_as_integers_and_an_unpaid_grants_transfer_as_null(
    api_client, auditor, api_allocation
):
    # The schema said transfer_reference and transfer_date were always strings; unpaid grants have null.
    api_client.force_authenticate(auditor)
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    row = api_client.get(GRANTS).json()["results"][0]

    grant = schema["components"]["schemas"]["GrantOutput"]["properties"]
    assert grant["transfer_reference"]["nullable"] and grant["transfer_date"]["nullable"]
    assert row["transfer_reference"] is None and row["transfer_date"] is None
    for path in ("/api/v1/grants/{id}/", "/api/v1/grants/{id}/approve/", "/api/v1/allocations/{id}/ledger/"):
        (operation,) = schema["paths"][path].values()
        assert {"name": "id", "in": "path", "type": "integer"} in [
            {"name": p["name"], "in": p["in"], "type": p["schema"]["type"]} for p in operation["parameters"]
        ]
