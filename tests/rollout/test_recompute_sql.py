"""On PostgreSQL `adoption_recompute` writes every level with one INSERT ... GROUP BY ROLLUP; SQLite (the
embedded mode) writes them level by level. Both must write the same rows: these tests run both ways on
PostgreSQL over the same villages, in every situation the figures tell apart, and compare every column.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rollout import services
from rollout.models import AdoptionSnapshot, Blocker, PillarStatus, ProgressReport, ReportStatus, VillageStatus
from tests.factories import DistrictFactory, ProvinceFactory, RegencyFactory, UserFactory, VillageFactory
from villages.models import Village, VillageKind

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

LIVE, STARTED, NOT_STARTED = PillarStatus.LIVE, PillarStatus.IN_PROGRESS, PillarStatus.NOT_STARTED
# ro_clock's today is 2024-05-15: 90 days before it (stale limit) is 2024-02-15.
TODAY = datetime.date(2024, 5, 15)
DATES = {
    "today": None,
    "a past date, on a village's pillar 1 date": datetime.date(2024, 3, 31),
    "a past date before most reports": datetime.date(2024, 1, 31),
    "a later date": datetime.date(2024, 6, 30),
}


def status(village: Village, *, pillar1: str, since: str | None, verified: str | None, **fields) -> None:
    """A status as the services would have left it, on dates the test chooses."""
    VillageStatus.objects.create(
        village=village,
        pillar1=pillar1,
        pillar1_since=since and datetime.date.fromisoformat(since),
        pillar2_since=since and datetime.date.fromisoformat(since),
        pillar3_since=since and datetime.date.fromisoformat(since),
        last_verified_on=verified and datetime.date.fromisoformat(verified),
        **fields,
    )


@pytest.fixture
def edge_cases(registry, ro_clock):
    """Registry villages in every situation the figures distinguish, and a second province."""
    officer = UserFactory(username="petugas.uji")
    staff = UserFactory(username="staf.uji")

    def report(village: Village, state: str = ReportStatus.AWAITING) -> None:
        decided = {} if state == ReportStatus.AWAITING else {"reviewed_by": staff, "reviewed_at": ro_clock()}
        reason = "Bukti kurang." if state == ReportStatus.REJECTED else ""
        ProgressReport.objects.create(
            village=village,
            submitted_by=officer,
            submitted_at=ro_clock(),
            captured_at=ro_clock(),
            status=state,
            rejection_reason=reason,
            **decided,
        )

    a1 = list(Village.objects.filter(district=registry.district_a1).order_by("code"))  # 3 desa, 1 kelurahan
    a2 = list(Village.objects.filter(district=registry.district_a2).order_by("code"))  # 2 desa
    b1 = list(Village.objects.filter(district=registry.district_b1).order_by("code"))  # 2 kelurahan (a kota)
    d0, d1, d2, k = a1
    status(d0, pillar1=LIVE, since="2024-01-10", verified="2024-01-10", pillar2=LIVE, pillar3=LIVE)  # stale today
    status(d1, pillar1=STARTED, since="2024-04-20", verified="2024-05-01", blocker=Blocker.NO_SIGNAL)
    report(d2)  # no status at all: stale, never verified; two reports awaiting
    report(d2)
    status(k, pillar1=LIVE, since="2024-04-01", verified="2024-04-01", pillar2=STARTED)  # live after 31 March
    report(k)
    report(k, ReportStatus.REJECTED)
    report(k, ReportStatus.VERIFIED)
    status(a2[0], pillar1=LIVE, since="2024-03-31", verified="2024-02-15")  # live on 31 March; at the stale limit
    status(a2[1], pillar1=LIVE, since="2024-01-01", verified="2024-05-10", pillar3=LIVE)
    report(a2[1])
    Village.objects.filter(pk=a2[1].pk).update(is_active=False)  # dropped from the list: counted nowhere
    # Live and (wrongly) still marked blocked: live wins, not counted as blocked. A day past the stale limit.
    status(b1[0], pillar1=LIVE, since="2024-03-31", verified="2024-02-14", blocker=Blocker.NO_SIGNAL)
    status(b1[1], pillar1=NOT_STARTED, since=None, verified=TODAY.isoformat(), blocker=Blocker.NO_DEVICES)

    province = ProvinceFactory(code="19", name="Kepulauan Bangka Belitung")
    regency = RegencyFactory(province=province, code="19.01", name="Kabupaten Bangka")
    district = DistrictFactory(regency=regency, code="19.01.01", name="Sungailiat")
    adat = VillageFactory(district=district, kind=VillageKind.DESA_ADAT)
    status(adat, pillar1=LIVE, since="2023-12-01", verified="2023-12-01", pillar2=LIVE)
    VillageFactory(district=district)  # no status
    gone = VillageFactory(district=DistrictFactory(regency=regency, code="19.01.02", name="Pemali"))
    Village.objects.filter(pk=gone.pk).update(is_active=False)  # its district has no active village: no row


def snapshot_rows() -> list[dict]:
    return [
        {name: value for name, value in row.items() if name != "id"}
        for row in AdoptionSnapshot.objects.order_by("date", "level", "code").values()
    ]


def recompute(on_date: datetime.date | None) -> tuple[int, list[dict], list[str]]:
    with CaptureQueriesContext(connection) as queries:
        written = services.adoption_recompute(on_date=on_date)
    return written, snapshot_rows(), [query["sql"] for query in queries]


def levels_instead_of_rollup(monkeypatch) -> None:
    """The SQLite way of writing, run here on PostgreSQL."""
    monkeypatch.setattr(services, "_snapshots_write_rollup", services._snapshots_write_levels)


@pytest.mark.parametrize("on_date", DATES.values(), ids=DATES.keys())
def test_the_rollup_writes_the_same_rows_as_the_level_by_level_way(edge_cases, monkeypatch, on_date):
    written, rollup_rows, rollup_sql = recompute(on_date)
    AdoptionSnapshot.objects.all().delete()
    levels_instead_of_rollup(monkeypatch)
    levels_written, levels_rows, levels_sql = recompute(on_date)

    assert any("GROUP BY ROLLUP" in sql for sql in rollup_sql)
    assert not any("GROUP BY ROLLUP" in sql for sql in levels_sql)
    assert rollup_rows == levels_rows
    assert written == levels_written == len(rollup_rows) == 2 + 3 + 4  # provinces, regencies, districts (not 19.01.02)
    # Not vacuous: the edge cases reach the figures compared.
    province = next(row for row in rollup_rows if row["code"] == "18")
    assert province["awaiting_verification"] == 3
    assert 0 < province["stale_units"] < province["units"] == 7
    assert province["latest_verified_on"] is not None


def test_the_past_date_figures_differ_from_todays_and_still_agree(edge_cases, monkeypatch):
    _written, today_rows, _sql = recompute(None)
    _written, past_rows, _sql = recompute(DATES["a past date, on a village's pillar 1 date"])
    levels_instead_of_rollup(monkeypatch)
    AdoptionSnapshot.objects.all().delete()
    recompute(None)
    recompute(DATES["a past date, on a village's pillar 1 date"])

    assert snapshot_rows() == past_rows  # both dates, sorted by date first
    today = {(row["level"], row["code"]): row for row in today_rows if row["date"] == TODAY}
    past = {(row["level"], row["code"]): row for row in past_rows if row["date"] != TODAY}
    province_today, province_past = today[("province", "18")], past[("province", "18")]
    assert (province_today["adopted_units"], province_past["adopted_units"]) == (4, 3)  # k went live on 1 April
    assert province_today["latest_verified_on"] == TODAY
    assert province_past["latest_verified_on"] == datetime.date(2024, 2, 15)  # later verifications not yet made


def test_a_second_run_updates_the_rows_as_the_level_by_level_way_writes_them(edge_cases, monkeypatch, ro_clock):
    recompute(None)
    ro_clock.set(ro_clock.moment + datetime.timedelta(hours=2))
    VillageStatus.objects.filter(pillar1=STARTED).update(pillar1=LIVE, pillar1_since=TODAY, last_verified_on=TODAY)
    # The awaiting reports are decided (reports are never deleted): none awaits any more.
    ProgressReport.objects.filter(status=ReportStatus.AWAITING).update(
        status=ReportStatus.REJECTED,
        reviewed_by=UserFactory(username="staf.kedua"),
        reviewed_at=ro_clock(),
        rejection_reason="Kedaluwarsa.",
    )
    written, updated, _sql = recompute(None)
    AdoptionSnapshot.objects.all().delete()
    levels_instead_of_rollup(monkeypatch)

    assert recompute(None)[1] == updated
    assert written == len(updated) == 9
    assert {row["computed_at"] for row in updated} == {ro_clock.moment}


def test_it_writes_every_level_with_one_statement(edge_cases):
    written, _rows, sql = recompute(None)

    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
    lock, write, finish = (statement for statement in sql if statement.split(None, 1)[0] not in control)
    assert "pg_advisory_xact_lock" in lock
    assert "INSERT INTO rollout_adoptionsnapshot" in write
    assert "GROUP BY ROLLUP" in write
    assert finish.startswith('UPDATE "rollout_recomputerequest"')
    assert written == 9
