"""Region versions (issue 14): Lampung 2019 -> 2025 through plan and apply keeps every unit's identity, its
grants, reports and events; old codes resolve; history is recorded; a wrong plan is refused whole."""

import csv
import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditAction, AuditEntry, Role
from grants import services as grant_services
from grants.models import Grant, GrantEvent
from rollout import services as rollout_services
from rollout.models import AdoptionSnapshot, PillarStatus, ProgressReport, Signal, SnapshotLevel, VillageStatus
from tests.factories import UserFactory
from villages import selectors
from villages.models import District, Province, Regency, RegionVersion, VersionCause, Village
from villages.region_plan import DATA_DIR, PLAN_COLUMNS
from villages.services import DEFAULT_REGIONS_FILE, RegionFileError, regions_load

pytestmark = pytest.mark.django_db

LAMPUNG_2019 = DATA_DIR / "lampung_regions_2019.csv"
DECREE_2025 = "Kepmendagri 300.2.2-2138/2025"
VALID_2025 = datetime.date(2025, 4, 25)
FIGURES = ("units", "desa", "kelurahan", "adopted_units", "adopted_desa", "pillar1_live", "awaiting_verification")


@pytest.fixture
def lampung_2019(province_admin, province_staff):
    """The 2019 list, Way Kanan's grants planned and approved, and a report on every village of Blambangan
    Umpu (18.08.01): verified for the first half, awaiting for the rest."""
    regions_load(path=LAMPUNG_2019)
    way_kanan = Regency.objects.get(code="18.08")
    allocation = grant_services.allocation_create(
        actor=province_admin, province=Province.objects.get(code="18"), fiscal_year=2024, legal_basis="Pergub uji"
    )
    grant_services.allocation_plan(allocation=allocation, actor=province_admin, regency=way_kanan)
    allocation = grant_services.allocation_activate(allocation=allocation, actor=province_admin)
    grant_services.grants_approve_batch(allocation=allocation, regency=way_kanan, actor=province_staff)
    officer = UserFactory(username="petugas.waykanan", role=Role.REGENCY_OFFICER, regency=way_kanan)
    umpu = list(Village.objects.filter(district__code="18.08.01").order_by("code"))
    for index, village in enumerate(umpu):
        report = rollout_services.report_submit(
            actor=officer,
            item=rollout_services.ReportInput(
                village=village,
                pillar1=PillarStatus.LIVE,
                pillar2=PillarStatus.IN_PROGRESS,
                pillar3=PillarStatus.NOT_STARTED,
                signal=Signal.G4,
                signal_sufficient=True,
            ),
        )
        if index % 2 == 0:
            rollout_services.report_verify(report=report, actor=province_staff)
    rollout_services.adoption_recompute()
    return umpu


def _figures(code: str) -> dict:
    snapshot = AdoptionSnapshot.objects.filter(level=SnapshotLevel.REGENCY, code=code).latest("date")
    return {name: getattr(snapshot, name) for name in FIGURES}


def _unit_trail(villages: list[Village]) -> dict[int, tuple]:
    """Per village key: its grants, its grants' events, its reports and its status."""
    return {
        village.pk: (
            sorted(Grant.objects.filter(village=village).values_list("pk", flat=True)),
            sorted(GrantEvent.objects.filter(grant__village=village).values_list("pk", flat=True)),
            sorted(ProgressReport.objects.filter(village=village).values_list("pk", flat=True)),
            VillageStatus.objects.filter(village=village).values_list("last_report", flat=True).first(),
        )
        for village in villages
    }


def _plan(tmp_path) -> tuple:
    plan_path = tmp_path / "plan.csv"
    out = io.StringIO()
    call_command("load_regions", str(DEFAULT_REGIONS_FILE), plan=str(plan_path), stdout=out)
    return plan_path, out.getvalue()


def _apply(plan_path) -> str:
    out = io.StringIO()
    call_command(
        "load_regions",
        str(DEFAULT_REGIONS_FILE),
        apply=str(plan_path),
        decree=DECREE_2025,
        valid_from=VALID_2025.isoformat(),
        stdout=out,
    )
    return out.getvalue()


def test_a_plain_load_that_would_move_codes_is_refused_and_says_to_plan_first(lampung_2019):
    codes = sorted(Village.objects.values_list("code", flat=True))

    with pytest.raises(RegionFileError, match="Plan first") as refused:
        regions_load(path=DEFAULT_REGIONS_FILE)

    assert "14 recode" in str(refused.value)
    assert sorted(Village.objects.values_list("code", flat=True)) == codes


