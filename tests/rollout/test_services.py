import datetime
import io

import pytest
from django.core.management import call_command
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from accounts.models import Role
from accounts.services import UserInput, user_update
from rollout import services
from rollout.models import (
    AdoptionSnapshot,
    Blocker,
    PillarStatus,
    ProgressReport,
    RecomputeRequest,
    ReportStatus,
    Signal,
    SnapshotLevel,
    VillageStatus,
)
from rollout.tasks import recompute_adoption
from smartvillage.errors import ApplicationError, TransitionRefused
from villages.models import Village, VillageKind

pytestmark = pytest.mark.django_db

CONTENT_FIELDS = (
    "village__code",
    "pillar1",
    "pillar2",
    "pillar3",
    "signal",
    "signal_sufficient",
    "blocker",
    "blocker_note",
    "note",
    "evidence_url",
    "submitted_by_id",
    "submitted_at",
)
STATUS_FIELDS = ("pillar1", "pillar2", "pillar3", "signal", "signal_sufficient", "blocker", "blocker_note")
SINCE_FIELDS = ("pillar1_since", "pillar2_since", "pillar3_since")


def desa_of(district) -> list[Village]:
    return list(Village.objects.filter(district=district, kind=VillageKind.DESA).order_by("code"))


def status_row(village: Village) -> dict | None:
    return VillageStatus.objects.filter(village=village).values().first()


def content(report: ProgressReport) -> tuple:
    return ProgressReport.objects.filter(pk=report.pk).values_list(*CONTENT_FIELDS).get()


# --- submitting ---------------------------------------------------------------------------------


def test_it_lets_an_officer_report_on_a_village_of_the_own_regency(registry, officer_a, ro_report_input):
    village = desa_of(registry.district_a1)[0]

    report = services.report_submit(actor=officer_a, item=ro_report_input(village, note="  Sudah live.  "))

    report.refresh_from_db()
    assert report.status == ReportStatus.AWAITING
    assert (report.village.code, report.submitted_by, report.note) == (village.code, officer_a, "Sudah live.")
    assert (report.reviewed_by, report.reviewed_at) == (None, None)


def test_it_leaves_the_village_status_unchanged_when_a_report_is_submitted(
    registry, officer_a, ro_verified, ro_report_input
):
    village = desa_of(registry.district_a1)[0]
    ro_verified(village, pillar1=PillarStatus.IN_PROGRESS)
    before = status_row(village)

    services.report_submit(actor=officer_a, item=ro_report_input(village, pillar1=PillarStatus.LIVE))

    assert status_row(village) == before


@pytest.mark.parametrize(
    ("actor", "district"),
    [
        pytest.param("officer_b", "district_a1", id="officer-of-another-regency"),
        pytest.param("officer_a", "district_b1", id="own-officer-other-regency-village"),
        pytest.param("province_staff", "district_a1", id="province-staff"),
        pytest.param("province_admin", "district_a1", id="province-admin"),
        pytest.param("auditor", "district_a1", id="auditor"),
    ],
)
def test_it_refuses_a_report_from_anyone_but_the_villages_regency_officer(
    request, registry, ro_report_input, actor, district
):
    user = request.getfixturevalue(actor)
    village = Village.objects.filter(district=getattr(registry, district)).order_by("code").first()

    with pytest.raises(ApplicationError) as refused:
        services.report_submit(actor=user, item=ro_report_input(village))

    assert "village" in refused.value.fields
    assert not ProgressReport.objects.exists()
    assert not VillageStatus.objects.exists()


# --- verifying and rejecting --------------------------------------------------------------------


def test_it_applies_a_verified_report_to_the_village_status(registry, ro_clock, ro_submitted, province_staff):
    village = desa_of(registry.district_a1)[0]
    report = ro_submitted(
        village,
        pillar1=PillarStatus.IN_PROGRESS,
        pillar2=PillarStatus.LIVE,
        pillar3=PillarStatus.NOT_STARTED,
        signal=Signal.NONE,
        signal_sufficient=False,
        blocker=Blocker.NO_SIGNAL,
        blocker_note="Belum ada BTS.",
    )

    services.report_verify(report=report, actor=province_staff)

    status = VillageStatus.objects.get(village=village)
    assert {name: getattr(status, name) for name in STATUS_FIELDS} == {
        "pillar1": PillarStatus.IN_PROGRESS,
        "pillar2": PillarStatus.LIVE,
        "pillar3": PillarStatus.NOT_STARTED,
        "signal": Signal.NONE,
        "signal_sufficient": False,
        "blocker": Blocker.NO_SIGNAL,
        "blocker_note": "Belum ada BTS.",
    }
    assert status.last_report_id == report.pk
    assert status.last_verified_on == ro_clock.today()
    assert [getattr(status, name) for name in SINCE_FIELDS] == [ro_clock.today()] * 3


