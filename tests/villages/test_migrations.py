"""The migrations giving region units a surrogate key (issue 14) carry a populated database over: every
reference still names the same unit, on PostgreSQL and SQLite, and they run backwards too."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.models import User
from grants.models import Allocation, Grant, GrantEvent
from rollout.models import ProgressReport, VillageStatus
from villages.models import District, Regency, Village

BEFORE = [
    ("villages", "0002_regency_kind_code_rule"),
    ("accounts", "0006_auditentry_refuses_truncate"),
    ("grants", "0004_disbursement_reference_key"),
    ("rollout", "0005_nightly_recompute_once_per_day"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.fixture
def old_apps(transactional_db):
    executor = _migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def _populate(apps):
    """A registry inserted out of code order (so keys numbered in code order differ from insertion order),
    with an officer, grants, a grant event, reports and a status on it."""
    Province, Regency, District, Village = (
        apps.get_model("villages", name) for name in ("Province", "Regency", "District", "Village")
    )
    User = apps.get_model("accounts", "User")
    Allocation, Grant, GrantEvent = (apps.get_model("grants", name) for name in ("Allocation", "Grant", "GrantEvent"))
    ProgressReport, VillageStatus = (apps.get_model("rollout", name) for name in ("ProgressReport", "VillageStatus"))

    lampung = Province.objects.create(code="18", name="Lampung")
    Province.objects.create(code="11", name="Aceh")
    kota = Regency.objects.create(code="18.71", name="Kota Bandar Lampung", kind="kota", province=lampung)
    way_kanan = Regency.objects.create(code="18.08", name="Kabupaten Way Kanan", kind="kabupaten", province=lampung)
    tanjung_karang = District.objects.create(code="18.71.01", name="Tanjung Karang Barat", regency=kota)
    umpu = District.objects.create(code="18.08.01", name="Blambangan Umpu", regency=way_kanan)
    villages = {
        code: Village.objects.create(code=code, name=name, kind=kind, district=district, regency=district.regency)
        for code, name, kind, district in (
            ("18.71.01.1001", "Gedong Air", "kelurahan", tanjung_karang),
            ("18.08.01.2002", "Tanjung Raja Giham", "desa", umpu),
            ("18.08.01.2001", "Gistang", "desa", umpu),
        )
    }
    officer = User.objects.create(username="petugas.waykanan", role="regency_officer", regency=way_kanan)
    staff = User.objects.create(username="staf", role="province_staff")
    allocation = Allocation.objects.create(
        province=lampung, fiscal_year=2024, legal_basis="Pergub", total_amount=18_000_000, unit_amount=6_000_000
    )
    for code in villages:
        grant = Grant.objects.create(allocation=allocation, village=villages[code], amount=6_000_000)
        GrantEvent.objects.create(grant=grant, action="plan", to_status="planned", actor=staff)
    now = timezone.now()
    verified = ProgressReport.objects.create(
        village=villages["18.08.01.2001"],
        submitted_by=officer,
        submitted_at=now - datetime.timedelta(days=1),
        pillar1="live",
        status="verified",
        reviewed_by=staff,
        reviewed_at=now,
    )
    ProgressReport.objects.create(village=villages["18.08.01.2002"], submitted_by=officer, submitted_at=now)
    VillageStatus.objects.create(village=villages["18.08.01.2001"], pillar1="live", last_report=verified)


def test_every_reference_names_the_same_unit_after_the_migration(old_apps):
    _populate(old_apps)

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    assert list(Village.objects.order_by("id").values_list("code", flat=True)) == [
        "18.08.01.2001",
        "18.08.01.2002",
        "18.71.01.1001",
    ]
    villages = Village.objects.select_related("district", "regency")
    assert {v.code: (v.district.code, v.regency.code) for v in villages} == {
        "18.08.01.2001": ("18.08.01", "18.08"),
        "18.08.01.2002": ("18.08.01", "18.08"),
        "18.71.01.1001": ("18.71.01", "18.71"),
    }
    assert dict(District.objects.values_list("code", "regency__code")) == {"18.08.01": "18.08", "18.71.01": "18.71"}
    assert dict(Regency.objects.values_list("code", "province__code")) == {"18.08": "18", "18.71": "18"}
    assert User.objects.get(username="petugas.waykanan").regency.code == "18.08"
    assert User.objects.get(username="staf").regency is None
    assert Allocation.objects.get().province.code == "18"
    assert sorted(Grant.objects.values_list("village__code", "village__name")) == [
        ("18.08.01.2001", "Gistang"),
        ("18.08.01.2002", "Tanjung Raja Giham"),
        ("18.71.01.1001", "Gedong Air"),
    ]
    assert sorted(GrantEvent.objects.values_list("grant__village__code", flat=True)) == [
        "18.08.01.2001",
        "18.08.01.2002",
        "18.71.01.1001",
    ]
    assert sorted(ProgressReport.objects.values_list("village__code", "status")) == [
        ("18.08.01.2001", "verified"),
        ("18.08.01.2002", "awaiting"),
    ]
    status = VillageStatus.objects.select_related("village", "last_report").get()
    assert (status.village.code, status.last_report.village_id) == ("18.08.01.2001", status.village.pk)


def test_new_units_get_keys_after_the_migrated_ones(old_apps):
    _populate(old_apps)

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    district = District.objects.get(code="18.08.01")
    village = Village.objects.create(
        code="18.08.01.2003", name="Baru", kind="desa", district=district, regency=district.regency
    )
    assert village.pk > max(Village.objects.exclude(pk=village.pk).values_list("pk", flat=True))
    with pytest.raises(IntegrityError), transaction.atomic():
        Village.objects.create(code="18.08.01.2003", name="Dua kali", kind="desa", district=district, regency_id=1)


@pytest.mark.postgres
def test_the_reports_stay_append_only_after_the_migration(old_apps):
    _populate(old_apps)

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    other = Village.objects.get(code="18.08.01.2002")
    with pytest.raises(Exception, match="UPDATE refused"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE rollout_progressreport SET village_id = %s WHERE status = 'verified'", [other.pk])
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM rollout_progressreport")


def test_the_migration_runs_backwards_to_the_codes(old_apps):
    _populate(old_apps)
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    _migrate(BEFORE)

    with connection.cursor() as cursor:
        cursor.execute("SELECT village_id FROM grants_grant ORDER BY village_id")
        assert [row[0] for row in cursor.fetchall()] == ["18.08.01.2001", "18.08.01.2002", "18.71.01.1001"]
        cursor.execute("SELECT village_id, status FROM rollout_progressreport ORDER BY village_id")
        assert cursor.fetchall() == [("18.08.01.2001", "verified"), ("18.08.01.2002", "awaiting")]
        cursor.execute("SELECT regency_id FROM accounts_user WHERE username = 'petugas.waykanan'")
        assert cursor.fetchone() == ("18.08",)
        cursor.execute("SELECT code, district_id, regency_id FROM villages_village ORDER BY code")
        assert cursor.fetchall() == [
            ("18.08.01.2001", "18.08.01", "18.08"),
            ("18.08.01.2002", "18.08.01", "18.08"),
            ("18.71.01.1001", "18.71.01", "18.71"),
        ]
