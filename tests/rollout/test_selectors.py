import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rollout import selectors, services
from rollout.models import AdoptionSnapshot, PillarStatus, SnapshotLevel, VillageStatus
from rollout.selectors import Forecast, forecast_completion
from villages.models import Village, VillageKind

pytestmark = pytest.mark.django_db

START = datetime.date(2024, 1, 1)


def series(*percentages: float, every: int = 20) -> list[tuple[datetime.date, float]]:
    """One point every `every` days from START."""
    return [(START + datetime.timedelta(days=every * i), pct) for i, pct in enumerate(percentages)]


# --- forecast_completion ------------------------------------------------------------------------


def test_it_extends_a_rising_line_to_the_date_it_reaches_the_target():
    points = series(50, 60, 70)  # 10 points every 20 days: 0.5 a day, last point 2024-02-10

    forecast = forecast_completion(points=list(reversed(points)))

    # 30 points still to go at 0.5 a day: 60 days after 2024-02-10.
    assert forecast == Forecast("on_track", date=datetime.date(2024, 4, 10), slope_per_month=15.0)


def test_it_gives_no_date_for_a_flat_trend():
    assert forecast_completion(points=series(60, 60, 60, 60)) == Forecast("not_on_track", slope_per_month=0.0)


def test_it_gives_no_date_for_a_falling_trend():
    forecast = forecast_completion(points=series(70, 60, 50))

    assert (forecast.status, forecast.date) == ("not_on_track", None)
    assert forecast.slope_per_month < 0


def test_it_reports_the_first_date_at_the_target_once_reached():
    points = series(80, 100, 100, 100)

    assert forecast_completion(points=points) == Forecast("reached", date=points[1][0])


def test_it_has_no_data_without_points():
    assert forecast_completion(points=[]) == Forecast("no_data")


def test_it_gives_no_date_from_a_single_point_below_the_target():
    assert forecast_completion(points=series(40)) == Forecast("not_on_track")


# --- paid_not_live ------------------------------------------------------------------------------


def desa_of(district) -> list[Village]:
    return list(Village.objects.filter(district=district, kind=VillageKind.DESA).order_by("code"))


def listed(user) -> list[str]:
    return list(selectors.paid_not_live(user=user).values_list("village__code", flat=True))


def test_it_lists_a_disbursed_grant_of_a_village_not_adopted(registry, ro_grant, ro_verified, province_staff):
    village = desa_of(registry.district_a1)[0]
    ro_verified(village, pillar1=PillarStatus.IN_PROGRESS)
    ro_grant("disbursed", village)

    assert listed(province_staff) == [village.code]


def test_it_does_not_list_a_disbursed_grant_of_an_adopted_village(registry, ro_grant, ro_verified, province_staff):
    village = desa_of(registry.district_a1)[0]
    ro_verified(village, pillar1=PillarStatus.LIVE)
    ro_grant("disbursed", village)

    assert listed(province_staff) == []


@pytest.mark.parametrize("state", ["planned", "approved"])
def test_it_does_not_list_a_grant_not_yet_paid(registry, ro_grant, ro_verified, province_staff, state):
    village = desa_of(registry.district_a1)[0]
    ro_verified(village, pillar1=PillarStatus.IN_PROGRESS)
    ro_grant(state, village)

    assert listed(province_staff) == []


def test_it_does_not_list_a_grant_returned_in_full(registry, ro_grant, ro_verified, province_staff):
    village = desa_of(registry.district_a1)[0]
    ro_verified(village, pillar1=PillarStatus.IN_PROGRESS)
    ro_grant("returned", village)

    assert listed(province_staff) == []


def test_it_lists_a_disbursed_grant_of_a_village_that_never_reported(registry, ro_grant, province_staff):
    village = desa_of(registry.district_a1)[0]
    ro_grant("disbursed", village)

    assert not VillageStatus.objects.filter(village=village).exists()
    assert listed(province_staff) == [village.code]


def test_it_shows_a_regency_officer_only_the_own_regencys_paid_not_live_grants(
    registry, ro_grant, officer_a, officer_b, province_staff
):
    village_a = desa_of(registry.district_a1)[0]
    village_b = Village.objects.filter(district=registry.district_b1).order_by("code").first()
    ro_grant("disbursed", village_a)
    ro_grant("disbursed", village_b)

    assert listed(officer_a) == [village_a.code]
    assert listed(officer_b) == [village_b.code]
    assert listed(province_staff) == [village_a.code, village_b.code]


# --- snapshots ----------------------------------------------------------------------------------


def codes(rows: list[AdoptionSnapshot]) -> list[str]:
    return [row.code for row in rows]


@pytest.fixture
def ro_snapshots(registry) -> None:
    services.adoption_recompute(on_date=datetime.date(2024, 1, 31))
    services.adoption_recompute(on_date=datetime.date(2024, 2, 29))