def test_it_marks_the_report_verified_by_the_reviewer(registry, ro_clock, ro_submitted, province_staff):
    report = ro_submitted(desa_of(registry.district_a1)[0])

    services.report_verify(report=report, actor=province_staff)

    report.refresh_from_db()
    assert (report.status, report.reviewed_by, report.reviewed_at) == (
        ReportStatus.VERIFIED,
        province_staff,
        ro_clock.moment,
    )


def test_it_moves_a_pillars_since_date_only_when_that_pillar_changes(registry, ro_clock, ro_verified):
    village = desa_of(registry.district_a1)[0]
    first_day = ro_clock.today()
    ro_verified(
        village, pillar1=PillarStatus.IN_PROGRESS, pillar2=PillarStatus.IN_PROGRESS, pillar3=PillarStatus.NOT_STARTED
    )
    ro_clock.set(ro_clock.moment + datetime.timedelta(days=20))

    ro_verified(
        village,
        pillar1=PillarStatus.LIVE,
        pillar2=PillarStatus.IN_PROGRESS,
        pillar3=PillarStatus.NOT_STARTED,
        signal=Signal.BROADBAND,
    )

    status = VillageStatus.objects.get(village=village)
    assert (status.pillar1, status.pillar1_since) == (PillarStatus.LIVE, ro_clock.today())
    assert (status.pillar2_since, status.pillar3_since) == (first_day, first_day)
    assert (status.signal, status.last_verified_on) == (Signal.BROADBAND, ro_clock.today())


def test_it_dates_a_pillar_change_by_the_local_day(registry, ro_clock, ro_verified):
    ro_clock.set(datetime.datetime(2024, 3, 10, 23, 30, tzinfo=datetime.UTC))  # 2024-03-11 06:30 WIB
    village = desa_of(registry.district_a1)[0]

    ro_verified(village)

    status = VillageStatus.objects.get(village=village)
    assert status.last_verified_on == datetime.date(2024, 3, 11)
    assert status.pillar1_since == datetime.date(2024, 3, 11)


@pytest.mark.parametrize("reason", ["", "   "])
def test_it_refuses_a_rejection_without_a_reason(registry, ro_submitted, province_staff, reason):
    report = ro_submitted(desa_of(registry.district_a1)[0])

    with pytest.raises(ApplicationError) as refused:
        services.report_reject(report=report, actor=province_staff, reason=reason)

    assert "reason" in refused.value.fields
    report.refresh_from_db()
    assert (report.status, report.reviewed_by) == (ReportStatus.AWAITING, None)


def test_it_leaves_the_village_status_unchanged_when_a_report_is_rejected(
    registry, ro_verified, ro_submitted, province_staff
):
    village = desa_of(registry.district_a1)[0]
    ro_verified(village, pillar1=PillarStatus.IN_PROGRESS)
    before = status_row(village)
    report = ro_submitted(village, pillar1=PillarStatus.LIVE)

    services.report_reject(report=report, actor=province_staff, reason="Bukti tidak dapat dibuka.")

    report.refresh_from_db()
    assert (report.status, report.rejection_reason) == (ReportStatus.REJECTED, "Bukti tidak dapat dibuka.")
    assert status_row(village) == before


def test_it_creates_no_status_when_a_first_report_is_rejected(registry, ro_submitted, province_staff):
    village = desa_of(registry.district_a1)[0]

    services.report_reject(report=ro_submitted(village), actor=province_staff, reason="Tidak lengkap.")

    assert status_row(village) is None


DECISIONS = {
    "verify": lambda report, actor: services.report_verify(report=report, actor=actor),
    "reject": lambda report, actor: services.report_reject(report=report, actor=actor, reason="Tidak sesuai."),
}


