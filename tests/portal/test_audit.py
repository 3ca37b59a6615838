"""The audit trail: account, allocation, grant and report changes, by whom and when, for auditors; never editable."""

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, AuditEntry, Role
from accounts.services import audit_record
from grants import services as grant_services
from portal import selectors
from rollout import services as rollout_services
from rollout.models import PillarStatus, Signal
from smartvillage.errors import ApplicationError
from tests.accounts.spellings import case_collisions
from tests.factories import UserFactory
from villages.models import Province, Regency, Village

pytestmark = pytest.mark.django_db


@pytest.fixture
def allocation(registry, province_admin):
    allocation = grant_services.allocation_create(
        actor=province_admin,
        province=Province.objects.get(code="18"),
        fiscal_year=2024,
        legal_basis="Pergub Lampung hibah desa cerdas 2024",
    )
    return grant_services.allocation_activate(allocation=allocation, actor=province_admin)


@pytest.fixture
def ro_input():
    def make(village: Village) -> rollout_services.ReportInput:
        return rollout_services.ReportInput(
            village=village,
            pillar1=PillarStatus.LIVE,
            pillar2=PillarStatus.IN_PROGRESS,
            pillar3=PillarStatus.NOT_STARTED,
            signal=Signal.G4,
            signal_sufficient=True,
        )

    return make


@pytest.fixture
def history(allocation, province_admin, province_staff, officer_a, ro_input):
    """One of each: an allocation edit, a grant paid, a report submitted and verified, one rejected."""
    grant_services.allocation_update(allocation=allocation, actor=province_admin, legal_basis="Pergub No. 12/2024")
    villages = list(Village.objects.filter(regency=officer_a.regency).order_by("code")[:2])
    grant = grant_services.grant_plan(allocation=allocation, village=villages[0], actor=province_staff)
    grant = grant_services.grant_approve(grant=grant, actor=province_staff)
    grant_services.grant_disburse(
        grant=grant,
        actor=province_staff,
        reference="SP2D-0001",
        # The latest date it accepts.
        transfer_date=grant_services.transfer_window(fiscal_year=allocation.fiscal_year)[1],
    )
    report = rollout_services.report_submit(actor=officer_a, item=ro_input(villages[0]))
    rollout_services.report_verify(report=report, actor=province_staff)
    other = rollout_services.report_submit(actor=officer_a, item=ro_input(villages[1]))
    rollout_services.report_reject(report=other, actor=province_staff, reason="Bukti tidak terbaca")
    return villages


@pytest.fixture(autouse=True)
def english(client):
    client.cookies["django_language"] = "en"


def rows(client, **params) -> list[list[str]]:
    response = client.get(reverse("portal:audit-export"), {"format": "csv", **params})
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]


def test_allocation_creation_edits_and_moves_are_recorded_with_their_changes(history, allocation, province_admin):
    entries = {entry.action: entry for entry in AuditEntry.objects.filter(object_type="grants.allocation")}

    assert set(entries) == {
        AuditAction.ALLOCATION_CREATED,
        AuditAction.ALLOCATION_ACTIVATED,
        AuditAction.ALLOCATION_CHANGED,
    }
    assert all(entry.actor == province_admin and entry.object_id == str(allocation.pk) for entry in entries.values())
    assert entries[AuditAction.ALLOCATION_CREATED].changes["total_amount"] == [None, allocation.total_amount]
    assert entries[AuditAction.ALLOCATION_ACTIVATED].changes == {"status": ["draft", "active"]}
    assert entries[AuditAction.ALLOCATION_CHANGED].changes == {
        "legal_basis": ["Pergub Lampung hibah desa cerdas 2024", "Pergub No. 12/2024"]
    }


def test_a_refused_allocation_edit_records_nothing(allocation, province_admin):
    entries = AuditEntry.objects.count()

    with pytest.raises(ApplicationError):
        grant_services.allocation_update(allocation=allocation, actor=province_admin, total_amount=-5)

    assert AuditEntry.objects.count() == entries


