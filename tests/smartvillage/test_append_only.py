"""Every append-only table is append-only in Python and in PostgreSQL itself.

The class is derived from the code: every concrete subclass of `smartvillage.db.AppendOnlyModel`.
The README and SECURITY.md must name exactly those tables, and the raw SQL below runs as the
portal's own database user (the one of DATABASE_URL), the way any other client of the database would.
"""

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from PIL import Image

from accounts.models import AuditEntry, Role
from grants import services as grant_services
from grants.models import GrantEvent
from rollout import services as rollout_services
from rollout.models import PillarStatus, ProgressReport, ReportPhoto, ReportStatus, Signal
from smartvillage.db import AppendOnlyModel, append_only_models, append_only_tables
from tests.factories import UserFactory
from villages.models import Province, Village

pytestmark = pytest.mark.django_db

DOCS = ("README.md", "SECURITY.md")
MODELS = append_only_models()
LABELS = {model._meta.label for model in MODELS}
MODEL_NAME = re.compile(r"(?:[a-z_]+\.)?[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+")


# --- the class, from the code, and the docs ------------------------------------------------------


def test_the_class_holds_the_three_records():
    # Not vacuous: the walk below covers at least the records the issue names.
    assert {"grants.GrantEvent", "accounts.AuditEntry", "rollout.ProgressReport"} <= LABELS
    assert append_only_tables() == sorted(model._meta.db_table for model in MODELS)


@pytest.mark.parametrize("doc", DOCS)
def test_the_docs_name_exactly_the_append_only_tables(doc):
    text = (Path(settings.BASE_DIR) / doc).read_text(encoding="utf-8")

    listed = re.search(r"Append-only in the database: ([^\n]+)", text)
    assert listed, f"{doc} has no 'Append-only in the database: ...' line"
    assert set(re.findall(r"`(\w+\.\w+)`", listed.group(1))) == LABELS
    # Nowhere else does the doc call another model append-only (a model: `GrantEvent`, `grants.GrantEvent`).
    names = {model.__name__ for model in MODELS} | LABELS | {AppendOnlyModel.__name__}
    for line in text.splitlines():
        if "append-only" in line.lower():
            called = {token for token in re.findall(r"`([\w.]+)`", line) if MODEL_NAME.fullmatch(token)}
            assert called <= names, (doc, line)


# --- rows of each table ----------------------------------------------------------------------------


@pytest.fixture
def rows(registry, province_admin, province_staff, officer_a) -> dict[str, dict[str, int]]:
    """Per table, the id of a row in each state that matters (a report awaiting and a decided one)."""
    allocation = grant_services.allocation_create(
        actor=province_admin, province=Province.objects.get(code="18"), fiscal_year=2026, legal_basis="Pergub uji"
    )
    village, other = Village.objects.filter(regency=registry.regency_a).order_by("code")[:2]
    grant_services.grant_plan(allocation=allocation, village=village, actor=province_staff)

    def report(target: Village) -> ProgressReport:
        item = rollout_services.ReportInput(
            village=target,
            pillar1=PillarStatus.LIVE,
            pillar2=PillarStatus.IN_PROGRESS,
            pillar3=PillarStatus.NOT_STARTED,
            signal=Signal.G4,
            signal_sufficient=True,
        )
        return rollout_services.report_submit(actor=officer_a, item=item)

    decided = rollout_services.report_verify(report=report(village), actor=province_staff)
    awaiting = report(other)
    photo = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(photo, "JPEG")
    item = rollout_services.ReportInput(
        village=other,
        pillar1=PillarStatus.LIVE,
        pillar2=PillarStatus.LIVE,
        pillar3=PillarStatus.LIVE,
        signal=Signal.G4,
        signal_sufficient=True,
    )
    photographed = rollout_services.report_receive(
        actor=officer_a, item=item, photos=[SimpleUploadedFile("bukti.jpg", photo.getvalue(), "image/jpeg")]
    ).report
    return {
        "grants_grantevent": {"any": GrantEvent.objects.latest("pk").pk},
        "accounts_auditentry": {"any": AuditEntry.objects.latest("pk").pk},
        "rollout_progressreport": {"any": decided.pk, "awaiting": awaiting.pk, "decided": decided.pk},
        "rollout_reportphoto": {"any": ReportPhoto.objects.get(report=photographed).pk},
    }


def _row(table: str, pk: int) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])  # noqa: S608 (table names from the code)
        return cursor.fetchone()


def _refused(sql: str, params: list | None = None) -> None:
    refusal = r"append-only|only an undecided|content never changes"
    with pytest.raises(DatabaseError, match=refusal), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_fixture_has_a_row_of_every_table(rows):
    assert set(rows) == set(append_only_tables())


# --- PostgreSQL refuses UPDATE, DELETE and TRUNCATE ------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("table", append_only_tables())
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE {table} SET id = id WHERE id = %s",
        "UPDATE {table} SET id = id",
        "DELETE FROM {table} WHERE id = %s",
        "DELETE FROM {table}",
    ],
)
def test_postgresql_refuses_to_update_or_delete_in_an_append_only_table(rows, table, sql):
    pk = rows[table]["any"]
    before = _row(table, pk)

    _refused(sql.format(table=table), [pk] * sql.count("%s"))

    assert _row(table, pk) == before