@pytest.mark.parametrize("first", DECISIONS)
@pytest.mark.parametrize("second", DECISIONS)
def test_it_decides_a_report_only_once(registry, ro_submitted, province_staff, province_admin, first, second):
    village = desa_of(registry.district_a1)[0]
    report = ro_submitted(village)
    DECISIONS[first](report, province_staff)
    decided = ProgressReport.objects.filter(pk=report.pk).values().get()
    status = status_row(village)

    with pytest.raises(TransitionRefused):
        DECISIONS[second](report, province_admin)

    assert ProgressReport.objects.filter(pk=report.pk).values().get() == decided
    assert status_row(village) == status


def test_it_never_changes_a_reports_content(
    registry, ro_clock, ro_submitted, ro_verified, ro_report_input, province_staff
):
    village = desa_of(registry.district_a1)[0]
    report = ro_submitted(village, pillar1=PillarStatus.IN_PROGRESS, note="Operator dilatih.")
    stated = content(report)

    services.report_verify(report=report, actor=province_staff)
    ro_clock.set(ro_clock.moment + datetime.timedelta(days=3))
    ro_verified(village, pillar1=PillarStatus.LIVE)
    services.status_correct(actor=province_staff, item=ro_report_input(village, pillar1=PillarStatus.NOT_STARTED))

    assert content(report) == stated


# --- nobody reviews their own report ------------------------------------------------------------


@pytest.fixture
def ro_promoted(officer_a, province_admin):
    """officer_a, after the province administrator made them province staff (a real role change)."""

    def promote():
        return user_update(
            actor=province_admin,
            user=officer_a,
            data=UserInput(username=officer_a.username, role=Role.PROVINCE_STAFF, regency=None),
        )

    return promote


@pytest.mark.parametrize("decision", DECISIONS)
def test_it_refuses_a_review_by_the_reports_author_after_a_role_change(
    registry, officer_a, ro_promoted, ro_report_input, decision
):
    village = desa_of(registry.district_a1)[0]
    report = services.report_submit(actor=officer_a, item=ro_report_input(village))
    staff_now = ro_promoted()
    assert staff_now.pk == officer_a.pk and staff_now.role == Role.PROVINCE_STAFF

    with pytest.raises(ApplicationError) as refused:
        DECISIONS[decision](report, staff_now)

    assert refused.value.http_status == 403
    report.refresh_from_db()
    assert (report.status, report.reviewed_by) == (ReportStatus.AWAITING, None)
    assert status_row(village) is None


@pytest.mark.parametrize("decision", DECISIONS)
def test_it_lets_another_reviewer_decide_the_promoted_authors_report(
    registry, officer_a, ro_promoted, ro_report_input, province_staff, decision
):
    village = desa_of(registry.district_a1)[0]
    report = services.report_submit(actor=officer_a, item=ro_report_input(village))
    ro_promoted()

    decided = DECISIONS[decision](report, province_staff)

    assert decided.reviewed_by == province_staff


# --- the status follows the most recent report, whatever the order of review ---------------------


def test_it_keeps_the_newer_status_when_an_older_report_is_verified_after_it(
    registry, ro_clock, ro_submitted, province_staff
):
    village = desa_of(registry.district_a1)[0]
    older = ro_submitted(village, pillar1=PillarStatus.IN_PROGRESS, signal=Signal.G3)
    ro_clock.set(ro_clock.moment + datetime.timedelta(days=7))
    newer = ro_submitted(village, pillar1=PillarStatus.LIVE, signal=Signal.G4)
    services.report_verify(report=newer, actor=province_staff)
    in_place = status_row(village)
    ro_clock.set(ro_clock.moment + datetime.timedelta(days=2))

    services.report_verify(report=older, actor=province_staff)

    assert status_row(village) == in_place
    assert in_place["last_report_id"] == newer.pk
    older.refresh_from_db()
    assert (older.status, older.reviewed_by, older.superseded) == (ReportStatus.VERIFIED, province_staff, True)
    newer.refresh_from_db()
    assert (newer.status, newer.superseded) == (ReportStatus.VERIFIED, False)


def test_it_applies_reports_verified_in_the_order_they_describe(registry, ro_clock, ro_submitted, province_staff):
    village = desa_of(registry.district_a1)[0]
    older = ro_submitted(village, pillar1=PillarStatus.IN_PROGRESS)
    first_day = ro_clock.today()
    ro_clock.set(ro_clock.moment + datetime.timedelta(days=7))
    newer = ro_submitted(village, pillar1=PillarStatus.LIVE)

    services.report_verify(report=older, actor=province_staff)
    services.report_verify(report=newer, actor=province_staff)

    status = VillageStatus.objects.get(village=village)
    assert (status.last_report_id, status.pillar1, status.pillar1_since) == (
        newer.pk,
        PillarStatus.LIVE,
        ro_clock.today(),
    )
    assert status.pillar2_since == first_day
    assert not ProgressReport.objects.filter(superseded=True).exists()


