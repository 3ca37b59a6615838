"""The rollout API under /api/v1/: village statuses, progress reports, adoption snapshots, paid-not-live, access."""

import datetime
from dataclasses import dataclass
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import IdempotencyKey
from grants import services as grant_services
from grants.models import Grant
from rollout import selectors, services
from rollout.models import AdoptionSnapshot, PillarStatus, ProgressReport, ReportStatus, VillageStatus
from tests.factories import VillageFactory
from villages.models import DESA_KINDS, Province, Village

pytestmark = pytest.mark.django_db

ROLLOUT = "/api/v1/rollout/"
REPORTS = "/api/v1/reports/"
BULK = "/api/v1/reports/bulk/"
ADOPTION = "/api/v1/adoption/"
HISTORY = "/api/v1/adoption/history/"
PAID_NOT_LIVE = "/api/v1/paid-not-live/"
# The registry fixture: 6 active units in regency 18.01 (4 in 18.01.01, 2 in 18.01.02), 2 in 18.71.
UNITS_A, UNITS_B = 6, 2


# --- fixtures and helpers -----------------------------------------------------------------------


def _fields(**overrides) -> dict:
    """A complete, valid report body; `overrides` change or add fields."""
    return {
        "pillar1": PillarStatus.IN_PROGRESS,
        "pillar2": PillarStatus.NOT_STARTED,
        "pillar3": PillarStatus.NOT_STARTED,
        "signal": "4g",
        "signal_sufficient": True,
        "blocker": "",
        "blocker_note": "",
        "note": "",
        "evidence_url": "",
        **overrides,
    }


def _item(village: Village, **overrides) -> services.ReportInput:
    return services.ReportInput(village=village, **_fields(**overrides))


def _correct(village: Village, actor, **overrides) -> ProgressReport:
    return services.status_correct(actor=actor, item=_item(village, **overrides))


def _submit(village: Village, actor, **overrides) -> ProgressReport:
    return services.report_submit(actor=actor, item=_item(village, **overrides))


def _villages(prefix: str) -> list[Village]:
    return list(Village.objects.filter(code__startswith=prefix, is_active=True).order_by("code"))


def _desa(prefix: str) -> list[Village]:
    return [village for village in _villages(prefix) if village.kind in DESA_KINDS]


def _post(client, url: str, body: dict | None = None, **headers):
    return client.post(url, body, format="json", headers=headers or None)


def _written() -> tuple:
    """Everything a refused write must leave untouched, as plain values to compare."""
    return (
        list(ProgressReport.objects.order_by("pk").values_list("pk", "status", "reviewed_by_id")),
        list(VillageStatus.objects.order_by("pk").values_list("pk", "pillar1", "pillar2", "pillar3", "last_report_id")),
        IdempotencyKey.objects.count(),
    )


def _assert_field_error(response, field: str, status: int = 400) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body[field], body
    assert all(isinstance(message, str) and message for message in body[field])