# Committed rows (a transactional test): inside an open transaction with fresh inserts PostgreSQL
# refuses TRUNCATE for another reason (pending foreign-key checks), which would prove nothing.
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("table", append_only_tables())
@pytest.mark.parametrize("sql", ["TRUNCATE {table} CASCADE", "TRUNCATE ONLY {table} RESTART IDENTITY CASCADE"])
def test_postgresql_refuses_to_truncate_an_append_only_table(rows, table, sql):
    pk = rows[table]["any"]
    before = _row(table, pk)

    _refused(sql.format(table=table))

    assert _row(table, pk) == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_a_truncate_cascading_from_another_table(rows):
    before = {table: _row(table, ids["any"]) for table, ids in rows.items()}

    # Every record names its author: emptying the users would take all three with it.
    _refused("TRUNCATE accounts_user CASCADE")

    assert {table: _row(table, ids["any"]) for table, ids in rows.items()} == before


# --- a report's content never changes; its review is set once -----------------------------------

REPORT = "rollout_progressreport"


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("state", "assignments"),
    [
        pytest.param("awaiting", "pillar1 = 'not_started'", id="content-of-an-awaiting-report"),
        pytest.param("awaiting", "submitted_at = submitted_at - interval '1 day'", id="described-time"),
        pytest.param("awaiting", "submitted_by_id = {reviewer}", id="author"),
        pytest.param(
            "awaiting",
            "status = 'verified', reviewed_by_id = {reviewer}, reviewed_at = now(), note = 'diubah'",
            id="content-changed-while-deciding",
        ),
        pytest.param("awaiting", "rejection_reason = 'belum diputuskan'", id="review-without-a-decision"),
        pytest.param("decided", "status = 'rejected', rejection_reason = 'berubah pikiran'", id="a-second-review"),
        pytest.param("decided", "reviewed_by_id = {reviewer}", id="another-reviewer"),
        pytest.param("decided", "superseded = true", id="outcome-after-the-review"),
        pytest.param("decided", "late = true", id="late-after-the-review"),
        pytest.param("awaiting", "captured_at = now()", id="capture-time"),
        pytest.param("awaiting", "client_uuid = gen_random_uuid()", id="client-id"),
        pytest.param("decided", "blocker_note = 'diubah'", id="content-of-a-decided-report"),
    ],
)
def test_postgresql_refuses_to_change_a_reports_content_or_its_decided_review(rows, province_admin, state, assignments):
    pk = rows[REPORT][state]
    before = _row(REPORT, pk)

    _refused(f"UPDATE {REPORT} SET {assignments.format(reviewer=province_admin.pk)} WHERE id = %s", [pk])  # noqa: S608

    assert _row(REPORT, pk) == before


@pytest.mark.postgres
def test_postgresql_lets_an_awaiting_report_be_decided_once(rows, province_admin):
    pk = rows[REPORT]["awaiting"]

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {REPORT} SET status = 'rejected', reviewed_by_id = %s, reviewed_at = now(), "  # noqa: S608
            "rejection_reason = 'Bukti tidak ada.' WHERE id = %s",
            [province_admin.pk, pk],
        )

    report = ProgressReport.objects.get(pk=pk)
    assert (report.status, report.reviewed_by, report.rejection_reason) == (
        ReportStatus.REJECTED,
        province_admin,
        "Bukti tidak ada.",
    )


# --- and Python refuses them first -----------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_python_refuses_to_save_or_delete_an_existing_row(rows, model):
    row = model.objects.get(pk=rows[model._meta.db_table]["any"])

    with pytest.raises(TypeError, match="append-only"):
        row.save()
    with pytest.raises(TypeError, match="append-only"):
        row.delete()
    with pytest.raises(TypeError, match="append-only"):
        model.objects.filter(pk=row.pk).delete()

    assert model.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("model", MODELS, ids=lambda model: model._meta.label)
def test_python_refuses_a_bulk_update_of_anything_but_the_review(rows, model):
    content = next(
        field.name
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in model.settable_once
    )

    with pytest.raises(TypeError, match="append-only"):
        model.objects.filter(pk=rows[model._meta.db_table]["any"]).update(**{content: None})


def test_only_a_reports_review_is_settable_once():
    assert ProgressReport.settable_once == (
        "status",
        "reviewed_by",
        "reviewed_at",
        "rejection_reason",
        "superseded",
        "late",
    )
    assert all(model.settable_once == () for model in MODELS if model is not ProgressReport)
    assert issubclass(ProgressReport, AppendOnlyModel)


# --- flush (tests, bench) can still empty a database -----------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_flush_empties_the_append_only_tables_and_leaves_them_guarded(rows):
    call_command("flush", interactive=False, verbosity=0)

    for table in append_only_tables():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            assert cursor.fetchone() == (0,), table
    # The guard is back: TRUNCATE is refused again once the flush has committed.
    staff = UserFactory(username="staf.setelah.flush", role=Role.PROVINCE_STAFF)
    AuditEntry.objects.create(actor=staff, action="user_created", object_type="accounts.user", object_id="1")
    for table in append_only_tables():
        _refused(f"TRUNCATE {table} CASCADE")
    assert AuditEntry.objects.filter(actor=staff).exists()