def test_it_orders_reports_describing_the_same_moment_by_submission(registry, ro_clock, ro_submitted, province_staff):
    village = desa_of(registry.district_a1)[0]
    first = ro_submitted(village, pillar1=PillarStatus.IN_PROGRESS)
    second = ro_submitted(village, pillar1=PillarStatus.LIVE)
    assert first.described_at == second.described_at

    services.report_verify(report=second, actor=province_staff)
    services.report_verify(report=first, actor=province_staff)

    status = VillageStatus.objects.get(village=village)
    assert (status.last_report_id, status.pillar1) == (second.pk, PillarStatus.LIVE)
    assert ProgressReport.objects.get(pk=first.pk).superseded is True


def test_it_dates_a_pillar_change_by_the_time_the_report_describes(registry, ro_clock, ro_submitted, province_staff):
    village = desa_of(registry.district_a1)[0]
    report = ro_submitted(village, pillar1=PillarStatus.LIVE)
    described = timezone.localdate(report.described_at)
    ro_clock.set(ro_clock.moment + datetime.timedelta(days=10))

    services.report_verify(report=report, actor=province_staff)

    status = VillageStatus.objects.get(village=village)
    assert (status.pillar1_since, status.last_verified_on) == (described, ro_clock.today())


def test_it_never_marks_a_rejected_or_awaiting_report_superseded(registry, ro_clock, ro_submitted, province_staff):
    village = desa_of(registry.district_a1)[0]
    older = ro_submitted(village)
    awaiting = ro_submitted(village)
    ro_clock.set(ro_clock.moment + datetime.timedelta(days=1))
    services.report_verify(report=ro_submitted(village), actor=province_staff)

    services.report_reject(report=older, actor=province_staff, reason="Bukti tidak dapat dibuka.")

    assert list(ProgressReport.objects.filter(pk__in=[older.pk, awaiting.pk]).values_list("superseded", flat=True)) == [
        False,
        False,
    ]


def test_it_applies_a_correction_over_a_report_in_place(
    registry, ro_clock, ro_verified, province_staff, ro_report_input
):
    village = desa_of(registry.district_a1)[0]
    ro_verified(village, pillar1=PillarStatus.LIVE)
    ro_clock.set(ro_clock.moment + datetime.timedelta(hours=1))

    correction = services.status_correct(
        actor=province_staff, item=ro_report_input(village, pillar1=PillarStatus.IN_PROGRESS)
    )

    status = VillageStatus.objects.get(village=village)
    assert (status.last_report_id, status.pillar1) == (correction.pk, PillarStatus.IN_PROGRESS)
    correction.refresh_from_db()
    assert correction.superseded is False


# --- corrections --------------------------------------------------------------------------------


def test_it_records_a_correction_as_a_report_verified_by_its_author(
    registry, ro_clock, province_staff, ro_report_input
):
    village = desa_of(registry.district_a1)[0]

    correction = services.status_correct(actor=province_staff, item=ro_report_input(village))

    correction.refresh_from_db()
    assert correction.is_correction is True
    assert (correction.status, correction.submitted_by, correction.reviewed_by, correction.reviewed_at) == (
        ReportStatus.VERIFIED,
        province_staff,
        province_staff,
        ro_clock.moment,
    )


def test_it_applies_a_correction_to_the_village_status(
    registry, ro_clock, ro_verified, province_staff, ro_report_input
):
    village = desa_of(registry.district_a1)[0]
    ro_verified(village, pillar1=PillarStatus.IN_PROGRESS, signal=Signal.G3)

    correction = services.status_correct(
        actor=province_staff, item=ro_report_input(village, pillar1=PillarStatus.LIVE, signal=Signal.SATELLITE)
    )

    status = VillageStatus.objects.get(village=village)
    assert (status.pillar1, status.signal, status.last_report_id) == (
        PillarStatus.LIVE,
        Signal.SATELLITE,
        correction.pk,
    )
    assert status.last_verified_on == ro_clock.today()


# --- bulk submission ----------------------------------------------------------------------------