def _codes(response, key: str = "code") -> list[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return [row[key] for row in rows]


def _row_errors(response) -> dict:
    """The per-row errors of a refused bulk submission, keyed by row index."""
    assert response.status_code == 400, response.content
    rows = response.json()["reports"]
    assert isinstance(rows, dict), rows
    return rows


@pytest.fixture
def api_village(registry) -> Village:
    """The first desa of district 18.01.01 (regency 18.01, officer_a's)."""
    return _desa("18.01.01.")[0]


@pytest.fixture
def api_village_b(registry) -> Village:
    """The first village of regency 18.71 (officer_b's)."""
    return _villages("18.71.")[0]


@pytest.fixture
def api_report(api_village, officer_a) -> ProgressReport:
    """An awaiting report of officer_a on a desa of regency 18.01."""
    return _submit(api_village, officer_a, pillar1=PillarStatus.LIVE, note="Layanan surat online")


@pytest.fixture
def api_report_b(api_village_b, officer_b) -> ProgressReport:
    """An awaiting report of officer_b on a village of regency 18.71."""
    return _submit(api_village_b, officer_b, pillar1=PillarStatus.LIVE)


def _bulk_body(district: str, villages: list[Village], **overrides) -> dict:
    return {
        "district": district,
        "reports": [{"village": village.code, **_fields(**overrides)} for village in villages],
    }


@dataclass
class PaidGrants:
    adopted_a: Grant  # disbursed, its village (18.01) adopted
    not_live_a: Grant  # disbursed, its village (18.01) not adopted
    not_live_b: Grant  # disbursed, its village (the last of 18.71) not adopted
    planned_a: Grant  # only planned: no money paid yet


@pytest.fixture
def api_paid(registry, province_admin, province_staff) -> PaidGrants:
    """The 2026 allocation of province 18, every village planned; three grants disbursed."""
    allocation = grant_services.allocation_create(
        actor=province_admin,
        province=Province.objects.get(code="18"),
        fiscal_year=2026,
        legal_basis="Keputusan Gubernur Lampung Nomor G/001/2026",
    )
    grant_services.allocation_plan(allocation=allocation, actor=province_admin)
    allocation = grant_services.allocation_activate(allocation=allocation, actor=province_admin)
    grants = {
        grant.village.code: grant for grant in Grant.objects.filter(allocation=allocation).select_related("village")
    }
    first_a, second_a, third_a = (grants[village.code] for village in _desa("18.01.")[:3])
    last_b = grants[_villages("18.71.")[-1].code]
    for grant in (first_a, second_a, last_b):
        grant = grant_services.grant_approve(grant=grant, actor=province_staff)
        grant_services.grant_disburse(
            grant=grant,
            actor=province_staff,
            reference=f"SP2D/{grant.pk}/2026",
            # The latest date it accepts.
            transfer_date=grant_services.transfer_window(fiscal_year=allocation.fiscal_year)[1],
        )
    _correct(first_a.village, province_staff, pillar1=PillarStatus.LIVE)
    return PaidGrants(adopted_a=first_a, not_live_a=second_a, not_live_b=last_b, planned_a=third_a)


@pytest.fixture
def api_rollout_state(registry, province_staff, officer_a) -> None:
    """A mixed rollout state across both regencies, written by the services.

    18.01.01: desa 1 live (pillar 2 live too), desa 2 in progress and blocked by no signal,
              desa 3 without any status, the kelurahan live (pillar 3 live too).
    18.01.02: desa 1 live, desa 2 only an awaiting report. Plus an inactive desa, live nowhere.
    18.71.01: kelurahan 1 live.
    """
    d1, d2, _d3 = _desa("18.01.01.")
    (k1,) = [village for village in _villages("18.01.01.") if village.kind not in DESA_KINDS]
    e1, e2 = _villages("18.01.02.")
    (b1, _b2) = _villages("18.71.")
    _correct(d1, province_staff, pillar1=PillarStatus.LIVE, pillar2=PillarStatus.LIVE)
    _correct(d2, province_staff, signal="none", signal_sufficient=False, blocker="no_signal", blocker_note="Blank spot")
    _correct(k1, province_staff, pillar1=PillarStatus.LIVE, pillar3=PillarStatus.LIVE)
    _correct(e1, province_staff, pillar1=PillarStatus.LIVE)
    _submit(e2, officer_a, pillar1=PillarStatus.LIVE)
    _correct(b1, province_staff, pillar1=PillarStatus.LIVE, signal="broadband")
    VillageFactory(district=registry.district_a2, is_active=False)


# --- GET /rollout/ ------------------------------------------------------------------------------


def test_it_lists_every_active_village_ordered_by_code(api_client, auditor, api_rollout_state):
    api_client.force_authenticate(auditor)

    codes = _codes(api_client.get(ROLLOUT))

    assert codes == [village.code for village in _villages("18.")]


def test_it_lists_a_village_with_its_current_status(api_client, auditor, api_rollout_state):
    village = _desa("18.01.01.")[1]
    api_client.force_authenticate(auditor)

    row = next(row for row in api_client.get(ROLLOUT).json()["results"] if row["code"] == village.code)

    assert row["name"] == village.name
    assert (row["kind"], row["district"], row["regency"]) == ("desa", "18.01.01", "18.01")
    assert row["adopted"] is False
    assert (row["pillar1"], row["pillar2"], row["pillar3"]) == ("in_progress", "not_started", "not_started")
    assert (row["signal"], row["signal_sufficient"]) == ("none", False)
    assert (row["blocker"], row["blocker_note"]) == ("no_signal", "Blank spot")
    assert row["last_verified_on"] == timezone.localdate().isoformat()


def test_it_lists_a_village_without_a_status_row_as_not_adopted(api_client, auditor, registry):
    api_client.force_authenticate(auditor)

    rows = api_client.get(ROLLOUT).json()["results"]

    assert not VillageStatus.objects.exists()
    assert [row["adopted"] for row in rows] == [False] * (UNITS_A + UNITS_B)
    assert [row["last_verified_on"] for row in rows] == [None] * (UNITS_A + UNITS_B)


def test_it_lists_a_village_without_a_status_row_as_not_started(api_client, auditor, registry):
    api_client.force_authenticate(auditor)

    row = api_client.get(ROLLOUT).json()["results"][0]

    assert (row["pillar1"], row["pillar2"], row["pillar3"]) == ("not_started", "not_started", "not_started")
    assert (row["signal"], row["signal_sufficient"], row["blocker"], row["blocker_note"]) == ("none", False, "", "")


def test_it_filters_the_rollout_by_regency(api_client, auditor, api_rollout_state):
    api_client.force_authenticate(auditor)

    codes = _codes(api_client.get(ROLLOUT, {"regency": "18.71"}))

    assert codes == [village.code for village in _villages("18.71.")]


def test_it_filters_the_rollout_by_district(api_client, auditor, api_rollout_state):
    api_client.force_authenticate(auditor)

    codes = _codes(api_client.get(ROLLOUT, {"district": "18.01.02"}))

    assert codes == [village.code for village in _villages("18.01.02.")]


def test_it_filters_the_rollout_to_adopted_villages(api_client, auditor, api_rollout_state):
    api_client.force_authenticate(auditor)

    codes = _codes(api_client.get(ROLLOUT, {"adopted": "true"}))

    assert codes == sorted(
        VillageStatus.objects.filter(pillar1=PillarStatus.LIVE, village__is_active=True).values_list(
            "village__code", flat=True
        )
    )
    assert len(codes) == 4


def test_it_filters_the_rollout_to_villages_not_adopted(api_client, auditor, api_rollout_state):
    api_client.force_authenticate(auditor)

    codes = _codes(api_client.get(ROLLOUT, {"adopted": "false", "page_size": 500}))

    live = set(VillageStatus.objects.filter(pillar1=PillarStatus.LIVE).values_list("village__code", flat=True))
    assert codes == [village.code for village in _villages("18.") if village.code not in live]
    assert len(codes) == UNITS_A + UNITS_B - 4


def test_it_filters_the_rollout_by_blocker(api_client, auditor, api_rollout_state):
    api_client.force_authenticate(auditor)

    codes = _codes(api_client.get(ROLLOUT, {"blocker": "no_signal"}))

    assert codes == [_desa("18.01.01.")[1].code]


def test_it_rejects_an_unknown_blocker_filter_with_400(api_client, auditor, registry):
    api_client.force_authenticate(auditor)

    response = api_client.get(ROLLOUT, {"blocker": "banjir"})

    _assert_field_error(response, "blocker")


def test_it_rejects_an_unparseable_adopted_filter_with_400(api_client, auditor, registry):
    api_client.force_authenticate(auditor)

    response = api_client.get(ROLLOUT, {"adopted": "mungkin"})

    _assert_field_error(response, "adopted")


def test_it_paginates_the_rollout(api_client, auditor, registry):
    api_client.force_authenticate(auditor)

    first = api_client.get(ROLLOUT, {"page_size": 3}).json()
    last = api_client.get(ROLLOUT, {"page_size": 3, "page": 3}).json()

    # Counting every village costs more than a page: the count comes with the last page, or when asked.
    assert first["count"] is None
    assert last["count"] == UNITS_A + UNITS_B
    assert api_client.get(ROLLOUT, {"page_size": 3, "count": "true"}).json()["count"] == UNITS_A + UNITS_B
    assert len(first["results"]) == 3
    assert first["next"] and first["previous"] is None
    assert len(last["results"]) == UNITS_A + UNITS_B - 6
    assert last["next"] is None
    assert api_client.get(ROLLOUT, {"page_size": 3, "page": 4}).status_code == 404


def test_every_rollout_list_row_is_the_village_as_its_detail_route_gives_it(api_client, auditor, api_rollout_state):
    # The list is read from .values() rows, the detail through the serializer: the JSON must be the same,
    # for villages with a status (live, blocked) and without one (the programme's defaults).
    api_client.force_authenticate(auditor)

    rows = api_client.get(ROLLOUT).json()["results"]

    assert {row["adopted"] for row in rows} == {True, False}
    assert {row["blocker"] for row in rows} == {"", "no_signal"}
    assert None in {row["last_verified_on"] for row in rows} and None in {row["pillar1_since"] for row in rows}
    assert len({row["pillar1_since"] for row in rows}) > 1
    for row in rows:
        assert row == api_client.get(f"{ROLLOUT}{row['code']}/").json()


# --- GET /rollout/{code}/ -----------------------------------------------------------------------


def test_it_shows_one_village_rollout(api_client, auditor, province_staff, api_village):
    _correct(api_village, province_staff, pillar1=PillarStatus.LIVE, pillar2=PillarStatus.IN_PROGRESS)
    api_client.force_authenticate(auditor)

    body = api_client.get(f"{ROLLOUT}{api_village.code}/").json()

    assert body["code"] == api_village.code
    assert body["adopted"] is True
    assert (body["pillar1"], body["pillar2"], body["pillar3"]) == ("live", "in_progress", "not_started")
    assert body["pillar1_since"]


def test_it_answers_404_for_an_unknown_village(api_client, auditor, registry):
    api_client.force_authenticate(auditor)

    assert api_client.get(f"{ROLLOUT}18.01.01.2000/").status_code == 404  # a number VillageFactory never makes


def test_it_answers_404_for_an_inactive_village(api_client, auditor, registry):
    village = VillageFactory(district=registry.district_a1, is_active=False)
    api_client.force_authenticate(auditor)

    assert api_client.get(f"{ROLLOUT}{village.code}/").status_code == 404


# --- PATCH /rollout/{code}/ ---------------------------------------------------------------------


def test_it_applies_a_correction_by_province_staff(api_client, province_staff, api_village):
    api_client.force_authenticate(province_staff)

    response = api_client.patch(f"{ROLLOUT}{api_village.code}/", _fields(pillar1="live"), format="json")

    assert response.status_code == 200, response.content
    assert response.json()["pillar1"] == "live"
    assert response.json()["adopted"] is True
    assert VillageStatus.objects.get(village=api_village).pillar1 == PillarStatus.LIVE


def test_it_records_a_correction_as_a_verified_report(api_client, province_staff, api_village):
    api_client.force_authenticate(province_staff)

    api_client.patch(f"{ROLLOUT}{api_village.code}/", _fields(pillar1="live", note="Cek lapangan"), format="json")

    report = ProgressReport.objects.get()
    assert report.village == api_village
    assert report.is_correction is True
    assert report.status == ReportStatus.VERIFIED
    assert report.submitted_by == report.reviewed_by == province_staff
    assert report.note == "Cek lapangan"
    assert VillageStatus.objects.get(village=api_village).last_report == report


def test_it_lists_a_correction_among_the_reports(api_client, province_staff, api_village):
    api_client.force_authenticate(province_staff)
    api_client.patch(f"{ROLLOUT}{api_village.code}/", _fields(pillar1="live"), format="json")

    rows = api_client.get(REPORTS).json()["results"]

    assert [(row["village"], row["is_correction"], row["status"]) for row in rows] == [
        (api_village.code, True, "verified")
    ]
    assert rows[0]["reviewed_by"] == province_staff.username


def test_it_rejects_an_invalid_correction_with_400(api_client, province_staff, api_village):
    api_client.force_authenticate(province_staff)
    before = _written()

    response = api_client.patch(
        f"{ROLLOUT}{api_village.code}/", _fields(blocker="no_signal", signal_sufficient=True), format="json"
    )

    _assert_field_error(response, "signal_sufficient")
    assert _written() == before


def test_it_dates_a_correction_by_the_local_calendar(api_client, province_staff, api_village):
    # 20:00 UTC on 10 March is 03:00 on 11 March in Lampung (Asia/Jakarta, UTC+7).
    moment = datetime.datetime(2026, 3, 10, 20, 0, tzinfo=datetime.UTC)
    api_client.force_authenticate(province_staff)

    with mock.patch("django.utils.timezone.now", return_value=moment):
        body = api_client.patch(f"{ROLLOUT}{api_village.code}/", _fields(pillar1="live"), format="json").json()

    assert body["last_verified_on"] == "2026-03-11"
    assert body["pillar1_since"] == "2026-03-11"


# --- POST /rollout/{code}/reports/ --------------------------------------------------------------


def test_it_accepts_a_report_of_the_own_regency_with_201(api_client, officer_a, api_village):
    api_client.force_authenticate(officer_a)

    response = _post(api_client, f"{ROLLOUT}{api_village.code}/reports/", _fields(pillar1="live", note="Sudah jalan"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"] == ProgressReport.objects.get().pk
    assert (body["village"], body["regency"], body["village_name"]) == (api_village.code, "18.01", api_village.name)
    assert (body["pillar1"], body["note"]) == ("live", "Sudah jalan")
    assert body["submitted_by"] == officer_a.username
    assert body["status"] == "awaiting"
    assert body["is_correction"] is False
    assert body["reviewed_by"] is None


def test_it_leaves_the_village_status_unchanged_by_a_submitted_report(
    api_client, officer_a, province_staff, api_village
):
    _correct(api_village, province_staff, pillar1=PillarStatus.IN_PROGRESS)
    before = list(VillageStatus.objects.values())
    api_client.force_authenticate(officer_a)

    _post(api_client, f"{ROLLOUT}{api_village.code}/reports/", _fields(pillar1="live"))

    assert list(VillageStatus.objects.values()) == before
    assert api_client.get(f"{ROLLOUT}{api_village.code}/").json()["pillar1"] == "in_progress"


def test_it_creates_no_status_row_for_a_submitted_report(api_client, officer_a, api_village):
    api_client.force_authenticate(officer_a)

    _post(api_client, f"{ROLLOUT}{api_village.code}/reports/", _fields(pillar1="live"))

    assert not VillageStatus.objects.exists()
    assert api_client.get(f"{ROLLOUT}{api_village.code}/").json()["adopted"] is False


def test_it_refuses_a_report_on_a_village_of_another_regency(api_client, officer_a, api_village_b):
    api_client.force_authenticate(officer_a)
    before = _written()

    response = _post(api_client, f"{ROLLOUT}{api_village_b.code}/reports/", _fields(pillar1="live"))

    assert response.status_code in (400, 404)
    assert _written() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(_fields(pillar1="done"), "pillar1", id="unknown pillar status"),
        pytest.param(_fields(pillar3="LIVE"), "pillar3", id="pillar status in capitals"),
        pytest.param(_fields(signal="5g"), "signal", id="unknown signal"),
        pytest.param({k: v for k, v in _fields().items() if k != "pillar2"}, "pillar2", id="missing pillar2"),
        pytest.param({k: v for k, v in _fields().items() if k != "signal"}, "signal", id="missing signal"),
        pytest.param(
            {k: v for k, v in _fields().items() if k != "signal_sufficient"},
            "signal_sufficient",
            id="missing signal_sufficient",
        ),
        pytest.param(_fields(evidence_url="foto di grup WA"), "evidence_url", id="bad URL"),
        pytest.param(_fields(blocker="banjir"), "blocker", id="unknown blocker"),
        pytest.param(_fields(blocker_note="Tidak ada sinyal"), "blocker", id="blocker_note without blocker"),
        pytest.param(
            _fields(blocker="no_signal", signal_sufficient=True), "signal_sufficient", id="no signal yet sufficient"
        ),
        pytest.param(_fields(note="x" * 2001), "note", id="overlong note"),
    ],
)
def test_it_rejects_a_bad_report_with_400_and_a_field_error(api_client, officer_a, api_village, body, field):
    api_client.force_authenticate(officer_a)
    before = _written()

    response = _post(api_client, f"{ROLLOUT}{api_village.code}/reports/", body)

    _assert_field_error(response, field)
    assert _written() == before


def test_it_rejects_an_empty_report_with_400_naming_every_required_field(api_client, officer_a, api_village):
    api_client.force_authenticate(officer_a)

    response = _post(api_client, f"{ROLLOUT}{api_village.code}/reports/", {})

    assert response.status_code == 400
    assert {"pillar1", "pillar2", "pillar3", "signal", "signal_sufficient"} <= set(response.json())
    assert not ProgressReport.objects.exists()


def test_it_replays_a_repeated_report_with_the_same_response(api_client, officer_a, api_village):
    api_client.force_authenticate(officer_a)
    url = f"{ROLLOUT}{api_village.code}/reports/"

    first = _post(api_client, url, _fields(pillar1="live"), **{"Idempotency-Key": "lapor-1"})
    second = _post(api_client, url, _fields(pillar1="live"), **{"Idempotency-Key": "lapor-1"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"


def test_it_writes_one_report_for_a_repeated_request(api_client, officer_a, api_village):
    api_client.force_authenticate(officer_a)
    url = f"{ROLLOUT}{api_village.code}/reports/"

    for _ in range(3):
        _post(api_client, url, _fields(pillar1="live"), **{"Idempotency-Key": "lapor-1"})

    assert ProgressReport.objects.count() == 1


def test_it_refuses_the_same_key_for_another_report_with_422(api_client, officer_a, api_village):
    api_client.force_authenticate(officer_a)
    url = f"{ROLLOUT}{api_village.code}/reports/"
    _post(api_client, url, _fields(pillar1="live"), **{"Idempotency-Key": "lapor-1"})

    response = _post(api_client, url, _fields(pillar1="in_progress"), **{"Idempotency-Key": "lapor-1"})

    _assert_field_error(response, "Idempotency-Key", status=422)
    assert ProgressReport.objects.count() == 1


# --- POST /reports/bulk/ ------------------------------------------------------------------------


def test_it_accepts_a_valid_bulk_submission_with_201(api_client, officer_a, registry):
    villages = _villages("18.01.01.")
    api_client.force_authenticate(officer_a)

    response = _post(api_client, BULK, _bulk_body("18.01.01", villages, pillar1="live"))

    assert response.status_code == 201, response.content
    assert [row["village"] for row in response.json()] == [village.code for village in villages]
    assert {row["status"] for row in response.json()} == {"awaiting"}
    assert ProgressReport.objects.filter(status=ReportStatus.AWAITING, submitted_by=officer_a).count() == len(villages)


def test_it_leaves_the_village_statuses_unchanged_by_a_bulk_submission(api_client, officer_a, registry):
    api_client.force_authenticate(officer_a)

    _post(api_client, BULK, _bulk_body("18.01.01", _villages("18.01.01."), pillar1="live"))

    assert not VillageStatus.objects.exists()


@pytest.mark.parametrize(
    ("rows", "bad_row"),
    [
        pytest.param(lambda: [*_villages("18.01.01.")[:1], _villages("18.01.02.")[0]], "1", id="another district"),
        pytest.param(lambda: [*_villages("18.01.01.")[:2], _villages("18.71.")[0]], "2", id="another regency"),
        pytest.param(lambda: [_villages("18.01.01.")[0], _villages("18.01.01.")[0]], "1", id="duplicate"),
    ],
)
def test_it_refuses_a_bulk_submission_with_one_bad_row_keyed_by_row(api_client, officer_a, registry, rows, bad_row):
    api_client.force_authenticate(officer_a)
    before = _written()

    response = _post(api_client, BULK, _bulk_body("18.01.01", rows()))

    errors = _row_errors(response)
    assert set(errors) == {bad_row}
    assert errors[bad_row]["village"]
    assert _written() == before


def test_it_refuses_a_bulk_submission_with_an_unknown_village_code(api_client, officer_a, registry):
    body = _bulk_body("18.01.01", _villages("18.01.01.")[:2])
    body["reports"].insert(1, {**body["reports"][0], "village": "18.01.01.2000"})  # never made by VillageFactory
    api_client.force_authenticate(officer_a)
    before = _written()

    response = _post(api_client, BULK, body)

    errors = _row_errors(response)
    assert set(errors) == {"1"}
    assert errors["1"]["village"]
    assert _written() == before


def test_it_refuses_a_bulk_row_with_bad_content_and_writes_nothing(api_client, officer_a, registry):
    body = _bulk_body("18.01.01", _villages("18.01.01.")[:3])
    body["reports"][2]["blocker_note"] = "Tanpa kategori"
    api_client.force_authenticate(officer_a)
    before = _written()

    response = _post(api_client, BULK, body)

    assert set(_row_errors(response)) == {"2"}
    assert _written() == before


def test_it_refuses_a_bulk_row_with_an_unknown_pillar_status_and_writes_nothing(api_client, officer_a, registry):
    body = _bulk_body("18.01.01", _villages("18.01.01.")[:3])
    body["reports"][1]["pillar2"] = "selesai"
    api_client.force_authenticate(officer_a)
    before = _written()

    response = _post(api_client, BULK, body)

    assert response.status_code == 400
    assert set(response.json()["reports"]) == {"1"}
    assert response.json()["reports"]["1"]["pillar2"]
    assert _written() == before


def test_it_rejects_an_empty_bulk_submission_with_400(api_client, officer_a, registry):
    api_client.force_authenticate(officer_a)

    response = _post(api_client, BULK, {"district": "18.01.01", "reports": []})

    _assert_field_error(response, "reports")


def test_it_refuses_a_bulk_submission_of_another_regency_officer(api_client, officer_b, registry):
    api_client.force_authenticate(officer_b)
    before = _written()

    response = _post(api_client, BULK, _bulk_body("18.01.01", _villages("18.01.01.")))

    assert set(_row_errors(response)) == {"0", "1", "2", "3"}
    assert _written() == before


def test_it_keys_the_bulk_row_errors_by_row_index(api_client, officer_a, registry):
    api_client.force_authenticate(officer_a)

    response = _post(api_client, BULK, _bulk_body("18.01.01", [_villages("18.01.01.")[0], _villages("18.01.02.")[0]]))

    assert response.status_code == 400
    rows = response.json()["reports"]
    assert isinstance(rows, dict), rows
    assert set(rows) == {"1"}


def test_it_writes_one_bulk_submission_for_a_repeated_request(api_client, officer_a, registry):
    api_client.force_authenticate(officer_a)
    body = _bulk_body("18.01.01", _villages("18.01.01."))

    first = _post(api_client, BULK, body, **{"Idempotency-Key": "massal-1"})
    second = _post(api_client, BULK, body, **{"Idempotency-Key": "massal-1"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert ProgressReport.objects.count() == len(_villages("18.01.01."))


# --- GET /reports/, verify, reject --------------------------------------------------------------


def test_it_lists_reports_awaiting_verification(api_client, province_staff, officer_a, registry):
    first, second, third = _desa("18.01.01.")
    waiting = _submit(first, officer_a)
    services.report_verify(report=_submit(second, officer_a), actor=province_staff)
    services.report_reject(report=_submit(third, officer_a), actor=province_staff, reason="Foto tidak jelas")
    api_client.force_authenticate(province_staff)

    ids = _codes(api_client.get(REPORTS, {"status": "awaiting"}), key="id")

    assert ids == [waiting.pk]


def test_it_lists_reports_newest_first(api_client, province_staff, officer_a, registry):
    reports = [_submit(village, officer_a) for village in _desa("18.01.")]
    api_client.force_authenticate(province_staff)

    ids = _codes(api_client.get(REPORTS), key="id")

    assert ids == [report.pk for report in reversed(reports)]


def test_it_verifies_a_report(api_client, province_staff, api_report):
    api_client.force_authenticate(province_staff)

    response = _post(api_client, f"{REPORTS}{api_report.pk}/verify/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "verified"
    assert response.json()["reviewed_by"] == province_staff.username
    assert response.json()["reviewed_at"]


def test_it_changes_the_village_status_on_verification(api_client, province_staff, api_village, api_report):
    api_client.force_authenticate(province_staff)

    _post(api_client, f"{REPORTS}{api_report.pk}/verify/")

    status = VillageStatus.objects.get(village=api_village)
    assert status.pillar1 == PillarStatus.LIVE
    assert status.last_report_id == api_report.pk
    assert api_client.get(f"{ROLLOUT}{api_village.code}/").json()["adopted"] is True


def test_it_rejects_a_report_with_a_reason(api_client, province_staff, api_report):
    api_client.force_authenticate(province_staff)

    response = _post(api_client, f"{REPORTS}{api_report.pk}/reject/", {"reason": "Bukti tidak ada"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "rejected"
    assert response.json()["rejection_reason"] == "Bukti tidak ada"


def test_it_leaves_the_village_status_unchanged_on_rejection(api_client, province_staff, api_report):
    api_client.force_authenticate(province_staff)

    _post(api_client, f"{REPORTS}{api_report.pk}/reject/", {"reason": "Bukti tidak ada"})

    assert not VillageStatus.objects.exists()


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}], ids=["missing", "empty", "blank"])
def test_it_rejects_a_rejection_without_a_reason_with_400(api_client, province_staff, api_report, body):
    api_client.force_authenticate(province_staff)
    before = _written()

    response = _post(api_client, f"{REPORTS}{api_report.pk}/reject/", body)

    _assert_field_error(response, "reason")
    assert _written() == before


@pytest.mark.parametrize(
    ("first", "second"),
    [("verify", "verify"), ("verify", "reject"), ("reject", "verify"), ("reject", "reject")],
)
def test_it_refuses_a_second_decision_with_409(api_client, province_staff, province_admin, api_report, first, second):
    api_client.force_authenticate(province_staff)
    _post(api_client, f"{REPORTS}{api_report.pk}/{first}/", {"reason": "Pertama"})
    before = _written()
    api_client.force_authenticate(province_admin)

    response = _post(api_client, f"{REPORTS}{api_report.pk}/{second}/", {"reason": "Kedua"})

    assert response.status_code == 409, response.content
    assert response.json()["detail"]
    assert _written() == before


def test_it_answers_404_for_an_unknown_report(api_client, province_staff, api_report):
    api_client.force_authenticate(province_staff)

    assert _post(api_client, f"{REPORTS}{api_report.pk + 1000}/verify/").status_code == 404


# --- GET /adoption/ -----------------------------------------------------------------------------


def _expected_figures(villages: list[Village]) -> dict:
    """The snapshot figures of a set of villages, counted row by row in Python (not by the SQL under test)."""
    statuses = {status.village.code: status for status in VillageStatus.objects.select_related("village")}
    active = [village for village in villages if village.is_active]
    stale_before = timezone.localdate() - datetime.timedelta(days=services.STALE_AFTER_DAYS)

    def live(village, pillar="pillar1"):
        status = statuses.get(village.code)
        return status is not None and getattr(status, pillar) == PillarStatus.LIVE

    def stale(village):
        status = statuses.get(village.code)
        return status is None or status.last_verified_on is None or status.last_verified_on < stale_before

    return {
        "units": len(active),
        "desa": sum(village.kind in DESA_KINDS for village in active),
        "kelurahan": sum(village.kind not in DESA_KINDS for village in active),
        "adopted_units": sum(live(village) for village in active),
        "adopted_desa": sum(live(village) and village.kind in DESA_KINDS for village in active),
        "pillar1_live": sum(live(village) for village in active),
        "pillar2_live": sum(live(village, "pillar2") for village in active),
        "pillar3_live": sum(live(village, "pillar3") for village in active),
        "blocked_no_signal": sum(
            village.code in statuses and statuses[village.code].blocker == "no_signal" and not live(village)
            for village in active
        ),
        "awaiting_verification": ProgressReport.objects.filter(
            status=ReportStatus.AWAITING, village__in=active
        ).count(),
        "stale_units": sum(stale(village) for village in active),
    }


def _adoption(client, **query) -> list[dict]:
    response = client.get(ADOPTION, query)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(
    ("query", "units"),
    [
        ({"level": "province"}, {"18": "18."}),
        ({}, {"18.01": "18.01.", "18.71": "18.71."}),
        ({"level": "regency"}, {"18.01": "18.01.", "18.71": "18.71."}),
        ({"level": "district", "parent": "18.01"}, {"18.01.01": "18.01.01.", "18.01.02": "18.01.02."}),
        ({"level": "district"}, {"18.01.01": "18.01.01.", "18.01.02": "18.01.02.", "18.71.01": "18.71.01."}),
    ],
    ids=["province", "default", "regency", "districts of 18.01", "all districts"],
)
def test_it_gives_the_latest_adoption_figures_per_unit(api_client, auditor, api_rollout_state, query, units):
    services.adoption_recompute()
    api_client.force_authenticate(auditor)

    rows = _adoption(api_client, **query)

    assert [row["code"] for row in rows] == list(units)
    for row in rows:
        villages = list(Village.objects.filter(code__startswith=units[row["code"]]))
        assert {key: row[key] for key in _expected_figures(villages)} == _expected_figures(villages), row["code"]
        assert row["date"] == timezone.localdate().isoformat()


def test_it_gives_the_adoption_percentages(api_client, auditor, api_rollout_state):
    services.adoption_recompute()
    api_client.force_authenticate(auditor)

    row = _adoption(api_client, level="regency", parent="18")[0]

    # 18.01: 3 of 6 units adopted (2 desa and the kelurahan), 2 of 5 desa.
    assert (row["code"], row["adopted_units"], row["units"]) == ("18.01", 3, 6)
    assert row["adopted_pct"] == 50.0
    assert row["adopted_desa_pct"] == 40.0


def test_it_gives_each_adoption_row_a_forecast(api_client, auditor, api_rollout_state):
    services.adoption_recompute()
    api_client.force_authenticate(auditor)

    rows = _adoption(api_client, level="district")

    assert rows
    for row in rows:
        assert set(row["forecast"]) == {"status", "date", "slope_per_month"}
        assert row["forecast"]["status"] in {"reached", "on_track", "not_on_track", "no_data"}


def test_it_forecasts_a_unit_that_reached_full_adoption_as_reached(api_client, auditor, province_staff, registry):
    for village in _villages("18.71."):
        _correct(village, province_staff, pillar1=PillarStatus.LIVE)
    services.adoption_recompute()
    api_client.force_authenticate(auditor)

    row = next(row for row in _adoption(api_client, level="regency") if row["code"] == "18.71")

    assert row["forecast"]["status"] == "reached"


def test_it_gives_the_figures_of_the_latest_snapshot_only(api_client, auditor, province_staff, api_village):
    services.adoption_recompute(on_date=timezone.localdate() - datetime.timedelta(days=7))
    _correct(api_village, province_staff, pillar1=PillarStatus.LIVE)
    services.adoption_recompute()
    api_client.force_authenticate(auditor)

    rows = _adoption(api_client, level="province")

    assert [(row["date"], row["adopted_units"]) for row in rows] == [(timezone.localdate().isoformat(), 1)]


def test_it_answers_an_empty_list_before_any_recompute(api_client, auditor, registry):
    api_client.force_authenticate(auditor)

    assert _adoption(api_client, level="regency") == []


@pytest.mark.parametrize("level", ["village", "PROVINCE", "18.01"])
def test_it_rejects_an_unknown_adoption_level_with_400(api_client, auditor, registry, level):
    api_client.force_authenticate(auditor)

    response = api_client.get(ADOPTION, {"level": level})

    _assert_field_error(response, "level")


# --- GET /adoption/history/ ---------------------------------------------------------------------


def _days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def api_history(registry, province_staff) -> None:
    """Snapshots 60 and 30 days ago and today; two desa of 18.01 went live 45 days ago and today."""
    first, second = _desa("18.01.01.")[:2]
    _correct(first, province_staff, pillar1=PillarStatus.LIVE)
    _correct(second, province_staff, pillar1=PillarStatus.LIVE)
    VillageStatus.objects.filter(village=first).update(pillar1_since=_days_ago(45))
    for days in (60, 30, 0):
        services.adoption_recompute(on_date=_days_ago(days))


def _history(client, **query) -> list[dict]:
    response = client.get(HISTORY, query)
    assert response.status_code == 200, response.content
    return response.json()


def test_it_gives_the_adoption_history_of_a_unit(api_client, auditor, api_history):
    api_client.force_authenticate(auditor)

    rows = _history(api_client, code="18.01")

    assert [(row["date"], row["code"], row["adopted_units"]) for row in rows] == [
        (_days_ago(60).isoformat(), "18.01", 0),
        (_days_ago(30).isoformat(), "18.01", 1),
        (_days_ago(0).isoformat(), "18.01", 2),
    ]


def test_it_limits_the_adoption_history_to_a_date_range(api_client, auditor, api_history):
    api_client.force_authenticate(auditor)

    rows = _history(api_client, code="18.01", date_from=_days_ago(45).isoformat(), date_to=_days_ago(1).isoformat())

    assert [row["date"] for row in rows] == [_days_ago(30).isoformat()]


def test_it_gives_the_province_history(api_client, auditor, api_history):
    api_client.force_authenticate(auditor)

    rows = _history(api_client, code="18")

    assert [(row["level"], row["units"], row["adopted_units"]) for row in rows] == [
        ("province", UNITS_A + UNITS_B, 0),
        ("province", UNITS_A + UNITS_B, 1),
        ("province", UNITS_A + UNITS_B, 2),
    ]


@pytest.mark.parametrize(
    "query",
    [{}, {"code": "18.01.01.2001"}, {"code": "lampung"}, {"code": "18.01", "date_from": "kemarin"}],
    ids=["no code", "village code", "not a code", "bad date"],
)
def test_it_rejects_a_bad_history_query_with_400(api_client, auditor, registry, query):
    api_client.force_authenticate(auditor)

    response = api_client.get(HISTORY, query)

    assert response.status_code == 400
    assert set(response.json()) & {"code", "date_from"}


# --- GET /paid-not-live/ ------------------------------------------------------------------------


def test_it_lists_disbursed_grants_of_villages_not_adopted(api_client, auditor, api_paid):
    api_client.force_authenticate(auditor)

    grants = _codes(api_client.get(PAID_NOT_LIVE), key="grant")

    assert grants == [api_paid.not_live_a.pk, api_paid.not_live_b.pk]


def test_it_filters_paid_not_live_by_regency(api_client, auditor, api_paid):
    api_client.force_authenticate(auditor)

    grants = _codes(api_client.get(PAID_NOT_LIVE, {"regency": "18.01"}), key="grant")

    assert grants == [api_paid.not_live_a.pk]


def test_it_describes_a_paid_not_live_grant(api_client, auditor, api_paid):
    grant = api_paid.not_live_a
    api_client.force_authenticate(auditor)

    row = api_client.get(PAID_NOT_LIVE, {"regency": "18.01"}).json()["results"][0]

    assert (row["grant"], row["allocation"], row["village"]) == (grant.pk, grant.allocation_id, grant.village.code)
    assert (row["village_name"], row["district_name"], row["regency"]) == (grant.village.name, "Natar", "18.01")
    assert (row["amount"], row["grant_status"]) == (grant.amount, "disbursed")


def test_it_shows_a_paid_village_without_a_status_as_not_started(api_client, auditor, api_paid):
    api_client.force_authenticate(auditor)

    row = api_client.get(PAID_NOT_LIVE, {"regency": "18.01"}).json()["results"][0]

    assert (row["pillar1"], row["blocker"]) == ("not_started", "")


def test_it_drops_a_grant_from_paid_not_live_once_its_village_is_adopted(api_client, auditor, province_staff, api_paid):
    _correct(api_paid.not_live_a.village, province_staff, pillar1=PillarStatus.LIVE)
    api_client.force_authenticate(auditor)

    grants = _codes(api_client.get(PAID_NOT_LIVE), key="grant")

    assert grants == [api_paid.not_live_b.pk]


# --- permissions: the matrix of every route and role is tests/smartvillage/test_access_matrix.py ---------------


def test_it_documents_the_idempotency_key_of_the_report_writes(api_client):
    paths = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]

    for path in ("/api/v1/rollout/{code}/reports/", "/api/v1/reports/bulk/"):
        assert "Idempotency-Key" in {parameter["name"] for parameter in paths[path]["post"].get("parameters", [])}


def test_it_asks_an_anonymous_request_for_a_token(api_client, api_village):
    response = _post(api_client, f"{ROLLOUT}{api_village.code}/reports/", _fields())

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Token")


# --- regency officer scope ----------------------------------------------------------------------


@pytest.fixture
def api_both_regencies(auditor, api_rollout_state, api_paid, api_report, api_report_b) -> None:
    """Statuses, reports (awaiting and verified), snapshots and paid grants in both regencies."""
    services.adoption_recompute(on_date=_days_ago(30))
    services.adoption_recompute()
    # Each list below has rows of 18.71 for a province-wide user, so the officer's empty view means something.
    assert selectors.village_rollout_list(user=auditor).filter(regency__code="18.71").exists()
    assert selectors.report_list(user=auditor).filter(village__regency__code="18.71").exists()
    assert selectors.paid_not_live(user=auditor).filter(village__regency__code="18.71").exists()
    assert AdoptionSnapshot.objects.filter(code__startswith="18.71").exists()
    assert AdoptionSnapshot.objects.filter(level="province").exists()


@pytest.mark.parametrize("query", [{}, {"regency": "18.71"}, {"district": "18.71.01"}, {"search": "18.71"}])
def test_it_lists_only_the_own_regency_villages_to_a_regency_officer(api_client, officer_a, api_both_regencies, query):
    api_client.force_authenticate(officer_a)

    codes = _codes(api_client.get(ROLLOUT, {"page_size": 500, **query}))

    assert all(code.startswith("18.01.") for code in codes)
    assert len(codes) == (UNITS_A if not query else 0)


def test_it_answers_404_to_a_regency_officer_for_a_village_of_another_regency(
    api_client, officer_a, api_both_regencies
):
    api_client.force_authenticate(officer_a)

    assert api_client.get(f"{ROLLOUT}{_villages('18.71.')[0].code}/").status_code == 404


@pytest.mark.parametrize("query", [{}, {"regency": "18.71"}, {"village": "18.71.01.1001"}, {"status": "verified"}])
def test_it_lists_only_the_own_regency_reports_to_a_regency_officer(api_client, officer_a, api_both_regencies, query):
    api_client.force_authenticate(officer_a)

    rows = api_client.get(REPORTS, {"page_size": 500, **query}).json()["results"]

    assert all(row["village"].startswith("18.01.") and row["regency"] == "18.01" for row in rows)
    if not query:
        assert len(rows) == ProgressReport.objects.filter(village__regency__code="18.01").count()


def test_it_answers_404_to_a_regency_officer_for_a_report_of_another_regency(
    api_client, officer_a, api_both_regencies, api_report_b
):
    api_client.force_authenticate(officer_a)

    assert api_client.get(f"{REPORTS}{api_report_b.pk}/").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"level": "province"},
        {"level": "regency"},
        {"level": "regency", "parent": "18"},
        {"level": "district"},
        {"level": "district", "parent": "18.71"},
    ],
)
def test_it_gives_a_regency_officer_only_the_own_regency_snapshots(api_client, officer_a, api_both_regencies, query):
    api_client.force_authenticate(officer_a)

    rows = _adoption(api_client, **query)

    assert all(row["level"] != "province" for row in rows)
    assert all(row["code"].startswith("18.01") for row in rows)


def test_it_gives_a_regency_officer_the_own_regency_and_districts(api_client, officer_a, api_both_regencies):
    api_client.force_authenticate(officer_a)

    regencies = [row["code"] for row in _adoption(api_client, level="regency")]
    districts = [row["code"] for row in _adoption(api_client, level="district")]

    assert (regencies, districts) == (["18.01"], ["18.01.01", "18.01.02"])


@pytest.mark.parametrize("code", ["18.71", "18.71.01", "18"])
def test_it_gives_a_regency_officer_no_history_outside_the_own_regency(api_client, officer_a, api_both_regencies, code):
    api_client.force_authenticate(officer_a)

    response = api_client.get(HISTORY, {"code": code})

    assert response.status_code == 404 or response.json() == []


def test_it_gives_a_regency_officer_the_own_regency_history(api_client, officer_a, api_both_regencies):
    api_client.force_authenticate(officer_a)

    rows = _history(api_client, code="18.01")

    assert [row["date"] for row in rows] == [_days_ago(30).isoformat(), _days_ago(0).isoformat()]


@pytest.mark.parametrize("query", [{}, {"regency": "18.71"}])
def test_it_lists_only_the_own_regency_paid_not_live_to_a_regency_officer(
    api_client, officer_a, api_both_regencies, query
):
    api_client.force_authenticate(officer_a)

    rows = api_client.get(PAID_NOT_LIVE, query).json()["results"]

    assert all(row["regency"] == "18.01" for row in rows)
    assert len(rows) == (1 if not query else 0)


# --- query count --------------------------------------------------------------------------------


def test_it_lists_the_rollout_in_a_query_count_independent_of_page_size(api_client, auditor, api_rollout_state):
    api_client.force_authenticate(auditor)

    with CaptureQueriesContext(connection) as small:
        assert len(api_client.get(ROLLOUT, {"page_size": 2}).json()["results"]) == 2
    small_count = len(small)  # now: the next request resets the log the context reads
    with CaptureQueriesContext(connection) as large:
        assert len(api_client.get(ROLLOUT, {"page_size": 50}).json()["results"]) == UNITS_A + UNITS_B

    # One SELECT per page: no COUNT of every village (the paginator reads one row more instead).
    assert len(large) == small_count == 1


def test_it_lists_reports_in_a_query_count_independent_of_page_size(
    api_client, auditor, province_staff, officer_a, officer_b, api_rollout_state
):
    for village in _desa("18.01.")[:2]:
        services.report_verify(report=_submit(village, officer_a), actor=province_staff)
    _submit(_villages("18.71.")[1], officer_b)
    total = ProgressReport.objects.count()
    api_client.force_authenticate(auditor)

    with CaptureQueriesContext(connection) as small:
        assert len(api_client.get(REPORTS, {"page_size": 2}).json()["results"]) == 2
    small_count = len(small)  # now: the next request resets the log the context reads
    with CaptureQueriesContext(connection) as large:
        assert len(api_client.get(REPORTS, {"page_size": 50}).json()["results"]) == total

    assert len(large) == small_count


# --- bad input found by the schema fuzzing (tests/smartvillage/test_api_fuzz.py) -----------------


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", f"{ROLLOUT}g/"),
        ("patch", f"{ROLLOUT}g/"),
        ("post", f"{ROLLOUT}%E4%A1%BF/reports/"),
        ("get", f"{REPORTS}-8.163857452323706e-234/"),
        ("post", f"{REPORTS}-8.163857452323706e-234/verify/"),
    ],
)
def test_a_malformed_code_or_id_is_a_json_404(api_client, province_staff, officer_a, registry, method, url):
    # Routed by Django's URL resolver before, which answered its HTML "Not Found" page.
    api_client.force_authenticate(officer_a if url.endswith("/reports/") else province_staff)

    response = getattr(api_client, method)(url, {}, format="json")

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_the_schema_allows_the_nulls_of_an_unreviewed_report_and_an_unreported_village(
    api_client, province_staff, api_report, api_village
):
    # The schema said these were always strings; a report awaiting review and a village never verified have null.
    api_client.force_authenticate(province_staff)
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["components"]
    report = api_client.get(f"{REPORTS}{api_report.pk}/").json()
    village = api_client.get(f"{ROLLOUT}{api_village.code}/").json()

    assert schema["schemas"]["ReportOutput"]["properties"]["reviewed_by"]["nullable"]
    assert report["reviewed_by"] is None
    rollout = schema["schemas"]["VillageRollout"]["properties"]
    assert rollout["pillar1_since"]["nullable"] and rollout["last_verified_on"]["nullable"]
    assert village["pillar1_since"] is None and village["last_verified_on"] is None


def test_a_report_search_with_a_null_character_is_a_400_naming_search(api_client, province_staff, api_report):
    # DRF's search filter runs even on lists without search fields, and answered a bare list of messages.
    api_client.force_authenticate(province_staff)

    response = api_client.get(REPORTS, {"search": "\x00"})

    assert response.status_code == 400
    assert response.json()["search"]
