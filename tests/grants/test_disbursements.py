"""SP2D references and transfer dates as people and integrations meet them: the API, the pages, the migration.

The rules are tested on the services (test_services.py); here, that each way in answers with a
field error (400) and writes nothing, and that existing references got their canonical form.
"""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from grants import services
from grants.models import Disbursement, Grant, GrantStatus
from tests.grants.conftest import FISCAL_YEAR
from tests.grants.test_services import SAME_REFERENCE, SAME_SPACED_REFERENCE, SP2D, SPACED

pytestmark = pytest.mark.django_db

GRANTS = "/api/v1/grants/"
SAME_AS_SP2D = [*[(SP2D, v) for v in SAME_REFERENCE.values()], *[(SPACED, v) for v in SAME_SPACED_REFERENCE.values()]]
SAME_AS_SP2D_IDS = [*SAME_REFERENCE, *SAME_SPACED_REFERENCE]
# Outside this year's allocation: the day before it, and a far past; after it is the future.
OUTSIDE_THE_YEAR = [datetime.date(FISCAL_YEAR - 1, 12, 31), datetime.date(1999, 1, 1)]


@pytest.fixture
def paid_once(make_grant, staff):
    """Pay one grant with `first`; return an approved grant of the same allocation to pay again."""

    def pay(first: str) -> Grant:
        services.grant_disburse(
            grant=make_grant("approved"), actor=staff, reference=first, transfer_date=timezone.localdate()
        )
        return make_grant("approved")

    return pay


def _written() -> tuple:
    return (
        list(Disbursement.objects.order_by("pk").values_list("pk", "reference", "reference_key")),
        list(Grant.objects.order_by("pk").values_list("pk", "status", "disbursement_id")),
    )


def _assert_field_error(response, field: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body[field] and all(isinstance(message, str) and message for message in body[field]), body


# --- the API ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "again"), SAME_AS_SP2D, ids=SAME_AS_SP2D_IDS)
def test_the_api_refuses_a_reference_written_another_way(api_client, staff, paid_once, first, again):
    grant = paid_once(first)
    before = _written()
    api_client.force_authenticate(staff)

    response = api_client.post(
        f"{GRANTS}{grant.pk}/disburse/",
        {"reference": again, "transfer_date": timezone.localdate().isoformat()},
        format="json",
    )

    _assert_field_error(response, "reference")
    assert first in response.json()["reference"][0]
    assert _written() == before


@pytest.mark.parametrize("again", list(SAME_REFERENCE.values())[:5], ids=list(SAME_REFERENCE)[:5])
def test_the_api_refuses_a_batch_with_a_reference_written_another_way(
    api_client, staff, paid_once, allocation, registry, again
):
    paid_once(SP2D)
    before = _written()
    api_client.force_authenticate(staff)

    response = api_client.post(
        f"/api/v1/allocations/{allocation.pk}/batch/disburse/",
        {"regency": registry.regency_a.code, "reference": again, "transfer_date": timezone.localdate().isoformat()},
        format="json",
    )

    _assert_field_error(response, "reference")
    assert _written() == before


@pytest.mark.parametrize("transfer_date", OUTSIDE_THE_YEAR, ids=str)
def test_the_api_refuses_a_transfer_date_outside_the_fiscal_year(api_client, staff, make_grant, transfer_date):
    grant = make_grant("approved")
    before = _written()
    api_client.force_authenticate(staff)

    response = api_client.post(
        f"{GRANTS}{grant.pk}/disburse/",
        {"reference": "SP2D-9/LS", "transfer_date": transfer_date.isoformat()},
        format="json",
    )

    _assert_field_error(response, "transfer_date")
    assert str(FISCAL_YEAR) in response.json()["transfer_date"][0]
    assert _written() == before


# --- the pages -------------------------------------------------------------------------------------


def _disburse_on_the_page(client, grant: Grant, *, reference: str, transfer_date: datetime.date):
    data = {"reference": reference, "transfer_date": transfer_date.isoformat(), "confirm": "on"}
    return client.post(f"/grants/grant/{grant.pk}/disburse/", {f"disburse-{k}": v for k, v in data.items()})


def _field_errors(html: str, field: str) -> str:
    """The form's markup around the field, where its error shows."""
    start = html.index(f'name="disburse-{field}"')
    return html[start : start + 600]


@pytest.mark.parametrize(("first", "again"), SAME_AS_SP2D[:6], ids=SAME_AS_SP2D_IDS[:6])
def test_the_page_shows_a_reference_written_another_way_as_used(client, staff, paid_once, first, again):
    grant = paid_once(first)
    before = _written()
    client.force_login(staff)

    response = _disburse_on_the_page(client, grant, reference=again, transfer_date=timezone.localdate())

    assert response.status_code == 400
    assert first in _field_errors(response.content.decode(), "reference")
    assert _written() == before


@pytest.mark.parametrize("transfer_date", OUTSIDE_THE_YEAR, ids=str)
def test_the_page_shows_a_transfer_date_outside_the_fiscal_year_on_its_field(client, staff, make_grant, transfer_date):
    grant = make_grant("approved")
    before = _written()
    client.force_login(staff)

    response = _disburse_on_the_page(client, grant, reference="SP2D-9/LS", transfer_date=transfer_date)

    assert response.status_code == 400
    html = response.content.decode()
    assert "is-invalid" in _field_errors(html, "transfer_date")
    assert f"tahun anggaran {FISCAL_YEAR}" in html.lower()
    assert _written() == before
    assert Grant.objects.get(pk=grant.pk).status == GrantStatus.APPROVED


# --- the migration gave existing references their canonical form -----------------------------------

BEFORE_KEYS = [("grants", "0003_grantevent_refuses_truncate")]
WITH_KEYS = [("grants", "0004_disbursement_reference_key")]


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_canonical_form_of_existing_references(make_grant, staff):
    paid = [make_grant("disbursed"), make_grant("disbursed")]
    typed = {grant.disbursement_id: ref for grant, ref in zip(paid, [" Sp2d\u200b-7/LS ", "SP2D  8/LS"], strict=True)}
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE_KEYS)
        old = MigrationExecutor(connection).loader.project_state(BEFORE_KEYS).apps
        for pk, reference in typed.items():
            old.get_model("grants", "Disbursement").objects.filter(pk=pk).update(reference=reference)
    finally:
        # Forward to the latest state: later migrations (other apps' too) depend on this one.
        forward = MigrationExecutor(connection)
        forward.migrate(forward.loader.graph.leaf_nodes())

    keys = dict(Disbursement.objects.filter(pk__in=typed).values_list("pk", "reference_key"))
    assert keys == {pk: services.reference_key(reference) for pk, reference in typed.items()}
    assert sorted(keys.values()) == ["sp2d 8/ls", "sp2d-7/ls"]