def test_it_submits_a_districts_rows_as_one_report_each(registry, officer_a, ro_report_input):
    villages = list(Village.objects.filter(district=registry.district_a1).order_by("code"))

    reports = services.reports_submit_bulk(
        actor=officer_a, district=registry.district_a1, items=[ro_report_input(village) for village in villages]
    )

    assert len(reports) == len(villages) == 4
    assert sorted(ProgressReport.objects.values_list("village__code", flat=True)) == [v.code for v in villages]
    assert set(ProgressReport.objects.values_list("status", "submitted_by")) == {(ReportStatus.AWAITING, officer_a.pk)}
    assert not VillageStatus.objects.exists()


INVALID_ROWS = {
    "village-of-another-district": (
        "village",
        lambda registry, make, villages: make(Village.objects.filter(district=registry.district_a2).first()),
    ),
    "village-of-another-regency": (
        "village",
        lambda registry, make, villages: make(Village.objects.filter(district=registry.district_b1).first()),
    ),
    "duplicate-village": ("village", lambda registry, make, villages: make(villages[0])),
    "blocker-note-without-blocker": (
        "blocker",
        lambda registry, make, villages: make(
            villages[1], pillar1=PillarStatus.IN_PROGRESS, blocker_note="Menunggu perangkat."
        ),
    ),
    "no-signal-blocker-with-sufficient-signal": (
        "signal_sufficient",
        lambda registry, make, villages: make(
            villages[1], pillar1=PillarStatus.IN_PROGRESS, blocker=Blocker.NO_SIGNAL, signal_sufficient=True
        ),
    ),
    # A trial user's finding: "no signal" and "signal enough for the services" were accepted together.
    "no-signal-at-all-with-sufficient-signal": (
        "signal_sufficient",
        lambda registry, make, villages: make(villages[1], signal=Signal.NONE, signal_sufficient=True),
    ),
}


@pytest.mark.parametrize("case", INVALID_ROWS)
def test_it_refuses_a_whole_bulk_with_one_invalid_row_keyed_by_its_index(registry, officer_a, ro_report_input, case):
    field, invalid = INVALID_ROWS[case]
    villages = list(Village.objects.filter(district=registry.district_a1).order_by("code"))
    items = [
        ro_report_input(villages[0]),
        invalid(registry, ro_report_input, villages),
        ro_report_input(villages[2]),
    ]

    with pytest.raises(ApplicationError) as refused:
        services.reports_submit_bulk(actor=officer_a, district=registry.district_a1, items=items)

    # Keyed by the row's 0-based index, as a string (the shape DRF gives for list input).
    rows = refused.value.fields["reports"]
    assert list(rows) == ["1"]
    assert rows["1"][field]
    assert not ProgressReport.objects.exists()


# --- the definition of adopted ------------------------------------------------------------------


@pytest.mark.parametrize("pillar1", PillarStatus.values)
@pytest.mark.parametrize(
    ("pillar2", "pillar3"),
    [
        (PillarStatus.NOT_STARTED, PillarStatus.NOT_STARTED),
        (PillarStatus.IN_PROGRESS, PillarStatus.LIVE),
        (PillarStatus.LIVE, PillarStatus.LIVE),
    ],
)
def test_it_counts_a_village_as_adopted_exactly_when_pillar_1_is_live(registry, pillar1, pillar2, pillar3):
    village = desa_of(registry.district_a1)[0]
    VillageStatus.objects.create(village=village, pillar1=pillar1, pillar2=pillar2, pillar3=pillar3)
    expected = pillar1 == PillarStatus.LIVE

    assert Village.objects.filter(services.adopted(prefix="rollout__"), pk=village.pk).exists() is expected
    assert VillageStatus.objects.filter(services.adopted(), pk=village.pk).exists() is expected


# --- recompute ----------------------------------------------------------------------------------

FIGURES = (
    "units",
    "desa",
    "kelurahan",
    "adopted_units",
    "adopted_desa",
    "pillar1_live",
    "pillar2_live",
    "pillar3_live",
    "blocked_no_signal",
    "awaiting_verification",
)
SCOPES = {
    SnapshotLevel.PROVINCE: "regency__province__code",
    SnapshotLevel.REGENCY: "regency__code",
    SnapshotLevel.DISTRICT: "district__code",
}