def test_it_shows_an_officer_the_latest_rows_of_the_own_regency_and_its_districts(ro_snapshots, officer_a):
    regencies = selectors.latest_snapshots(user=officer_a, level=SnapshotLevel.REGENCY)
    districts = selectors.latest_snapshots(user=officer_a, level=SnapshotLevel.DISTRICT)

    assert codes(regencies) == ["18.01"]
    assert codes(districts) == ["18.01.01", "18.01.02"]
    assert {row.date for row in regencies + districts} == {datetime.date(2024, 2, 29)}


def test_it_hides_the_province_row_from_an_officer(ro_snapshots, officer_a):
    assert selectors.latest_snapshots(user=officer_a, level=SnapshotLevel.PROVINCE) == []
    assert selectors.snapshot_history(user=officer_a, code="18") == []


def test_it_hides_another_regency_from_an_officer(ro_snapshots, officer_a):
    assert selectors.latest_snapshots(user=officer_a, level=SnapshotLevel.DISTRICT, parent="18.71") == []
    assert selectors.snapshot_history(user=officer_a, code="18.71") == []
    assert selectors.snapshot_history(user=officer_a, code="18.71.01") == []


def test_it_gives_an_officer_the_history_of_the_own_regency(ro_snapshots, officer_a):
    history = selectors.snapshot_history(user=officer_a, code="18.01")

    assert [row.date for row in history] == [datetime.date(2024, 1, 31), datetime.date(2024, 2, 29)]


@pytest.mark.parametrize("role", ["province_staff", "province_admin", "auditor"])
def test_it_shows_province_wide_roles_every_unit(request, ro_snapshots, role):
    user = request.getfixturevalue(role)

    assert codes(selectors.latest_snapshots(user=user, level=SnapshotLevel.PROVINCE)) == ["18"]
    assert codes(selectors.latest_snapshots(user=user, level=SnapshotLevel.REGENCY)) == ["18.01", "18.71"]
    assert codes(selectors.latest_snapshots(user=user, level=SnapshotLevel.DISTRICT)) == [
        "18.01.01",
        "18.01.02",
        "18.71.01",
    ]
    assert len(selectors.snapshot_history(user=user, code="18.71")) == 2


def test_it_shows_an_anonymous_user_no_snapshot(ro_snapshots):
    anonymous = AnonymousUser()

    for level in SnapshotLevel.values:
        assert selectors.latest_snapshots(user=anonymous, level=level) == []
    assert selectors.snapshot_history(user=anonymous, code="18") == []
    assert selectors.forecasts(user=anonymous, level=SnapshotLevel.PROVINCE) == {}


def count_queries(read) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        result = read()
    return len(queries.captured_queries), result


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(
            lambda user: selectors.latest_snapshots(user=user, level=SnapshotLevel.DISTRICT), id="latest_snapshots"
        ),
        pytest.param(lambda user: selectors.forecasts(user=user, level=SnapshotLevel.DISTRICT), id="forecasts"),
    ],
)
def test_it_reads_snapshots_in_a_constant_number_of_queries(registry, province_staff, ro_verified, read):
    ro_verified(desa_of(registry.district_a1)[0])
    services.adoption_recompute(on_date=datetime.date(2024, 1, 31))
    few, _result = count_queries(lambda: read(province_staff))

    for month in range(2, 13):
        services.adoption_recompute(on_date=datetime.date(2024, month, 28))
    services.adoption_recompute()
    many, result = count_queries(lambda: read(province_staff))

    assert AdoptionSnapshot.objects.filter(level=SnapshotLevel.DISTRICT).count() == 3 * 13
    assert len(result) == 3
    assert many == few


# --- forecasts over stored snapshots ------------------------------------------------------------


def stored(day: datetime.date, adopted_desa: int, *, desa: int = 100) -> AdoptionSnapshot:
    return AdoptionSnapshot.objects.create(
        date=day,
        level=SnapshotLevel.PROVINCE,
        code="18",
        name="Lampung",
        units=desa,
        desa=desa,
        kelurahan=0,
        adopted_units=adopted_desa,
        adopted_desa=adopted_desa,
        pillar1_live=adopted_desa,
        pillar2_live=0,
        pillar3_live=0,
        blocked_no_signal=0,
        awaiting_verification=0,
        stale_units=0,
        definition_version=services.ADOPTION_DEFINITION_VERSION,
        computed_at=timezone.now(),
    )


def test_it_forecasts_each_unit_from_its_desa_share(province_staff):
    for i, adopted_desa in enumerate((50, 60, 70)):
        stored(START + datetime.timedelta(days=20 * i), adopted_desa)

    assert selectors.forecasts(user=province_staff, level=SnapshotLevel.PROVINCE) == {
        "18": Forecast("on_track", date=datetime.date(2024, 4, 10), slope_per_month=15.0)
    }


def test_it_forecasts_from_the_monthly_trend_when_snapshots_are_daily(province_staff):
    for month in range(1, 7):  # 10 points a month, January to June
        stored(datetime.date(2024, month, 28), 10 * month)
    for day in range(1, 7):  # then a quiet first week of July, one snapshot a night
        stored(datetime.date(2024, 7, day), 60)

    forecast = selectors.forecasts(user=province_staff, level=SnapshotLevel.PROVINCE)["18"]

    assert forecast.status == "on_track"