def test_the_auditor_reads_each_trail(client, auditor, history, province_staff, officer_a):
    client.force_login(auditor)

    changes = rows(client, trail="changes")
    grants = rows(client, trail="grants")
    reports = rows(client, trail="reports")

    assert {row[2] for row in changes} >= {"Allocation created", "Allocation activated", "Allocation changed"}
    assert [(row[1], row[2]) for row in grants] == [
        (province_staff.username, "Disburse"),
        (province_staff.username, "Approve"),
        (province_staff.username, "Plan"),
    ]
    assert sorted((row[1], row[2]) for row in reports) == [
        (officer_a.username, "Report submitted"),
        (officer_a.username, "Report submitted"),
        (province_staff.username, "Rejected"),
        (province_staff.username, "Verified"),
    ]
    assert any("Bukti tidak terbaca" in row[4] for row in reports)


def test_the_trail_filters_by_actor_object_and_date(client, auditor, history, officer_a):
    client.force_login(auditor)
    today = timezone.localdate()

    assert {row[1] for row in rows(client, trail="reports", actor=officer_a.username)} == {officer_a.username}
    assert len(rows(client, trail="reports", q=history[1].code)) == 2  # submitted and rejected
    assert rows(client, trail="grants", date_from=today.replace(year=today.year + 1)) == []
    assert len(rows(client, trail="grants", date_to=today)) == 3


def test_exported_cells_cannot_run_as_formulas(client, auditor, history, province_staff, officer_a, ro_input):
    report = rollout_services.report_submit(actor=officer_a, item=ro_input(history[1]))
    rollout_services.report_reject(report=report, actor=province_staff, reason="=cmd|' /C calc'!A0")
    client.force_login(auditor)

    rejected = [row for row in rows(client, trail="reports") if "cmd|" in row[4]]

    assert [row[4] for row in rejected] == ["'=cmd|' /C calc'!A0"]


def test_the_audit_page_shows_the_trail_escaped(client, auditor, history, province_admin):
    grant_services.allocation_update(
        allocation=grant_services.Allocation.objects.get(), actor=province_admin, legal_basis="<b>Pergub</b>"
    )
    client.force_login(auditor)

    page = client.get(reverse("portal:audit")).content.decode()

    assert "Pergub No. 12/2024" in page
    assert "<b>Pergub</b>" not in page and "&lt;b&gt;Pergub&lt;/b&gt;" in page


@pytest.mark.parametrize("trail", ["changes", "grants", "reports"])
def test_the_audit_page_runs_a_constant_number_of_queries(client, auditor, history, province_staff, trail, allocation):
    client.force_login(auditor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("portal:audit"), {"trail": trail}).status_code == 200
        return len(captured)

    few = queries()
    for village in Village.objects.filter(grants__isnull=True)[:3]:
        grant_services.grant_plan(allocation=allocation, village=village, actor=province_staff)
        grant_services.allocation_update(allocation=allocation, actor=province_staff, legal_basis=f"Pergub {village}")

    assert queries() == few


@pytest.mark.parametrize("role_fixture", ["province_staff", "officer_a"])
def test_only_auditors_and_admins_read_the_trail(client, request, role_fixture):
    client.force_login(request.getfixturevalue(role_fixture))

    assert client.get(reverse("portal:audit")).status_code == 403
    assert client.get(reverse("portal:audit-export"), {"format": "csv"}).status_code == 403


@pytest.mark.parametrize("role_fixture", ["auditor", "province_admin"])
def test_nobody_can_write_to_the_trail_through_its_pages(client, request, role_fixture, history):
    client.force_login(request.getfixturevalue(role_fixture))

    assert client.post(reverse("portal:audit")).status_code == 405
    assert client.post(reverse("portal:audit-export")).status_code == 405
    page = client.get(reverse("portal:audit")).content.decode()
    assert 'method="post"' not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_an_invalid_date_filter_is_explained_and_shows_the_unfiltered_trail(client, auditor, history):
    client.force_login(auditor)

    response = client.get(reverse("portal:audit"), {"date_from": "kemarin"})

    assert response.status_code == 200
    assert response.context["form"].errors["date_from"]
    assert response.context["rows"]