def counted(level: str, code: str, *, as_of: datetime.date | None = None) -> dict[str, int]:
    """The figures of one unit, counted here from the village rows with plain filters."""
    villages = Village.objects.filter(is_active=True, **{SCOPES[level]: code})
    desa = villages.exclude(kind=VillageKind.KELURAHAN)
    live = {"rollout__pillar1": PillarStatus.LIVE}
    if as_of is not None:
        live["rollout__pillar1_since__lte"] = as_of
    return {
        "units": villages.count(),
        "desa": desa.count(),
        "kelurahan": villages.filter(kind=VillageKind.KELURAHAN).count(),
        "adopted_units": villages.filter(**live).count(),
        "adopted_desa": desa.filter(**live).count(),
        "pillar1_live": villages.filter(rollout__pillar1=PillarStatus.LIVE).count(),
        "pillar2_live": villages.filter(rollout__pillar2=PillarStatus.LIVE).count(),
        "pillar3_live": villages.filter(rollout__pillar3=PillarStatus.LIVE).count(),
        "blocked_no_signal": villages.filter(rollout__blocker=Blocker.NO_SIGNAL)
        .exclude(rollout__pillar1=PillarStatus.LIVE)
        .count(),
        "awaiting_verification": ProgressReport.objects.filter(
            status=ReportStatus.AWAITING, village__in=villages
        ).count(),
    }


def expected_units() -> set[tuple[str, str]]:
    """Every province, regency and district that has an active village."""
    active = Village.objects.filter(is_active=True)
    return (
        {(SnapshotLevel.PROVINCE, code) for code in active.values_list("regency__province__code", flat=True)}
        | {(SnapshotLevel.REGENCY, code) for code in active.values_list("regency__code", flat=True)}
        | {(SnapshotLevel.DISTRICT, code) for code in active.values_list("district__code", flat=True)}
    )


def snapshots_of(day: datetime.date) -> dict[tuple[str, str], dict[str, int]]:
    return {
        (row.level, row.code): {name: getattr(row, name) for name in FIGURES}
        for row in AdoptionSnapshot.objects.filter(date=day)
    }


class Scenario:
    """The registry's villages in every situation the figures distinguish."""

    def __init__(self, registry):
        self.d = desa_of(registry.district_a1)
        self.k = Village.objects.get(district=registry.district_a1, kind=VillageKind.KELURAHAN)
        self.e = desa_of(registry.district_a2)
        self.f = list(Village.objects.filter(district=registry.district_b1).order_by("code"))


@pytest.fixture
def ro_scenario(registry, ro_clock, ro_verified, ro_submitted, province_staff) -> Scenario:
    s = Scenario(registry)
    live, started = PillarStatus.LIVE, PillarStatus.IN_PROGRESS
    ro_verified(s.d[0], pillar1=live, pillar2=live, pillar3=live)
    ro_verified(s.d[1], pillar1=started, signal=Signal.NONE, signal_sufficient=False, blocker=Blocker.NO_SIGNAL)
    ro_submitted(s.d[2])  # awaiting, no status yet
    ro_verified(s.k, pillar1=live, pillar2=started)
    services.report_reject(report=ro_submitted(s.e[0]), actor=province_staff, reason="Bukti kurang.")
    ro_verified(s.e[1], pillar1=live, pillar2=live)
    ro_submitted(s.e[1], pillar3=live)
    Village.objects.filter(pk=s.e[1].pk).update(is_active=False)  # dropped from the official list
    ro_verified(s.f[0], pillar1=live, pillar3=live)
    ro_verified(s.f[1], pillar1=PillarStatus.NOT_STARTED, signal_sufficient=False, blocker=Blocker.NO_DEVICES)
    ro_submitted(s.f[1], pillar1=started)
    return s


def test_it_writes_one_snapshot_per_province_regency_and_district(ro_scenario, ro_clock):
    written = services.adoption_recompute()

    assert set(snapshots_of(ro_clock.today())) == expected_units()
    assert written == len(expected_units()) == 1 + 2 + 3


def test_it_writes_figures_equal_to_a_count_of_the_village_rows(ro_scenario, ro_clock):
    services.adoption_recompute()

    snapshots = snapshots_of(ro_clock.today())
    assert snapshots == {(level, code): counted(level, code) for level, code in expected_units()}
    # Not vacuous: the province has desa and kelurahan, adopted and blocked and awaiting.
    assert snapshots[(SnapshotLevel.PROVINCE, "18")] == {
        "units": 7,
        "desa": 4,
        "kelurahan": 3,
        "adopted_units": 3,
        "adopted_desa": 1,
        "pillar1_live": 3,
        "pillar2_live": 1,
        "pillar3_live": 2,
        "blocked_no_signal": 1,
        "awaiting_verification": 2,
    }