def test_planning_writes_the_change_set_and_changes_nothing(lampung_2019, tmp_path):
    before = list(Village.objects.order_by("pk").values_list("pk", "code", "name"))

    plan_path, out = _plan(tmp_path)

    rows = list(csv.DictReader(plan_path.open(encoding="utf-8")))
    assert list(rows[0]) == list(PLAN_COLUMNS)
    changes = {(row["level"], row["change"]) for row in rows}
    assert ("village", "recode") in changes
    assert sum(row["change"] == "recode" for row in rows) == 14
    assert sum(row["change"] == "new" and row["level"] == "village" for row in rows) == 11
    assert "village" in out and "recode" in out  # the counts per change and level
    assert list(Village.objects.order_by("pk").values_list("pk", "code", "name")) == before
    assert not RegionVersion.objects.exclude(decree="Permendagri 72/2019").exists()


def test_lampung_2019_to_2025_keeps_every_moved_village_with_its_grants_reports_and_events(lampung_2019, tmp_path):
    way_kanan_before = _figures("18.08")
    units_before = Village.objects.filter(regency__code="18.08", is_active=True).count()
    trail_before = _unit_trail(lampung_2019)
    plan_path, _out = _plan(tmp_path)
    rows = list(csv.DictReader(plan_path.open(encoding="utf-8")))
    moved = {row["old_code"]: row["new_code"] for row in rows if row["new_code"].startswith("18.08.15.")}

    out = _apply(plan_path)

    assert "Applied" in out
    # The 13 villages now under Umpu Semenguk are the same units: same keys, grants, reports and events.
    assert len(moved) == 13
    semenguk = District.objects.get(code="18.08.15")
    now_there = {village.code: village for village in Village.objects.filter(district=semenguk)}
    assert set(now_there) == set(moved.values())
    for village in lampung_2019:
        if village.code in moved:
            assert now_there[moved[village.code]].pk == village.pk
            assert now_there[moved[village.code]].regency.code == "18.08"
    assert _unit_trail(lampung_2019) == trail_before
    assert all(grants and reports for grants, _events, reports, _status in trail_before.values())
    # Their old codes resolve to them.
    for old_code, new_code in moved.items():
        unit, current = selectors.unit_by_code(model=Village, code=old_code)
        assert (unit.code, current) == (new_code, False)
    # Way Kanan: the same units and the same adoption before and after.
    assert Village.objects.filter(regency__code="18.08", is_active=True).count() == units_before
    rollout_services.adoption_recompute()
    assert _figures("18.08") == way_kanan_before
    # Umpu Semenguk's own figures are its villages' (a split district inherits them).
    assert (
        _figures("18.08")["units"]
        >= AdoptionSnapshot.objects.get(
            level=SnapshotLevel.DISTRICT, code="18.08.15", date=AdoptionSnapshot.objects.latest("date").date
        ).units
    )


def test_the_new_villages_are_new_and_the_renames_took(lampung_2019, tmp_path):
    plan_path, _out = _plan(tmp_path)
    rows = list(csv.DictReader(plan_path.open(encoding="utf-8")))
    keys_before = set(Village.objects.values_list("pk", flat=True))

    _apply(plan_path)

    new_codes = {row["new_code"] for row in rows if row["change"] == "new" and row["level"] == "village"}
    created = Village.objects.filter(code__in=new_codes)
    assert created.count() == len(new_codes) == 11
    assert not set(created.values_list("pk", flat=True)) & keys_before
    assert not Grant.objects.filter(village__in=created).exists()
    renames = [row for row in rows if row["change"] == "rename" and row["level"] == "village"]
    assert renames
    for row in renames:
        assert Village.objects.get(code=row["new_code"]).name == row["new_name"]
    assert Province.objects.get(code="18").name == next(row["new_name"] for row in rows if row["level"] == "province")


def test_each_change_is_a_new_version_with_its_decree_and_is_audited(lampung_2019, tmp_path, province_admin):
    plan_path, _out = _plan(tmp_path)
    rows = list(csv.DictReader(plan_path.open(encoding="utf-8")))
    recode = next(row for row in rows if row["change"] == "recode")
    village = Village.objects.get(code=recode["old_code"])

    _apply(plan_path)

    versions = list(RegionVersion.objects.filter(village=village).order_by("valid_from"))
    assert [(v.code, v.decree, v.valid_from, v.valid_to, v.cause) for v in versions] == [
        (recode["old_code"], "Permendagri 72/2019", datetime.date(2019, 10, 8), VALID_2025, VersionCause.LISTED),
        (recode["new_code"], DECREE_2025, VALID_2025, None, VersionCause.RECODE),
    ]
    assert versions[0].parent_code == "18.08.01" and versions[1].parent_code == recode["new_code"][:8]
    entries = AuditEntry.objects.filter(action=AuditAction.REGION_CHANGED)
    assert entries.count() == len(rows)
    entry = entries.get(object_type="villages.village", object_id=str(village.pk))
    assert entry.changes["code"] == [recode["old_code"], recode["new_code"]]
    assert entry.changes["change"] == [None, "recode"]
    assert entry.changes["decree"] == [None, DECREE_2025]


