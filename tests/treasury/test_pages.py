"""The reconciliation pages: upload, preview (nothing imported), confirm without a second upload; the
page's counts, open items and their resolution; the one-click return; the export; who may do what."""

import csv
import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from grants.models import Grant, GrantStatus
from tests.treasury.statements import Scenario, generate, to_csv, to_xlsx
from treasury.models import Outcome, OutcomeKind, Resolution, Statement, StatementUpload
from treasury.parsers import statement_parse
from treasury.services import statement_import

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def generated(disbursements):
    return generate(disbursements, Scenario())


@pytest.fixture
def imported(allocation, generated, staff):
    parsed = statement_parse(data=to_csv(generated), file_name="rk.csv")
    return statement_import(allocation=allocation, parsed=parsed, actor=staff)


def test_staff_preview_an_upload_then_confirm_it_without_uploading_again(allocation, generated, staff):
    client = client_for(staff)
    upload_url = reverse("treasury:upload", args=[allocation.pk])

    preview = client.post(upload_url, {"file": SimpleUploadedFile("rekening.xlsx", to_xlsx(generated))})

    assert preview.status_code == 200
    page = preview.content.decode()
    for kind, count in generated.counts.items():
        assert f'<tr data-kind="{kind}">' in page and f'data-count="{count}"' in page
    assert not Statement.objects.exists()
    pending = StatementUpload.objects.get()
    assert f'value="{pending.sha256}"' in page

    confirmed = client.post(reverse("treasury:confirm", args=[allocation.pk]), {"sha256": pending.sha256})

    assert confirmed.status_code == 302
    statement = Statement.objects.get()
    assert statement.file_name == "rekening.xlsx" and statement.imported_by == staff
    assert not StatementUpload.objects.exists()
    assert Outcome.objects.filter(kind=OutcomeKind.MATCHED).count() == generated.counts["matched"]


def test_a_bad_file_is_refused_on_the_page_with_its_line(allocation, staff):
    data = b'tanggal,keterangan,referensi_bank,debet,kredit\n2024-01-05,TRF,R1,"1.500,50",\n'

    response = client_for(staff).post(
        reverse("treasury:upload", args=[allocation.pk]), {"file": SimpleUploadedFile("rk.csv", data)}
    )

    assert response.status_code == 400
    assert "Line 2: debet: 1.500,50 has a fraction of a rupiah" in response.content.decode()
    assert not StatementUpload.objects.exists() and not Statement.objects.exists()


def test_a_confirmation_of_nothing_previewed_imports_nothing(allocation, staff):
    response = client_for(staff).post(reverse("treasury:confirm", args=[allocation.pk]), {"sha256": "a" * 64})
    assert response.status_code == 302 and not Statement.objects.exists()


@pytest.mark.parametrize("role", ["auditor", "officer_a"])
def test_only_staff_upload_confirm_and_resolve(request, allocation, generated, imported, role):
    client = client_for(request.getfixturevalue(role))
    item = Outcome.objects.filter(kind=OutcomeKind.AMOUNT_MISMATCH).first()

    upload = client.post(
        reverse("treasury:upload", args=[allocation.pk]), {"file": SimpleUploadedFile("x.csv", to_csv(generated))}
    )
    resolve = client.post(
        reverse("treasury:outcome-resolve", args=[item.pk]), {"action": "explained", "reason": "Biaya bank"}
    )

    assert (upload.status_code, resolve.status_code) == (403, 403)
    assert not StatementUpload.objects.exists() and not Resolution.objects.exists()


def test_the_page_shows_counts_per_outcome_and_regency_in_constant_queries(
    allocation, generated, imported, staff, django_assert_max_num_queries
):
    url = reverse("treasury:reconciliation", args=[allocation.pk])
    client = client_for(staff)
    client.get(url)  # the session and the language, once

    with django_assert_max_num_queries(14):
        page = client.get(url).content.decode()

    for kind, count in generated.counts.items():
        assert f'data-count="{kind}">{count}<' in page
    assert page.count('data-outcome="') == sum(
        generated.counts[kind] for kind in generated.counts if kind != OutcomeKind.MATCHED
    )