def test_it_leaves_inactive_villages_out_of_every_figure(ro_scenario, ro_clock):
    services.adoption_recompute()

    district_a2 = AdoptionSnapshot.objects.get(date=ro_clock.today(), code=ro_scenario.e[0].district.code)
    assert (district_a2.units, district_a2.desa, district_a2.adopted_units, district_a2.pillar2_live) == (1, 1, 0, 0)
    assert district_a2.awaiting_verification == 0


def test_it_records_the_adoption_definition_version(ro_scenario, ro_clock):
    services.adoption_recompute()

    versions = set(AdoptionSnapshot.objects.values_list("definition_version", flat=True))
    assert versions == {services.ADOPTION_DEFINITION_VERSION}


def test_it_keeps_one_row_per_unit_when_run_twice_a_day_and_updates_the_figures(ro_scenario, ro_clock, ro_verified):
    services.adoption_recompute()
    rows = AdoptionSnapshot.objects.count()
    ro_clock.set(ro_clock.moment + datetime.timedelta(hours=2))
    ro_verified(ro_scenario.d[2], pillar1=PillarStatus.LIVE)

    services.adoption_recompute()

    assert AdoptionSnapshot.objects.count() == rows
    regency = AdoptionSnapshot.objects.get(date=ro_clock.today(), level=SnapshotLevel.REGENCY, code="18.01")
    assert regency.adopted_units == counted(SnapshotLevel.REGENCY, "18.01")["adopted_units"] == 3
    assert regency.computed_at == ro_clock.moment


def test_it_counts_only_villages_live_by_a_past_date(ro_scenario, ro_clock):
    s = ro_scenario
    on_date = datetime.date(2024, 3, 31)
    VillageStatus.objects.filter(village=s.d[0]).update(pillar1_since=datetime.date(2024, 1, 10))
    VillageStatus.objects.filter(village=s.f[0]).update(pillar1_since=on_date)
    VillageStatus.objects.filter(village=s.k).update(pillar1_since=datetime.date(2024, 4, 1))

    services.adoption_recompute(on_date=on_date)

    snapshots = AdoptionSnapshot.objects.filter(date=on_date)
    assert {(row.level, row.code) for row in snapshots} == expected_units()
    for row in snapshots:
        expected = counted(row.level, row.code, as_of=on_date)
        assert (row.adopted_units, row.adopted_desa) == (expected["adopted_units"], expected["adopted_desa"])
    province = snapshots.get(level=SnapshotLevel.PROVINCE)
    assert (province.adopted_units, province.adopted_desa) == (2, 1)


def test_the_recompute_adoption_command_writes_the_snapshots(ro_scenario, ro_clock):
    call_command("recompute_adoption", stdout=io.StringIO())

    assert snapshots_of(ro_clock.today()) == {(level, code): counted(level, code) for level, code in expected_units()}


def test_the_recompute_adoption_command_writes_a_past_date(ro_scenario, ro_clock):
    call_command("recompute_adoption", "--date", "2024-01-31", stdout=io.StringIO())

    assert {(row.level, row.code) for row in AdoptionSnapshot.objects.filter(date="2024-01-31")} == expected_units()
    assert not AdoptionSnapshot.objects.exclude(date="2024-01-31").exists()


# --- coalescing ---------------------------------------------------------------------------------


def test_it_schedules_one_recompute_for_a_burst_of_verifications(
    registry, ro_queued, ro_submitted, province_staff, django_capture_on_commit_callbacks
):
    villages = list(Village.objects.filter(regency=registry.regency_a).order_by("code"))
    reports = [ro_submitted(villages[i % len(villages)]) for i in range(200)]

    for report in reports:
        with django_capture_on_commit_callbacks(execute=True):
            services.report_verify(report=report, actor=province_staff)

    assert ProgressReport.objects.filter(status=ReportStatus.VERIFIED).count() == 200
    request = RecomputeRequest.objects.get()
    # Still pending: the one message was accepted by the broker and waits for a worker.
    assert (request.schedules, request.pending) == (1, True)


