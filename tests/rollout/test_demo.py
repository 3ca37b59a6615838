import datetime
import io
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from rollout.models import (
    AdoptionSnapshot,
    Blocker,
    DemoDataset,
    PillarStatus,
    ProgrammeTarget,
    ProgressReport,
    SnapshotLevel,
    VillageStatus,
)
from villages.models import Village, VillageKind
from villages.services import regions_load

pytestmark = pytest.mark.django_db

END_OF_2023 = datetime.date(2023, 12, 31)
NOT_LIVE_REGENCIES = {"18.13", "18.06", "18.03"}


@pytest.fixture(scope="module")
def ro_demo(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The whole Lampung registry seeded once for the module (seconds of work), rolled back after it.

    Each test runs in its own savepoint inside this transaction, so none sees another's changes.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(DEBUG=True):
            regions_load()
            call_command("seed_demo", stdout=io.StringIO())
        yield
        transaction.set_rollback(True)


def active_desa():
    return Village.objects.filter(is_active=True, regency__province__code="18").exclude(kind=VillageKind.KELURAHAN)


def rollout_state() -> dict[str, list]:
    """Every rollout row the demo writes, as plain values."""
    return {
        "reports": list(ProgressReport.objects.order_by("pk").values()),
        "statuses": list(VillageStatus.objects.order_by("pk").values()),
        "snapshots": list(AdoptionSnapshot.objects.order_by("pk").values()),
        "targets": list(ProgrammeTarget.objects.order_by("pk").values()),
        "demo": list(DemoDataset.objects.order_by("pk").values()),
    }


def test_it_seeds_the_end_of_2023_position_of_all_but_61_desa(ro_demo):
    province = AdoptionSnapshot.objects.get(date=END_OF_2023, level=SnapshotLevel.PROVINCE, code="18")

    desa = active_desa().count()
    live_by_then = active_desa().filter(rollout__pillar1=PillarStatus.LIVE, rollout__pillar1_since__lte=END_OF_2023)
    assert (province.desa, province.adopted_desa) == (desa, desa - 61)
    assert province.adopted_desa == live_by_then.count()


def test_it_leaves_the_61_desa_blocked_by_no_signal_in_three_regencies(ro_demo):
    not_adopted = active_desa().exclude(rollout__pillar1=PillarStatus.LIVE)

    assert not_adopted.count() == 61
    assert set(not_adopted.values_list("regency__code", flat=True)) == NOT_LIVE_REGENCIES
    assert set(not_adopted.values_list("rollout__blocker", flat=True)) == {Blocker.NO_SIGNAL}


def test_it_adopts_every_kelurahan(ro_demo):
    kelurahan = Village.objects.filter(is_active=True, kind=VillageKind.KELURAHAN)

    assert kelurahan.exists()
    assert kelurahan.filter(rollout__pillar1=PillarStatus.LIVE).count() == kelurahan.count()


def test_it_climbs_month_by_month_through_2023(ro_demo):
    monthly = list(
        AdoptionSnapshot.objects.filter(level=SnapshotLevel.PROVINCE, date__year=2023)
        .order_by("date")
        .values_list("date", "adopted_desa", "adopted_units")
    )

    adopted_desa = [desa for _day, desa, _units in monthly]
    adopted_units = [units for _day, _desa, units in monthly]

    assert [day.month for day, _desa, _units in monthly] == list(range(1, 13))
    assert adopted_desa == sorted(adopted_desa)
    assert adopted_units == sorted(adopted_units)
    assert adopted_desa[0] < adopted_desa[-1]


def test_it_ends_the_snapshots_on_the_last_day_of_2023(ro_demo):
    assert AdoptionSnapshot.objects.latest("date").date == END_OF_2023


def test_it_changes_nothing_when_seeded_again(ro_demo, settings):
    settings.DEBUG = True
    before = rollout_state()

    call_command("seed_demo", stdout=io.StringIO())

    assert rollout_state() == before