def test_staff_resolve_an_item_with_a_reason_and_it_leaves_the_open_items(allocation, imported, staff, english):
    item = Outcome.objects.filter(kind=OutcomeKind.UNMATCHED_LINE).first()
    url = reverse("treasury:outcome-resolve", args=[item.pk])
    client = client_for(staff)

    refused = client.post(url, {"action": "manual_match", "sp2d": "SP2D 9999/XX", "reason": "Salah tulis"})
    assert refused.status_code == 400 and not Resolution.objects.exists()

    done = client.post(
        url,
        {
            "action": "manual_match",
            "sp2d": "sp2d no.0001/bl/" + str(allocation.fiscal_year),
            "reason": "Bank salah tulis SP2D",
        },
    )

    assert done.status_code == 302
    resolution = Resolution.objects.get()
    assert resolution.disbursement.reference == f"SP2D NO.0001/BL/{allocation.fiscal_year}"
    page = client.get(reverse("treasury:reconciliation", args=[allocation.pk])).content.decode()
    assert f'data-outcome="{item.pk}"' not in page
    assert "Bank salah tulis SP2D" in client.get(reverse("treasury:outcome", args=[item.pk])).content.decode()


def test_a_bank_return_is_recorded_on_the_grant_in_one_click(allocation, imported, staff):
    item = Outcome.objects.get(kind=OutcomeKind.RETURNED)

    response = client_for(staff).post(reverse("treasury:outcome-return", args=[item.pk]), {"confirm": "on"})

    assert response.status_code == 302
    assert Grant.objects.get(pk=item.grant_id).status == GrantStatus.RETURNED
    assert Resolution.objects.get(outcome=item).action == "return_recorded"


def test_the_export_lists_every_outcome_the_reader_sees(allocation, generated, imported, staff, officer_a):
    url = reverse("treasury:export", args=[allocation.pk])

    staff_rows = list(csv.reader(io.StringIO(client_for(staff).get(url).content.decode("utf-8-sig"))))
    officer_rows = list(csv.reader(io.StringIO(client_for(officer_a).get(url).content.decode("utf-8-sig"))))
    xlsx = client_for(staff).get(url, {"file": "xlsx"})

    assert len(staff_rows) - 1 == Outcome.objects.count() == sum(generated.counts.values())
    assert len(officer_rows) - 1 == Outcome.objects.exclude(regency=None).count()
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")


def test_officers_see_their_regencys_items_only(allocation, imported, officer_b, officer_a):
    item = Outcome.objects.filter(kind=OutcomeKind.AMOUNT_MISMATCH).first()

    assert client_for(officer_b).get(reverse("treasury:outcome", args=[item.pk])).status_code == 404
    assert client_for(officer_a).get(reverse("treasury:outcome", args=[item.pk])).status_code == 200
    unmatched = Outcome.objects.filter(kind=OutcomeKind.UNMATCHED_LINE).first()
    assert client_for(officer_a).get(reverse("treasury:outcome", args=[unmatched.pk])).status_code == 404


def test_the_ledger_gains_confirmed_by_bank_once_a_statement_is_imported(allocation, generated, staff, registry):
    url = reverse("grants:allocation", args=[allocation.pk])
    client = client_for(staff)
    assert 'data-col="confirmed-by-bank"' not in client.get(url).content.decode()

    statement_import(
        allocation=allocation, parsed=statement_parse(data=to_csv(generated), file_name="rk.csv"), actor=staff
    )

    confirmed = sum(
        Grant.objects.filter(pk__in=Outcome.objects.filter(kind=OutcomeKind.MATCHED).values("grant_id")).values_list(
            "amount", flat=True
        )
    )
    page = client.get(url).content.decode()
    assert f'data-col="confirmed-by-bank" data-value="{confirmed}"' in page
    export = client.get(reverse("grants:ledger-export", args=[allocation.pk]), {"file": "csv"})
    (header, row) = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert header[-1] == "Confirmed by bank (Rp)" and row[-1] == str(confirmed)


def test_a_grants_page_shows_its_bank_lines(allocation, imported, staff):
    returned = Outcome.objects.select_related("line").get(kind=OutcomeKind.RETURNED)

    page = client_for(staff).get(reverse("grants:grant", args=[returned.grant_id])).content.decode()

    assert 'id="bank-lines"' in page
    assert '<li class="list-group-item small" data-kind="matched">' in page
    assert '<li class="list-group-item small" data-kind="returned">' in page
    assert returned.line.description in page