def test_a_hand_edited_plan_with_a_wrong_row_is_refused_with_its_line_and_nothing_is_written(lampung_2019, tmp_path):
    plan_path, _out = _plan(tmp_path)
    lines = plan_path.read_text(encoding="utf-8").splitlines(keepends=True)
    wrong = next(number for number, line in enumerate(lines) if ",recode," in line)
    old_code = lines[wrong].split(",")[0]
    lines[wrong] = lines[wrong].replace(",recode,", ",rename,", 1)
    plan_path.write_text("".join(lines), encoding="utf-8")
    registry = list(Village.objects.order_by("pk").values_list("pk", "code", "name", "district_id", "is_active"))
    versions, audit = RegionVersion.objects.count(), AuditEntry.objects.count()

    with pytest.raises(CommandError, match=rf"line {wrong + 1}: rename keeps the code") as refused:
        _apply(plan_path)

    assert "nothing was written" in str(refused.value)
    assert old_code
    assert (
        list(Village.objects.order_by("pk").values_list("pk", "code", "name", "district_id", "is_active")) == registry
    )
    assert (RegionVersion.objects.count(), AuditEntry.objects.count()) == (versions, audit)


def test_a_plan_that_no_longer_fits_the_registry_is_refused(lampung_2019, tmp_path):
    plan_path, _out = _plan(tmp_path)
    _apply(plan_path)

    with pytest.raises(CommandError, match="line"):
        _apply(plan_path)  # the registry is the 2025 list now: the 2019 names and codes are not there


def test_the_first_load_records_the_bundled_lists_decree():
    regions_load(path=LAMPUNG_2019)

    village = Village.objects.order_by("code").first()
    version = RegionVersion.objects.get(village=village)
    assert (version.code, version.decree, version.valid_from, version.valid_to, version.cause) == (
        village.code,
        "Permendagri 72/2019",
        datetime.date(2019, 10, 8),
        None,
        VersionCause.LISTED,
    )
    assert RegionVersion.objects.count() == sum(
        model.objects.count() for model in (Province, Regency, District, Village)
    )


# --- old codes, history and former names after the 2025 list (API and pages) ------------------------------


@pytest.fixture
def lampung_2025(lampung_2019, tmp_path):
    """The 2019 registry with the 2025 list applied; the plan's rows."""
    plan_path, _out = _plan(tmp_path)
    _apply(plan_path)
    return list(csv.DictReader(plan_path.open(encoding="utf-8")))


def _moved_village(rows) -> dict:
    return next(row for row in rows if row["change"] == "recode" and row["new_code"].startswith("18.08.15."))


def test_the_api_answers_a_former_village_code_with_a_redirect_to_the_current_one(
    lampung_2025, api_client, province_staff
):
    row = _moved_village(lampung_2025)
    api_client.force_authenticate(province_staff)

    moved = api_client.get(f"/api/v1/villages/{row['old_code']}/")
    current = api_client.get(moved["Location"])

    assert moved.status_code == 301
    assert moved["Location"].endswith(f"/api/v1/villages/{row['new_code']}/")
    assert current.status_code == 200
    assert (current.json()["code"], current.json()["district"]) == (row["new_code"], "18.08.15")
    assert api_client.get("/api/v1/villages/18.08.01.2999/").status_code == 404


def test_the_history_lists_the_codes_names_and_parents_with_their_decrees(lampung_2025, api_client, province_staff):
    row = _moved_village(lampung_2025)
    api_client.force_authenticate(province_staff)

    moved = api_client.get(f"/api/v1/villages/{row['old_code']}/history/")
    history = api_client.get(f"/api/v1/villages/{row['new_code']}/history/").json()

    assert moved.status_code == 301 and moved["Location"].endswith(f"/{row['new_code']}/history/")
    assert [
        (v["code"], v["parent_code"], v["decree"], v["valid_from"], v["valid_to"], v["cause"]) for v in history
    ] == [
        (row["old_code"], "18.08.01", "Permendagri 72/2019", "2019-10-08", "2025-04-25", "listed"),
        (row["new_code"], "18.08.15", DECREE_2025, "2025-04-25", None, "recode"),
    ]
    assert not any(version["inherited"] for version in history)


def test_a_district_created_by_a_split_shows_its_villages_history_from_before_as_inherited(
    lampung_2025, api_client, province_staff, client
):
    api_client.force_authenticate(province_staff)

    history = api_client.get("/api/v1/districts/18.08.15/history/").json()

    own, inherited = history[0], history[1:]
    assert (own["code"], own["cause"], own["inherited"]) == ("18.08.15", "new", False)
    assert len(inherited) == 13
    assert all(v["inherited"] and v["parent_code"] == "18.08.01" and v["valid_to"] == "2025-04-25" for v in inherited)
    client.force_login(province_staff)
    page = client.get("/registry/districts/18.08.15/").content.decode()
    assert page.count("data-inherited") == 13  # the inherited badge
    assert inherited[0]["code"] in page