def test_audit_entries_refuse_changes_in_python(history):
    entry = AuditEntry.objects.first()

    with pytest.raises(TypeError, match="append-only"):
        entry.save()
    with pytest.raises(TypeError, match="append-only"):
        entry.delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEntry.objects.update(object_repr="x")
    with pytest.raises(TypeError, match="append-only"):
        AuditEntry.objects.all().delete()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement", ["UPDATE accounts_auditentry SET object_repr = 'x'", "DELETE FROM accounts_auditentry"]
)
def test_the_database_refuses_to_change_audit_entries(history, statement):
    before = list(AuditEntry.objects.values_list("id", "object_repr"))

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)

    assert list(AuditEntry.objects.values_list("id", "object_repr")) == before


# --- the filter by actor is the account, never an uppercase match -------------------------------


def test_the_actor_filter_never_merges_two_accounts(client, auditor, province_admin):
    """Each group is a set of letters that SQL's UPPER makes equal although they are different letters
    (`i` and the dotless i, the two Greek small sigmas, ...): one account per letter, one entry each,
    and each filter finds its own."""
    groups = case_collisions()
    accounts = [UserFactory(username=f"x{letter}", role=Role.AUDITOR) for group in groups for letter in group]
    for account in accounts:
        audit_record(actor=account, action=AuditAction.USER_CHANGED, obj=account, changes={"email": ["", "x"]})

    merged = {}
    for account in accounts:
        found = selectors.audit_trail(query=selectors.AuditQuery(trail="changes", actor=account.username))
        names = {row["actor_name"] for row in found}
        if names != {account.username}:
            merged[account.username] = names

    assert merged == {}
    assert len(accounts) >= 20


def test_each_trail_filters_by_the_account_a_name_logs_into(client, auditor, history, province_staff, allocation):
    # A second staff account whose name differs from province_staff's only by a dotless i.
    twin = UserFactory(
        username=province_staff.username.replace("i", "\N{LATIN SMALL LETTER DOTLESS I}", 1), role=Role.PROVINCE_STAFF
    )
    villages = list(Village.objects.filter(regency__code="18.01").order_by("code")[2:3])
    grant = grant_services.grant_plan(allocation=allocation, village=villages[0], actor=twin)
    grant_services.grant_approve(grant=grant, actor=twin)
    report = rollout_services.report_submit(
        actor=UserFactory(username="petugas.c", role=Role.REGENCY_OFFICER, regency=Regency.objects.get(code="18.01")),
        item=rollout_services.ReportInput(
            village=villages[0],
            pillar1=PillarStatus.LIVE,
            pillar2=PillarStatus.IN_PROGRESS,
            pillar3=PillarStatus.NOT_STARTED,
            signal=Signal.G4,
            signal_sufficient=True,
        ),
    )
    rollout_services.report_verify(report=report, actor=twin)
    client.force_login(auditor)

    for trail in ("grants", "reports"):
        staff_rows = rows(client, trail=trail, actor=province_staff.username.upper())  # any spelling of it
        twin_rows = rows(client, trail=trail, actor=twin.username)
        assert staff_rows and {row[1] for row in staff_rows} == {province_staff.username}, trail
        assert twin_rows and {row[1] for row in twin_rows} == {twin.username}, trail


def test_changes_read_as_labels_not_raw_values(client, auditor, allocation, province_admin, officer_a):
    # A trial user's finding: the trail showed "role: regency_officer → auditor" and "is_active: True".
    from accounts import services as account_services

    account_services.user_update(
        actor=province_admin,
        user=officer_a,
        data=account_services.UserInput(
            username=officer_a.username,
            first_name=officer_a.first_name,
            last_name=officer_a.last_name,
            email=officer_a.email,
            role=Role.AUDITOR,
            regency=None,
            is_active=False,
        ),
    )
    grant_services.allocation_update(allocation=allocation, actor=province_admin, total_amount=20_000_000_000)
    client.force_login(auditor)

    changed = {
        row[3].split(" ")[0]: row[4]
        for row in rows(client, trail="changes")
        if row[2] in ("User changed", "Allocation changed")
    }

    assert "Role: Regency officer → Auditor" in changed["User"]
    assert "Active: yes → no" in changed["User"]
    assert "Rp20,000,000,000" in changed["Allocation"]
    assert "regency_officer" not in changed["User"] and "True" not in changed["User"]
