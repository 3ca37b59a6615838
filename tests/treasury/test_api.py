"""POST /api/v1/allocations/{id}/statements/ (multipart, the file in `file`) and the reads of the
reconciliation: counts and amounts per outcome as JSON, line-numbered refusals, 403 for those who do not
reconcile, officers reading their regency's outcomes only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.treasury.statements import Scenario, generate, to_csv, to_mt940
from treasury.models import Outcome, OutcomeKind, Statement, StatementLine

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def upload(user, allocation, data: bytes, name: str = "rk.csv", **fields):
    return client_for(user).post(
        f"/api/v1/allocations/{allocation.pk}/statements/",
        {"file": SimpleUploadedFile(name, data), **fields},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )


@pytest.fixture
def generated(disbursements):
    return generate(disbursements, Scenario())


def test_an_upload_imports_and_answers_the_counts_and_amounts(allocation, generated, staff):
    response = upload(staff, allocation, to_mt940(generated), "rk.sta")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["counts"] == generated.counts and body["amounts"] == generated.amounts
    assert body["statement"] == Statement.objects.get().pk and not body["dry_run"]
    line_kinds = ("matched", "amount_mismatch", "duplicate", "unmatched_line")
    assert sum(body["amounts"][kind] for kind in line_kinds) == body["debit_total"]

    again = upload(staff, allocation, to_mt940(generated), "rk.sta")
    assert again.status_code == 200 and again.json()["already_imported"]
    assert Statement.objects.count() == 1


def test_a_dry_run_answers_the_counts_and_writes_nothing(allocation, generated, staff):
    response = upload(staff, allocation, to_csv(generated), dry_run="true")

    assert response.status_code == 200
    assert response.json()["counts"] == generated.counts and response.json()["dry_run"]
    assert not Statement.objects.exists() and not StatementLine.objects.exists()


def test_a_bad_file_is_a_400_naming_its_line(allocation, staff):
    data = b'tanggal,keterangan,referensi_bank,debet,kredit\n2024-01-05,TRF,R1,"1.500,50",\n'

    response = upload(staff, allocation, data)

    assert response.status_code == 400
    assert any(message.startswith("Line 2:") for message in response.json()["file"])
    assert not Statement.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"name": "rk.pdf"}, "file"), ({"columns": "jumlah=Jumlah"}, "columns"), ({"dry_run": "barangkali"}, "dry_run")],
)
def test_other_bad_input_is_a_400_with_its_field(allocation, generated, staff, fields, field):
    name = fields.pop("name", "rk.csv")

    response = upload(staff, allocation, to_csv(generated), name, **fields)

    assert response.status_code == 400 and field in response.json()
    assert not Statement.objects.exists()


def test_a_missing_file_is_a_400(allocation, staff):
    response = client_for(staff).post(
        f"/api/v1/allocations/{allocation.pk}/statements/", {"dry_run": "true"}, format="multipart"
    )
    assert response.status_code == 400 and "file" in response.json()


@pytest.mark.parametrize("role", ["auditor", "officer_a"])
def test_officers_and_auditors_may_not_upload(request, allocation, generated, role):
    response = upload(request.getfixturevalue(role), allocation, to_csv(generated))

    assert response.status_code == 403
    assert not Statement.objects.exists()


def test_json_is_not_an_upload(allocation, staff):
    response = client_for(staff).post(f"/api/v1/allocations/{allocation.pk}/statements/", {}, format="json")
    assert response.status_code == 415, response.json()


def test_readers_list_statements_and_officers_their_regencys_outcomes(
    allocation, generated, staff, auditor, officer_a, officer_b
):
    upload(staff, allocation, to_csv(generated))
    outcomes_url = f"/api/v1/allocations/{allocation.pk}/outcomes/"

    statements = client_for(auditor).get(f"/api/v1/allocations/{allocation.pk}/statements/").json()["results"]
    assert [row["debit_total"] for row in statements] == [Statement.objects.get().debit_total]
    everything = client_for(auditor).get(outcomes_url, {"page_size": 100}).json()
    assert everything["count"] == Outcome.objects.count()
    own = client_for(officer_a).get(outcomes_url, {"page_size": 100}).json()
    assert own["count"] == Outcome.objects.exclude(regency=None).count() < everything["count"]
    assert {row["regency"] for row in own["results"]} == {officer_a.regency.code}
    assert client_for(officer_b).get(outcomes_url).json()["count"] == 0
    officer_statements = client_for(officer_b).get(f"/api/v1/allocations/{allocation.pk}/statements/").json()
    assert "debit_total" not in officer_statements["results"][0]

    unknown = client_for(auditor).get(outcomes_url, {"kind": OutcomeKind.UNMATCHED_LINE, "open": "true"}).json()
    assert unknown["count"] == generated.counts["unmatched_line"]
    assert all(row["reason"] and row["line"]["line_number"] > 1 for row in unknown["results"])


def test_the_other_api_views_still_refuse_a_multipart_body(province_admin, generated):
    client = client_for(province_admin)
    body = {"file": SimpleUploadedFile("rk.csv", to_csv(generated)), "fiscal_year": "2030"}

    response = client.post("/api/v1/allocations/", body, format="multipart")

    assert response.status_code == 415, response.json()


def test_a_file_over_the_portals_upload_bound_is_refused_naming_the_command(allocation, staff, settings):
    settings.FILE_UPLOAD_MAX_BYTES = 1024
    data = b"tanggal,keterangan,referensi_bank,debet,kredit\n" + b"2024-01-05,BIAYA,R1,5000,\n" * 100

    response = upload(staff, allocation, data)

    assert response.status_code == 400
    assert "reconcile_statement" in " ".join(response.json()["file"])
    assert not Statement.objects.exists()
