"""The bank reconciliation in a real browser: province staff upload a statement, see the preview, confirm
it without uploading again, resolve one open item; at phone and desktop widths."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from grants import services as grant_services
from tests.treasury.statements import Scenario, generate, to_csv
from treasury.models import Outcome, OutcomeKind, Resolution, Statement
from treasury.selectors import disbursement_refs
from villages.models import Province, Village

PHONE = {"width": 390, "height": 844}
SCENARIO = Scenario(exact=3, mismatched=1, missing=1, unknown=2, duplicates=1, returns=1, batches=0, other_credits=1)


@pytest.fixture
def disbursed(lampung):
    """An active allocation with six grants paid under an SP2D each, by the grant services."""
    staff = User.objects.get(username="staf")
    year = timezone.localdate().year
    allocation = grant_services.allocation_create(
        actor=User.objects.get(username="admin"),
        province=Province.objects.get(code="18"),
        fiscal_year=year,
        legal_basis=f"Keputusan Gubernur Lampung TA {year}",
    )
    allocation = grant_services.allocation_activate(allocation=allocation, actor=staff)
    date = grant_services.transfer_window(fiscal_year=year)[1]
    for number, village in enumerate(Village.objects.filter(regency__code="18.01").order_by("code")[:6], start=1):
        grant = grant_services.grant_plan(allocation=allocation, village=village, actor=staff)
        grant = grant_services.grant_approve(grant=grant, actor=staff)
        grant_services.grant_disburse(
            grant=grant, actor=staff, reference=f"SP2D NO.{number:04d}/BL/{year}", transfer_date=date
        )
    return allocation


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1366, "height": 900}], ids=["phone", "desktop"])
def test_staff_upload_preview_confirm_and_resolve_an_item(disbursed, browsing, log_in, tmp_path, viewport):
    generated = generate(disbursement_refs(allocation=disbursed), SCENARIO)
    path = tmp_path / "rekening-koran.csv"
    path.write_bytes(to_csv(generated))
    page = browsing.new_page(viewport)
    log_in(page, "staf")

    page.goto(f"/grants/{disbursed.pk}/")
    page.click("#reconciliation-link")
    page.set_input_files("#upload-form input[type=file]", str(path))
    with page.expect_navigation():
        page.click("#upload-form button[type=submit]")

    # The preview: the file's counts, nothing imported yet.
    for kind, count in generated.counts.items():
        expect(page.locator(f'#preview-figures tr[data-kind="{kind}"] td[data-count]')).to_have_text(str(count))
    assert not Statement.objects.exists()

    with page.expect_navigation():
        page.click("#confirm-import")
    assert Statement.objects.count() == 1
    for kind, count in generated.counts.items():
        expect(page.locator(f'[data-count="{kind}"]')).to_have_text(str(count))

    # One open item: a debit naming no SP2D of the allocation, explained by staff.
    item = Outcome.objects.filter(kind=OutcomeKind.UNMATCHED_LINE).order_by("pk").first()
    page.click(f'#open-items li[data-outcome="{item.pk}"] a')
    page.select_option("#resolve-form select[name=action]", "explained")
    page.fill("#resolve-form textarea[name=reason]", "Biaya administrasi rekening bulan ini")
    with page.expect_navigation():
        page.click("#resolve-form button[type=submit]")

    expect(page.locator(f'#open-items li[data-outcome="{item.pk}"]')).to_have_count(0)
    resolution = Resolution.objects.get()
    assert (resolution.outcome_id, resolution.actor.username) == (item.pk, "staf")
    # Nothing sticks out of the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