@pytest.fixture
def ro_sent(monkeypatch) -> list[dict]:
    """The task's apply_async replaced by a recorder of its keyword arguments."""
    sent: list[dict] = []
    monkeypatch.setattr(recompute_adoption, "apply_async", lambda **kwargs: sent.append(kwargs))
    return sent


def test_it_reclaims_a_stale_pending_request(settings, ro_sent):
    long_ago = timezone.now() - datetime.timedelta(seconds=settings.ROLLOUT_RECOMPUTE_STALE_SECONDS + 1)
    RecomputeRequest.objects.create(pk=1, pending=True, requested_at=long_ago, schedules=1)

    assert services.adoption_recompute_request() is True

    request = RecomputeRequest.objects.get()
    assert (request.pending, request.schedules) == (True, 2)
    assert request.requested_at > long_ago
    assert ro_sent == [{"countdown": settings.ROLLOUT_RECOMPUTE_DELAY_SECONDS}]


def test_it_does_not_schedule_again_while_a_recent_request_is_pending(ro_sent):
    RecomputeRequest.objects.create(pk=1, pending=True, requested_at=timezone.now(), schedules=1)

    assert services.adoption_recompute_request() is False

    assert RecomputeRequest.objects.get().schedules == 1
    assert ro_sent == []


def test_it_releases_the_claim_when_the_broker_fails(
    monkeypatch, registry, ro_submitted, province_staff, django_capture_on_commit_callbacks
):
    def unreachable(**kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(recompute_adoption, "apply_async", unreachable)
    report = ro_submitted(Village.objects.filter(regency=registry.regency_a).first())

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.report_verify(report=report, actor=province_staff)

    assert len(callbacks) == 1
    assert RecomputeRequest.objects.get().pending is False
    report.refresh_from_db()
    assert report.status == ReportStatus.VERIFIED


def test_the_recompute_is_queued_as_the_registered_task(ro_sent):
    # The services name the task (they do not import the task module, which imports them).
    from celery import current_app

    assert current_app.tasks[services.RECOMPUTE_TASK] is recompute_adoption._get_current_object()


# --- the task -----------------------------------------------------------------------------------


def test_it_clears_the_pending_request_and_writes_snapshots_in_the_task(registry, ro_verified):
    ro_verified(Village.objects.filter(regency=registry.regency_a).first())
    RecomputeRequest.objects.create(pk=1, pending=True, requested_at=timezone.now(), schedules=1)

    written = recompute_adoption.apply().get()

    today = timezone.localdate()
    assert written == AdoptionSnapshot.objects.filter(date=today).count() == 6
    assert AdoptionSnapshot.objects.get(date=today, level=SnapshotLevel.REGENCY, code="18.01").adopted_units == 1
    request = RecomputeRequest.objects.get()
    assert request.pending is False
    assert request.last_finished_at is not None


def test_it_retries_the_task_on_database_outages():
    assert {OperationalError, InterfaceError} <= set(recompute_adoption.autoretry_for)
    assert recompute_adoption.max_retries > 0


# --- a first load of known statuses -------------------------------------------------------------


def test_the_status_import_records_a_verified_report_and_the_status_as_of_its_time(
    registry, ro_report_input, province_staff
):
    village = Village.objects.filter(regency=registry.regency_a).first()
    at = timezone.make_aware(datetime.datetime(2023, 6, 1, 10, 0))  # noqa: DTZ001 - made aware here

    (report,) = services.statuses_import(actor=province_staff, items=[(ro_report_input(village), at)])

    assert (report.status, report.is_correction, report.reviewed_by, report.submitted_at) == (
        ReportStatus.VERIFIED,
        True,
        province_staff,
        at,
    )
    status = VillageStatus.objects.get(village=village)
    assert (status.pillar1, status.pillar1_since, status.last_verified_on, status.last_report) == (
        PillarStatus.LIVE,
        datetime.date(2023, 6, 1),
        datetime.date(2023, 6, 1),
        report,
    )


def test_the_status_import_is_refused_for_a_village_that_has_a_status(
    registry, ro_report_input, ro_verified, province_staff
):
    village = Village.objects.filter(regency=registry.regency_a).first()
    ro_verified(village)
    reports = ProgressReport.objects.count()

    with pytest.raises(TransitionRefused):
        services.statuses_import(actor=province_staff, items=[(ro_report_input(village), timezone.now())])

    assert ProgressReport.objects.count() == reports