def test_the_pages_answer_a_former_code_with_the_units_page(lampung_2025, client, province_staff):
    row = _moved_village(lampung_2025)
    client.force_login(province_staff)

    response = client.get(f"/dashboard/villages/{row['old_code']}/")

    assert response.status_code == 301
    assert response["Location"] == f"/dashboard/villages/{row['new_code']}/"
    assert client.get(response["Location"]).status_code == 200


def test_a_former_code_outside_the_officers_regency_is_not_found(lampung_2025, client):
    row = _moved_village(lampung_2025)
    officer = UserFactory(
        username="petugas.lamsel", role=Role.REGENCY_OFFICER, regency=Regency.objects.get(code="18.01")
    )
    client.force_login(officer)

    assert client.get(f"/dashboard/villages/{row['old_code']}/").status_code == 404
    assert client.get(f"/api/v1/villages/{row['old_code']}/").status_code in (401, 403, 404)


def test_searching_by_a_former_name_finds_the_renamed_unit(lampung_2025, client, api_client, province_staff):
    row = next(
        r
        for r in lampung_2025
        if r["change"] == "rename" and r["level"] == "village" and r["old_name"].lower() not in r["new_name"].lower()
    )
    client.force_login(province_staff)
    api_client.force_authenticate(province_staff)

    page = client.get("/registry/", {"q": row["old_name"]}).content.decode()
    found = api_client.get("/api/v1/villages/", {"name": row["old_name"]}).json()

    assert row["new_code"] in page
    assert row["new_code"] in [village["code"] for village in found["results"]]


def test_the_schema_documents_the_redirect_of_a_former_code(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    for path in ("/api/v1/villages/{code}/", "/api/v1/villages/{code}/history/", "/api/v1/districts/{code}/"):
        responses = schema["paths"][path]["get"]["responses"]
        assert "301" in responses and "former code" in responses["301"]["description"]


# --- history stays comparable ----------------------------------------------------------------------------


def test_applying_a_list_rewrites_no_adoption_snapshot(lampung_2019, tmp_path):
    before = list(AdoptionSnapshot.objects.order_by("pk").values())
    plan_path, _out = _plan(tmp_path)

    _apply(plan_path)

    assert list(AdoptionSnapshot.objects.order_by("pk").values()) == before
    assert {"18.08.01"} <= set(
        AdoptionSnapshot.objects.filter(level=SnapshotLevel.DISTRICT).values_list("code", flat=True)
    )


def _snapshot(code: str, parent: str, date: datetime.date, adopted: int) -> AdoptionSnapshot:
    figures = dict.fromkeys(
        ("kelurahan", "pillar2_live", "pillar3_live", "blocked_no_signal", "awaiting_verification"), 0
    )
    return AdoptionSnapshot.objects.create(
        date=date,
        level=SnapshotLevel.DISTRICT,
        code=code,
        name="Natar",
        parent_code=parent,
        units=4,
        desa=4,
        adopted_units=adopted,
        adopted_desa=adopted,
        pillar1_live=adopted,
        stale_units=0,
        definition_version=1,
        computed_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC),
        **figures,
    )


def test_a_renumbered_units_trend_continues_under_its_new_code(registry, province_staff):
    from rollout.selectors import snapshot_histories

    district = registry.district_a2  # 18.01.02, renumbered 18.01.09 by a list valid from 1 March 2025
    changed = datetime.date(2025, 3, 1)
    RegionVersion.objects.create(
        level="district",
        district=district,
        code="18.01.02",
        name=district.name,
        parent_code="18.01",
        decree="Lama",
        valid_from=datetime.date(2019, 10, 8),
        valid_to=changed,
        cause=VersionCause.LISTED,
    )
    RegionVersion.objects.create(
        level="district",
        district=district,
        code="18.01.09",
        name=district.name,
        parent_code="18.01",
        decree="Baru",
        valid_from=changed,
        cause=VersionCause.RECODE,
    )
    District.objects.filter(pk=district.pk).update(code="18.01.09")
    _snapshot("18.01.02", "18.01", datetime.date(2025, 1, 31), 1)
    _snapshot("18.01.02", "18.01", datetime.date(2025, 2, 28), 2)
    _snapshot("18.01.09", "18.01", datetime.date(2025, 3, 31), 3)

    histories = snapshot_histories(user=province_staff, level=SnapshotLevel.DISTRICT, parent="18.01")

    assert [(row.date.month, row.adopted_units) for row in histories["18.01.09"]] == [(1, 1), (2, 2), (3, 3)]
    assert "18.01.02" not in histories
