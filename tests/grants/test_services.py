import csv
import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from grants import services
from grants.models import Allocation, AllocationStatus, Disbursement, Grant, GrantAction, GrantEvent, GrantStatus
from smartvillage.errors import ApplicationError, TransitionRefused
from tests.factories import VillageFactory
from tests.grants.conftest import FISCAL_YEAR, UNIT, next_reference
from villages.models import Province, Village
from villages.services import DEFAULT_REGIONS_FILE, regions_load

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

SINGLE_ACTIONS = {
    "approve": services.grant_approve,
    "disburse": services.grant_disburse,
    "account": services.grant_account,
    "return": services.grant_return,
    "close": services.grant_close,
    "cancel": services.grant_cancel,
}
BATCH_ACTIONS = {
    "approve": services.grants_approve_batch,
    "disburse": services.grants_disburse_batch,
    "cancel": services.grants_cancel_batch,
}


def act(action: str, grant: Grant, actor, **kwargs) -> Grant:
    if action == "disburse":
        kwargs.setdefault("transfer_date", timezone.localdate())
    return SINGLE_ACTIONS[action](grant=grant, actor=actor, **kwargs)


def act_on_batch(action: str, allocation, regency, actor, **kwargs) -> list[Grant]:
    if action == "disburse":
        kwargs.setdefault("reference", next_reference())
        kwargs.setdefault("transfer_date", timezone.localdate())
    return BATCH_ACTIONS[action](allocation=allocation, regency=regency, actor=actor, **kwargs)


def grants_of(allocation, regency) -> list[Grant]:
    return list(Grant.objects.filter(allocation=allocation, village__regency=regency).order_by("village__code"))


def statuses(grants) -> dict[int, str]:
    return dict(Grant.objects.filter(pk__in=[g.pk for g in grants]).values_list("pk", "status"))


# --- single transitions -------------------------------------------------------------------------

ALLOWED = [
    pytest.param("planned", None, "approve", {}, "approved", UNIT, "", id="approve-planned"),
    pytest.param(
        "approved",
        None,
        "disburse",
        {"reference": "SP2D-0042/LS/2026"},
        "disbursed",
        UNIT,
        "SP2D-0042/LS/2026",
        id="disburse-approved",
    ),
    pytest.param("disbursed", None, "account", {"spent_amount": 5_500_000}, "accounted", 5_500_000, "", id="account"),
    pytest.param("disbursed", None, "account", {"spent_amount": 0}, "accounted", 0, "", id="account-nothing-spent"),
    pytest.param("accounted", None, "close", {}, "closed", None, "", id="close-fully-spent"),
    pytest.param("planned", None, "cancel", {}, "cancelled", UNIT, "", id="cancel-planned"),
    pytest.param("approved", None, "cancel", {}, "cancelled", UNIT, "", id="cancel-approved"),
    pytest.param(
        "disbursed",
        None,
        "return",
        {"amount": 1_000_000, "reference": "STS-7"},
        "disbursed",
        1_000_000,
        "STS-7",
        id="return-part-of-disbursed",
    ),
    pytest.param(
        "disbursed",
        None,
        "return",
        {"amount": UNIT, "reference": "STS-7"},
        "returned",
        UNIT,
        "STS-7",
        id="return-all-of-disbursed",
    ),
    pytest.param(
        "accounted",
        4_000_000,
        "return",
        {"amount": 2_000_000, "reference": "STS-7"},
        "accounted",
        2_000_000,
        "STS-7",
        id="return-rest-of-accounted",
    ),
    pytest.param(
        "accounted",
        0,
        "return",
        {"amount": UNIT, "reference": "STS-7"},
        "returned",
        UNIT,
        "STS-7",
        id="return-all-of-unspent-accounted",
    ),
]


@pytest.mark.parametrize(("start", "spent", "action", "kwargs", "to_status", "amount", "reference"), ALLOWED)
def test_it_moves_a_grant_and_records_exactly_one_event(
    make_grant, province_admin, start, spent, action, kwargs, to_status, amount, reference
):
    grant = make_grant(start, spent=spent)
    events_before = GrantEvent.objects.count()

    moved = act(action, grant, province_admin, **kwargs)

    grant.refresh_from_db()
    assert moved.status == grant.status == to_status
    assert GrantEvent.objects.count() == events_before + 1
    event = GrantEvent.objects.filter(grant=grant).order_by("-id").first()
    assert (event.action, event.from_status, event.to_status) == (action, start, to_status)
    assert (event.actor, event.amount, event.reference) == (province_admin, amount, reference)


def test_it_records_the_plan_with_the_actor_and_amount(allocation, registry, province_admin):
    village = Village.objects.filter(regency=registry.regency_a).first()

    grant = services.grant_plan(allocation=allocation, village=village, actor=province_admin, amount=4_500_000)

    event = grant.events.get()
    assert (event.action, event.to_status, event.actor, event.amount, event.reference) == (
        GrantAction.PLAN,
        GrantStatus.PLANNED,
        province_admin,
        4_500_000,
        "",
    )


def test_it_records_a_plan_as_starting_from_no_state(allocation, registry, province_admin):
    village = Village.objects.filter(regency=registry.regency_a).first()

    grant = services.grant_plan(allocation=allocation, village=village, actor=province_admin)

    assert grant.events.get().from_status == ""


def test_it_records_the_payment_on_the_grant(make_grant, staff, today):
    grant = make_grant("approved")

    paid = services.grant_disburse(grant=grant, actor=staff, reference="SP2D-0001/LS/2026", transfer_date=today)

    disbursement = Disbursement.objects.get()
    assert paid.disbursement == disbursement
    assert (disbursement.reference, disbursement.amount, disbursement.transfer_date) == (
        "SP2D-0001/LS/2026",
        UNIT,
        today,
    )
    assert (disbursement.allocation_id, disbursement.created_by) == (grant.allocation_id, staff)


def test_it_stores_the_reference_without_surrounding_spaces(make_grant, staff, today):
    grant = make_grant("approved")

    services.grant_disburse(grant=grant, actor=staff, reference="  SP2D-0001/LS/2026 ", transfer_date=today)

    assert Disbursement.objects.get().reference == "SP2D-0001/LS/2026"
    assert grant.events.get(action=GrantAction.DISBURSE).reference == "SP2D-0001/LS/2026"


REFUSED = [
    pytest.param(
        "approved", None, "approve", {}, TransitionRefused, "cannot be moved by 'Approve'", id="approve-twice"
    ),
    pytest.param(
        "disbursed", None, "approve", {}, TransitionRefused, "cannot be moved by 'Approve'", id="approve-paid"
    ),
    pytest.param("cancelled", None, "approve", {}, TransitionRefused, "cannot be moved by 'Approve'", id="approve-cx"),
    pytest.param(
        "planned", None, "disburse", {"reference": "SP2D-X"}, TransitionRefused, "'Disburse'", id="disburse-planned"
    ),
    pytest.param(
        "disbursed", None, "disburse", {"reference": "SP2D-X"}, TransitionRefused, "'Disburse'", id="disburse-twice"
    ),
    pytest.param(
        "cancelled", None, "disburse", {"reference": "SP2D-X"}, TransitionRefused, "'Disburse'", id="disburse-cx"
    ),
    pytest.param(
        "approved",
        None,
        "account",
        {"spent_amount": UNIT},
        TransitionRefused,
        "'Record accountability report'",
        id="account-unpaid",
    ),
    pytest.param(
        "accounted",
        None,
        "account",
        {"spent_amount": UNIT},
        TransitionRefused,
        "'Record accountability report'",
        id="account-twice",
    ),
    pytest.param(
        "disbursed",
        None,
        "account",
        {"spent_amount": UNIT + 1},
        ApplicationError,
        "More than the village received",
        id="account-more-than-paid",
    ),
    pytest.param("disbursed", None, "close", {}, TransitionRefused, "'Close'", id="close-unaccounted"),
    pytest.param(
        "accounted",
        5_000_000,
        "close",
        {},
        TransitionRefused,
        "is neither spent nor returned",
        id="close-with-unexplained-money",
    ),
    pytest.param("closed", None, "close", {}, TransitionRefused, "'Close'", id="close-twice"),
    pytest.param("disbursed", None, "cancel", {}, TransitionRefused, "'Cancel'", id="cancel-paid"),
    pytest.param("accounted", None, "cancel", {}, TransitionRefused, "'Cancel'", id="cancel-accounted"),
    pytest.param("closed", None, "cancel", {}, TransitionRefused, "'Cancel'", id="cancel-closed"),
    pytest.param("returned", None, "cancel", {}, TransitionRefused, "'Cancel'", id="cancel-returned"),
    pytest.param("cancelled", None, "cancel", {}, TransitionRefused, "'Cancel'", id="cancel-twice"),
    pytest.param(
        "planned",
        None,
        "return",
        {"amount": 1, "reference": "STS-1"},
        TransitionRefused,
        "'Return'",
        id="return-unpaid",
    ),
    pytest.param(
        "approved",
        None,
        "return",
        {"amount": 1, "reference": "STS-1"},
        TransitionRefused,
        "'Return'",
        id="return-approved",
    ),
    pytest.param(
        "returned",
        None,
        "return",
        {"amount": 1, "reference": "STS-1"},
        TransitionRefused,
        "'Return'",
        id="return-twice",
    ),
    pytest.param(
        "closed", None, "return", {"amount": 1, "reference": "STS-1"}, TransitionRefused, "'Return'", id="return-closed"
    ),
    pytest.param(
        "disbursed",
        None,
        "return",
        {"amount": UNIT + 1, "reference": "STS-1"},
        ApplicationError,
        "More than the village still holds",
        id="return-more-than-paid",
    ),
    pytest.param(
        "accounted",
        4_000_000,
        "return",
        {"amount": 2_000_001, "reference": "STS-1"},
        ApplicationError,
        "More than the village still holds",
        id="return-more-than-unspent",
    ),
    pytest.param(
        "disbursed",
        None,
        "return",
        {"amount": 1, "reference": "  "},
        ApplicationError,
        "A transfer reference is required",
        id="return-without-reference",
    ),
]


@pytest.mark.parametrize(("start", "spent", "action", "kwargs", "error", "message"), REFUSED)
def test_it_refuses_a_transition_and_changes_nothing(
    make_grant, allocation, staff, snapshot, start, spent, action, kwargs, error, message
):
    grant = make_grant(start, spent=spent)
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        act(action, grant, staff, **kwargs)

    assert caught.type is error
    assert message in caught.value.message
    assert snapshot(allocation) == before


def test_it_names_the_refused_grant_and_its_state(make_grant, staff):
    grant = make_grant("disbursed")

    with pytest.raises(TransitionRefused) as caught:
        services.grant_approve(grant=grant, actor=staff)

    assert caught.value.fields == {"grants": [f"{grant.village.code} {grant.village.name} is Disbursed"]}


def test_it_keeps_the_status_on_a_partial_return(make_grant, staff):
    grant = make_grant("disbursed")

    returned = services.grant_return(grant=grant, actor=staff, amount=2_500_000, reference="STS-1")

    assert (returned.status, returned.returned_amount) == (GrantStatus.DISBURSED, 2_500_000)


def test_it_ends_in_returned_when_partial_returns_add_up_to_the_payment(make_grant, staff):
    grant = make_grant("disbursed")
    services.grant_return(grant=grant, actor=staff, amount=2_500_000, reference="STS-1")

    returned = services.grant_return(grant=grant, actor=staff, amount=UNIT - 2_500_000, reference="STS-2")

    assert (returned.status, returned.returned_amount) == (GrantStatus.RETURNED, UNIT)


@pytest.mark.parametrize("again", ["STS-1", "sts-1", "  STS-1\u200b "])
def test_the_same_deposit_recorded_twice_is_refused_not_counted_twice(make_grant, staff, again):
    # A second send of one STS (a double click, a retried request) was counted as a second return.
    grant = make_grant("disbursed")
    services.grant_return(grant=grant, actor=staff, amount=1_000_000, reference="STS-1")

    with pytest.raises(ApplicationError) as refused:
        services.grant_return(grant=grant, actor=staff, amount=1_000_000, reference=again)

    assert list(refused.value.fields) == ["reference"]
    grant.refresh_from_db()
    assert grant.returned_amount == 1_000_000


def test_it_limits_the_report_to_what_was_not_returned(make_grant, staff, snapshot, allocation):
    grant = make_grant("disbursed")
    services.grant_return(grant=grant, actor=staff, amount=1_000_000, reference="STS-1")
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.grant_account(grant=grant, actor=staff, spent_amount=UNIT - 1_000_000 + 1)

    assert "spent_amount" in caught.value.fields
    assert snapshot(allocation) == before


def test_it_closes_once_spent_and_returned_add_up_to_the_payment(make_grant, staff):
    grant = make_grant("accounted", spent=4_000_000)
    services.grant_return(grant=grant, actor=staff, amount=UNIT - 4_000_000, reference="STS-1")

    closed = services.grant_close(grant=grant, actor=staff)

    assert closed.status == GrantStatus.CLOSED
    assert closed.spent_amount + closed.returned_amount == closed.amount
    assert closed.closed_at is not None


# --- planning and the committed amount ----------------------------------------------------------


def test_it_plans_every_active_village_of_the_province_at_the_unit_amount(allocation, registry, staff):
    result = services.allocation_plan(allocation=allocation, actor=staff)

    villages = set(Village.objects.filter(regency__province__code="18").values_list("code", flat=True))
    grants = Grant.objects.filter(allocation=allocation)
    assert set(grants.values_list("village__code", flat=True)) == villages
    assert set(grants.values_list("amount", "status")) == {(UNIT, GrantStatus.PLANNED)}
    assert (result.created, result.amount) == (len(villages), len(villages) * UNIT)
    assert GrantEvent.objects.filter(action=GrantAction.PLAN).count() == len(villages)


def test_it_plans_only_the_villages_of_the_given_regency(allocation, registry, staff):
    result = services.allocation_plan(allocation=allocation, actor=staff, regency=registry.regency_b)

    planned = set(Grant.objects.filter(allocation=allocation).values_list("village__code", flat=True))
    assert planned == set(Village.objects.filter(regency=registry.regency_b).values_list("code", flat=True))
    assert result.created == len(planned) == 2


def test_it_plans_nothing_when_run_again(allocation, staff, snapshot):
    services.allocation_plan(allocation=allocation, actor=staff)
    before = snapshot(allocation)

    result = services.allocation_plan(allocation=allocation, actor=staff)

    assert (result.created, result.amount) == (0, 0)
    assert snapshot(allocation) == before


def test_it_plans_only_the_villages_still_missing(allocation, registry, staff):
    services.allocation_plan(allocation=allocation, actor=staff, regency=registry.regency_b)

    result = services.allocation_plan(allocation=allocation, actor=staff)

    assert result.created == Village.objects.filter(regency=registry.regency_a).count()
    assert Grant.objects.filter(allocation=allocation).count() == Village.objects.count()


def test_it_skips_inactive_villages(allocation, registry, staff):
    gone = Village.objects.filter(regency=registry.regency_a).order_by("code").first()
    Village.objects.filter(pk=gone.pk).update(is_active=False)

    services.allocation_plan(allocation=allocation, actor=staff)

    assert not Grant.objects.filter(village=gone).exists()
    assert Grant.objects.filter(allocation=allocation).count() == Village.objects.filter(is_active=True).count()


def test_it_refuses_a_grant_for_an_inactive_village(allocation, registry, staff, snapshot):
    gone = Village.objects.filter(regency=registry.regency_a).order_by("code").first()
    Village.objects.filter(pk=gone.pk).update(is_active=False)
    gone.refresh_from_db()
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.grant_plan(allocation=allocation, village=gone, actor=staff)

    assert "village" in caught.value.fields
    assert snapshot(allocation) == before


def test_it_refuses_a_grant_for_a_village_of_another_province(allocation, staff, snapshot, other_province_village):
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.grant_plan(allocation=allocation, village=other_province_village, actor=staff)

    assert "village" in caught.value.fields
    assert snapshot(allocation) == before


def test_it_refuses_planning_a_regency_of_another_province(allocation, staff, snapshot, other_province_village):
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.allocation_plan(allocation=allocation, actor=staff, regency=other_province_village.regency)

    assert "regency" in caught.value.fields
    assert snapshot(allocation) == before


def test_it_refuses_a_second_grant_for_the_same_village(make_grant, allocation, staff, snapshot):
    grant = make_grant("planned")
    before = snapshot(allocation)

    with pytest.raises(TransitionRefused, match="already has a grant"):
        services.grant_plan(allocation=allocation, village=grant.village, actor=staff)

    assert snapshot(allocation) == before


def test_it_keeps_the_committed_amount_equal_to_the_live_grants(
    allocation, registry, staff, province_admin, make_grant, live_committed
):
    services.allocation_update(allocation=allocation, actor=province_admin, total_amount=100 * UNIT)
    extra = VillageFactory(district=registry.district_a2)
    services.grant_plan(allocation=allocation, village=extra, actor=staff, amount=4_750_000)
    services.allocation_plan(allocation=allocation, actor=staff, regency=registry.regency_a)
    first, second, third = grants_of(allocation, registry.regency_a)[:3]
    services.grant_cancel(grant=first, actor=staff)
    services.grant_approve(grant=second, actor=staff)
    services.grant_cancel(grant=second, actor=staff)
    services.grant_approve(grant=third, actor=staff)
    services.grant_disburse(grant=third, actor=staff, reference="SP2D-1", transfer_date=timezone.localdate())
    services.grant_return(grant=third, actor=staff, amount=UNIT, reference="STS-1")
    services.allocation_plan(allocation=allocation, actor=staff)

    allocation.refresh_from_db()
    assert allocation.committed_amount == live_committed(allocation)
    assert allocation.committed_amount == (Village.objects.count() - 2 - 1) * UNIT + 4_750_000


def test_it_refuses_planning_beyond_the_total_and_writes_nothing(allocation, province_admin, staff, snapshot):
    needed = Village.objects.filter(is_active=True).count() * UNIT
    services.allocation_update(allocation=allocation, actor=province_admin, total_amount=needed - 1)
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.allocation_plan(allocation=allocation, actor=staff)

    assert "amount" in caught.value.fields
    assert snapshot(allocation) == before
    assert not Grant.objects.exists()


def test_it_refuses_a_single_grant_beyond_the_total(make_grant, allocation, registry, staff, snapshot):
    services.allocation_plan(allocation=allocation, actor=staff)
    extra = VillageFactory(district=registry.district_b1)
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.grant_plan(allocation=allocation, village=extra, actor=staff)

    assert "amount" in caught.value.fields
    assert snapshot(allocation) == before


def test_it_frees_the_committed_amount_when_a_grant_is_cancelled(make_grant, allocation, staff, live_committed):
    grant = make_grant("approved")
    make_grant("planned")
    allocation.refresh_from_db()
    committed = allocation.committed_amount

    services.grant_cancel(grant=grant, actor=staff)

    allocation.refresh_from_db()
    assert allocation.committed_amount == committed - grant.amount == live_committed(allocation)


def test_it_lets_a_cancelled_grants_amount_be_planned_elsewhere(allocation, registry, staff):
    services.allocation_plan(allocation=allocation, actor=staff)
    extra = VillageFactory(district=registry.district_b1)
    services.grant_cancel(grant=grants_of(allocation, registry.regency_a)[0], actor=staff)

    grant = services.grant_plan(allocation=allocation, village=extra, actor=staff)

    allocation.refresh_from_db()
    assert grant.status == GrantStatus.PLANNED
    assert allocation.committed_amount == allocation.total_amount


def test_it_refuses_lowering_the_total_below_the_committed_amount(allocation, staff, province_admin, snapshot):
    services.allocation_plan(allocation=allocation, actor=staff)
    allocation.refresh_from_db()
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.allocation_update(
            allocation=allocation, actor=province_admin, total_amount=allocation.committed_amount - 1
        )

    assert "total_amount" in caught.value.fields
    assert snapshot(allocation) == before


def test_it_refuses_a_second_allocation_for_the_same_year_and_source(allocation, province_admin):
    with pytest.raises(ApplicationError) as caught:
        services.allocation_create(
            actor=province_admin, province=allocation.province, fiscal_year=FISCAL_YEAR, legal_basis="Pergub"
        )

    assert "fiscal_year" in caught.value.fields


def test_it_refuses_a_second_allocation_whose_source_differs_only_by_spaces(allocation, province_admin):
    with pytest.raises(ApplicationError) as caught:
        services.allocation_create(
            actor=province_admin,
            province=allocation.province,
            fiscal_year=FISCAL_YEAR,
            legal_basis="Pergub",
            funding_source=f" {allocation.funding_source} ",
        )

    assert "fiscal_year" in caught.value.fields


# --- disbursement references and dates ----------------------------------------------------------


@pytest.mark.parametrize("reference", ["", "   ", None])
def test_it_refuses_a_disbursement_without_a_reference(make_grant, allocation, staff, snapshot, today, reference):
    grant = make_grant("approved")
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.grant_disburse(grant=grant, actor=staff, reference=reference, transfer_date=today)

    assert "reference" in caught.value.fields
    assert snapshot(allocation) == before


def test_it_refuses_a_reference_longer_than_the_field(make_grant, allocation, staff, snapshot, today):
    grant = make_grant("approved")
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.grant_disburse(grant=grant, actor=staff, reference="S" * 101, transfer_date=today)

    assert "reference" in caught.value.fields
    assert snapshot(allocation) == before


@pytest.mark.parametrize("reused", ["SP2D-0001/LS/2026", " SP2D-0001/LS/2026  "])
def test_it_refuses_a_reference_already_used_in_the_allocation(make_grant, allocation, staff, snapshot, today, reused):
    services.grant_disburse(
        grant=make_grant("approved"), actor=staff, reference="SP2D-0001/LS/2026", transfer_date=today
    )
    grant = make_grant("approved")
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.grant_disburse(grant=grant, actor=staff, reference=reused, transfer_date=today)

    assert "SP2D-0001/LS/2026" in caught.value.fields["reference"][0]
    assert snapshot(allocation) == before


def test_it_refuses_a_batch_paid_with_a_reference_already_used(make_grant, allocation, registry, staff, snapshot):
    paid = make_grant("approved", regency=registry.regency_b)
    services.grant_disburse(grant=paid, actor=staff, reference="SP2D-1", transfer_date=timezone.localdate())
    make_grant("approved", regency=registry.regency_a)
    make_grant("approved", regency=registry.regency_a)
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        act_on_batch("disburse", allocation, registry.regency_a, staff, reference="SP2D-1")

    assert "reference" in caught.value.fields
    assert snapshot(allocation) == before


def test_it_accepts_the_same_reference_in_another_allocation(make_grant, make_allocation, staff):
    # 1 January: within this year's allocation and within last year's late transfers.
    new_year = datetime.date(FISCAL_YEAR, 1, 1)
    services.grant_disburse(
        grant=make_grant("approved"), actor=staff, reference="SP2D-0001/LS/2026", transfer_date=new_year
    )
    last_year = make_allocation(fiscal_year=FISCAL_YEAR - 1)
    grant = make_grant("approved", allocation=last_year)

    paid = services.grant_disburse(grant=grant, actor=staff, reference="SP2D-0001/LS/2026", transfer_date=new_year)

    assert paid.status == GrantStatus.DISBURSED
    assert Disbursement.objects.filter(reference="SP2D-0001/LS/2026").count() == 2


# The same SP2D number written another way: letter case, surrounding, repeated or other whitespace
# (tabs, no-break and ideographic spaces), invisible characters, full-width forms.
SP2D = "SP2D-0001/LS/2026"
SAME_REFERENCE = {
    "lower-case": "sp2d-0001/ls/2026",
    "mixed-case": "Sp2d-0001/Ls/2026",
    "surrounding-spaces": "  SP2D-0001/LS/2026 ",
    "tabs-and-newline": "\tSP2D-0001/LS/2026\n",
    "no-break-spaces": "\u00a0SP2D-0001/LS/2026\u00a0",
    "zero-width-space-inside": "SP2D-0001/\u200bLS/2026",
    "zero-width-joiner-and-non-joiner": "SP2D\u200d-0001/LS\u200c/2026",
    "byte-order-mark": "\ufeffSP2D-0001/LS/2026",
    "word-joiner": "SP2D-0001/LS/\u20602026",
    "soft-hyphen": "SP2D-0001/L\u00adS/2026",
    "left-to-right-mark": "\u200eSP2D-0001/LS/2026\u200f",
    "hangul-filler": "SP2D-0001/LS/2026\u3164",
    "variation-selector": "SP2D-0001/LS/2026\ufe0f",
    "full-width": "".join(chr(ord(character) + 0xFEE0) for character in "SP2D-0001/LS/2026"),  # U+FF01...
}
SPACED = "SP2D 0001 LS 2026"
SAME_SPACED_REFERENCE = {
    "repeated-spaces": "SP2D  0001   LS 2026",
    "tab-inside": "SP2D\t0001 LS\t2026",
    "no-break-and-ideographic-spaces": "SP2D\u00a00001\u3000LS\u2003 2026",
    "zero-width-space-beside-a-space": "SP2D \u200b0001 LS 2026",
}


@pytest.mark.parametrize(
    ("first", "again"),
    [*[(SP2D, variant) for variant in SAME_REFERENCE.values()], *[(SPACED, v) for v in SAME_SPACED_REFERENCE.values()]],
    ids=[*SAME_REFERENCE, *SAME_SPACED_REFERENCE],
)
def test_it_refuses_a_reference_written_another_way(make_grant, allocation, staff, snapshot, today, first, again):
    services.grant_disburse(grant=make_grant("approved"), actor=staff, reference=first, transfer_date=today)
    grant = make_grant("approved")
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.grant_disburse(grant=grant, actor=staff, reference=again, transfer_date=today)

    assert caught.value.fields["reference"] == [f"Reference {first} is already used."]
    assert snapshot(allocation) == before


@pytest.mark.parametrize("again", list(SAME_REFERENCE.values())[:6], ids=list(SAME_REFERENCE)[:6])
def test_it_refuses_a_batch_paid_with_a_reference_written_another_way(
    make_grant, allocation, registry, staff, snapshot, today, again
):
    services.grant_disburse(
        grant=make_grant("approved", regency=registry.regency_b), actor=staff, reference=SP2D, transfer_date=today
    )
    make_grant("approved", regency=registry.regency_a)
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        act_on_batch("disburse", allocation, registry.regency_a, staff, reference=again)

    assert "reference" in caught.value.fields
    assert snapshot(allocation) == before


@pytest.mark.parametrize(
    "other",
    ["SP2D-0001/LS/2027", "SP2D-00001/LS/2026", "SP2D-0001/LS", "SP2D0001/LS/2026", "SP2D-0001 /LS/2026"],
)
def test_it_accepts_a_reference_that_differs_in_more_than_its_writing(make_grant, staff, today, other):
    services.grant_disburse(grant=make_grant("approved"), actor=staff, reference=SP2D, transfer_date=today)

    paid = services.grant_disburse(grant=make_grant("approved"), actor=staff, reference=other, transfer_date=today)

    assert paid.disbursement.reference == other


def test_it_keeps_the_reference_as_typed_and_its_canonical_form_beside_it(make_grant, staff, today):
    paid = services.grant_disburse(
        grant=make_grant("approved"), actor=staff, reference="  Sp2d\u200b-0001/LS  /2026\t", transfer_date=today
    )

    disbursement = Disbursement.objects.get(pk=paid.disbursement_id)
    assert disbursement.reference == "Sp2d\u200b-0001/LS  /2026"
    assert disbursement.reference_key == "sp2d-0001/ls /2026"
    assert paid.events.get(action=GrantAction.DISBURSE).reference == "Sp2d\u200b-0001/LS  /2026"


@pytest.mark.parametrize("invisible", ["\u200b", "\u200b\u200d\ufeff", " \u2060 ", "\u00ad"])
def test_it_refuses_a_reference_of_invisible_characters_only(make_grant, allocation, staff, snapshot, today, invisible):
    grant = make_grant("approved")
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.grant_disburse(grant=grant, actor=staff, reference=invisible, transfer_date=today)

    assert "reference" in caught.value.fields
    assert snapshot(allocation) == before


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("SP2D-0001/LS/2026", "sp2d-0001/ls/2026"),
        ("\u00a0SP2D\u200b-0001 \t LS\u3000\ufeff", "sp2d-0001 ls"),
        ("\uff33\uff30\uff12\uff24/\u216b", "sp2d/xii"),  # full-width letters, the Roman numeral twelve
        ("STRA\u1e9eE-\u00df", "strasse-ss"),  # capital and small sharp s
        ("\u200b", ""),
    ],
)
def test_the_canonical_form_of_a_reference(typed, canonical):
    assert services.reference_key(typed) == canonical


def test_it_refuses_a_transfer_date_in_the_future(make_grant, allocation, staff, snapshot, today):
    grant = make_grant("approved")
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.grant_disburse(
            grant=grant, actor=staff, reference="SP2D-1", transfer_date=today + datetime.timedelta(days=1)
        )

    assert "transfer_date" in caught.value.fields
    assert snapshot(allocation) == before


def test_it_accepts_a_transfer_date_in_the_past(make_grant, staff, today):
    grant = make_grant("approved")
    earlier = max(today - datetime.timedelta(days=30), datetime.date(FISCAL_YEAR, 1, 1))

    paid = services.grant_disburse(grant=grant, actor=staff, reference="SP2D-1", transfer_date=earlier)

    assert paid.disbursement.transfer_date == earlier


# An allocation two years back: its whole window, fiscal year and late first quarter, is in the past.
PAST_YEAR = FISCAL_YEAR - 2
TRANSFER_DATES = {
    "first-day-of-the-fiscal-year": (datetime.date(PAST_YEAR, 1, 1), True),
    "last-day-of-the-fiscal-year": (datetime.date(PAST_YEAR, 12, 31), True),
    "late-in-the-next-first-quarter": (datetime.date(PAST_YEAR + 1, 2, 28), True),
    "last-day-for-a-late-transfer": (datetime.date(PAST_YEAR + 1, 3, 31), True),
    "day-before-the-fiscal-year": (datetime.date(PAST_YEAR - 1, 12, 31), False),
    "day-after-the-late-quarter": (datetime.date(PAST_YEAR + 1, 4, 1), False),
    "a-year-late": (datetime.date(PAST_YEAR + 2, 1, 15), False),
    "far-in-the-past": (datetime.date(1999, 1, 1), False),
    "years-before": (datetime.date(PAST_YEAR - 10, 6, 1), False),
}


@pytest.mark.parametrize(("transfer_date", "accepted"), TRANSFER_DATES.values(), ids=TRANSFER_DATES)
def test_it_accepts_a_transfer_date_only_within_the_allocations_fiscal_year_and_late_quarter(
    make_grant, make_allocation, staff, snapshot, transfer_date, accepted
):
    allocation = make_allocation(fiscal_year=PAST_YEAR)
    grant = make_grant("approved", allocation=allocation)
    before = snapshot(allocation)

    if accepted:
        paid = services.grant_disburse(grant=grant, actor=staff, reference="SP2D-1", transfer_date=transfer_date)
        assert paid.disbursement.transfer_date == transfer_date
        return
    with pytest.raises(ApplicationError) as caught:
        services.grant_disburse(grant=grant, actor=staff, reference="SP2D-1", transfer_date=transfer_date)

    assert caught.value.fields["transfer_date"] == [
        f"A transfer of fiscal year {PAST_YEAR} is dated from 1 January {PAST_YEAR} to 31 March {PAST_YEAR + 1}."
    ]
    assert snapshot(allocation) == before


def test_it_refuses_a_batch_dated_outside_the_fiscal_year(allocation, registry, staff, snapshot):
    services.allocation_plan(allocation=allocation, actor=staff, regency=registry.regency_a)
    services.grants_approve_batch(allocation=allocation, regency=registry.regency_a, actor=staff)
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        act_on_batch(
            "disburse", allocation, registry.regency_a, staff, transfer_date=datetime.date(FISCAL_YEAR - 1, 12, 31)
        )

    assert "transfer_date" in caught.value.fields
    assert snapshot(allocation) == before


def test_it_refuses_any_transfer_date_for_an_allocation_of_a_year_to_come(make_allocation, make_grant, staff, today):
    next_year = make_allocation(fiscal_year=FISCAL_YEAR + 1)
    grant = make_grant("approved", allocation=next_year)

    with pytest.raises(ApplicationError) as caught:
        services.grant_disburse(grant=grant, actor=staff, reference="SP2D-1", transfer_date=today)
    assert caught.value.fields["transfer_date"] == [
        f"Fiscal year {FISCAL_YEAR + 1} has not begun: no transfer of it can be dated yet."
    ]
    with pytest.raises(ApplicationError) as caught:
        services.grant_disburse(
            grant=grant, actor=staff, reference="SP2D-1", transfer_date=datetime.date(FISCAL_YEAR + 1, 1, 1)
        )
    assert caught.value.fields["transfer_date"] == ["The date cannot be in the future."]


def test_the_transfer_window_ends_today_within_the_fiscal_year(today):
    assert services.transfer_window(fiscal_year=today.year) == (datetime.date(today.year, 1, 1), today)
    assert services.transfer_window(fiscal_year=today.year - 5) == (
        datetime.date(today.year - 5, 1, 1),
        datetime.date(today.year - 4, 3, 31),
    )


# --- batches per regency ------------------------------------------------------------------------


def test_it_approves_exactly_the_planned_grants_of_the_regency(allocation, registry, staff):
    services.allocation_plan(allocation=allocation, actor=staff)
    in_a, in_b = grants_of(allocation, registry.regency_a), grants_of(allocation, registry.regency_b)
    services.grant_cancel(grant=in_a[0], actor=staff)
    services.grant_approve(grant=in_a[1], actor=staff)
    events_before = GrantEvent.objects.count()

    moved = act_on_batch("approve", allocation, registry.regency_a, staff)

    assert {g.pk for g in moved} == {g.pk for g in in_a[2:]}
    assert set(statuses(in_a[2:]).values()) == {GrantStatus.APPROVED}
    assert statuses(in_a[:2]) == {in_a[0].pk: GrantStatus.CANCELLED, in_a[1].pk: GrantStatus.APPROVED}
    assert set(statuses(in_b).values()) == {GrantStatus.PLANNED}
    assert GrantEvent.objects.count() == events_before + len(in_a[2:])
    assert set(
        GrantEvent.objects.filter(action=GrantAction.APPROVE, grant__in=in_a[2:]).values_list("grant", flat=True)
    ) == {g.pk for g in in_a[2:]}


def test_it_pays_the_approved_grants_of_a_regency_with_one_transfer_of_their_sum(allocation, registry, staff, today):
    odd = Village.objects.filter(regency=registry.regency_a).order_by("code").first()
    services.grant_plan(allocation=allocation, village=odd, actor=staff, amount=4_500_000)
    services.allocation_plan(allocation=allocation, actor=staff)
    in_a, in_b = grants_of(allocation, registry.regency_a), grants_of(allocation, registry.regency_b)
    act_on_batch("approve", allocation, registry.regency_b, staff)
    approved_a = in_a[:-1]
    act_on_batch("approve", allocation, registry.regency_a, staff, grant_ids=[g.pk for g in approved_a])

    paid = act_on_batch(
        "disburse", allocation, registry.regency_a, staff, reference="SP2D-0777/LS/2026", transfer_date=today
    )

    disbursement = Disbursement.objects.get()
    assert {g.pk for g in paid} == {g.pk for g in approved_a}
    assert disbursement.amount == sum(
        Grant.objects.filter(pk__in=[g.pk for g in approved_a]).values_list("amount", flat=True)
    )
    assert disbursement.amount == 4_500_000 + (len(approved_a) - 1) * UNIT
    assert set(Grant.objects.filter(disbursement=disbursement).values_list("pk", flat=True)) == {
        g.pk for g in approved_a
    }
    assert statuses(in_a[-1:]) == {in_a[-1].pk: GrantStatus.PLANNED}
    assert set(statuses(in_b).values()) == {GrantStatus.APPROVED}
    events = GrantEvent.objects.filter(action=GrantAction.DISBURSE)
    assert sorted(events.values_list("grant", "reference", "from_status", "to_status")) == sorted(
        (g.pk, "SP2D-0777/LS/2026", "approved", "disbursed") for g in approved_a
    )


def test_it_cancels_the_unpaid_grants_of_a_regency_and_frees_their_amount(allocation, registry, staff, live_committed):
    services.allocation_plan(allocation=allocation, actor=staff)
    in_a, in_b = grants_of(allocation, registry.regency_a), grants_of(allocation, registry.regency_b)
    services.grant_approve(grant=in_a[0], actor=staff)
    services.grant_approve(grant=in_a[1], actor=staff)
    services.grant_disburse(grant=in_a[1], actor=staff, reference="SP2D-1", transfer_date=timezone.localdate())
    allocation.refresh_from_db()
    committed = allocation.committed_amount

    cancelled = act_on_batch("cancel", allocation, registry.regency_a, staff)

    expected = [in_a[0], *in_a[2:]]
    assert {g.pk for g in cancelled} == {g.pk for g in expected}
    assert set(statuses(expected).values()) == {GrantStatus.CANCELLED}
    assert statuses([in_a[1]]) == {in_a[1].pk: GrantStatus.DISBURSED}
    assert set(statuses(in_b).values()) == {GrantStatus.PLANNED}
    allocation.refresh_from_db()
    assert allocation.committed_amount == committed - len(expected) * UNIT == live_committed(allocation)


@pytest.fixture
def mixed_regency_a(allocation, registry, staff):
    """Regency A with one planned, one approved and one paid grant; regency B all planned."""
    services.allocation_plan(allocation=allocation, actor=staff)
    planned, approved, paid = grants_of(allocation, registry.regency_a)[:3]
    services.grant_approve(grant=approved, actor=staff)
    services.grant_approve(grant=paid, actor=staff)
    services.grant_disburse(grant=paid, actor=staff, reference="SP2D-1", transfer_date=timezone.localdate())
    return {"planned": planned, "approved": approved, "paid": paid}


@pytest.mark.parametrize(
    ("action", "eligible", "ineligible"),
    [("approve", "planned", "approved"), ("disburse", "approved", "planned"), ("cancel", "planned", "paid")],
)
def test_it_refuses_a_batch_with_an_ineligible_grant_and_writes_nothing(
    allocation, registry, staff, snapshot, mixed_regency_a, action, eligible, ineligible
):
    good, bad = mixed_regency_a[eligible], mixed_regency_a[ineligible]
    before = snapshot(allocation)

    with pytest.raises(TransitionRefused) as caught:
        act_on_batch(action, allocation, registry.regency_a, staff, grant_ids=[good.pk, bad.pk])

    assert [message.split()[0] for message in caught.value.fields["grants"]] == [bad.village.code]
    assert snapshot(allocation) == before


@pytest.mark.parametrize("action", ["approve", "disburse", "cancel"])
def test_it_refuses_a_batch_with_a_grant_of_another_regency_and_writes_nothing(
    allocation, registry, staff, snapshot, action
):
    services.allocation_plan(allocation=allocation, actor=staff)
    own, other = grants_of(allocation, registry.regency_a)[0], grants_of(allocation, registry.regency_b)[0]
    if action == "disburse":
        act_on_batch("approve", allocation, registry.regency_a, staff, grant_ids=[own.pk])
        act_on_batch("approve", allocation, registry.regency_b, staff, grant_ids=[other.pk])
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        act_on_batch(action, allocation, registry.regency_a, staff, grant_ids=[own.pk, other.pk])

    assert str(other.pk) in caught.value.fields["grant_ids"][0]
    assert snapshot(allocation) == before


def test_it_refuses_a_batch_with_a_grant_of_another_allocation(
    allocation, make_allocation, make_grant, registry, staff, snapshot
):
    own = make_grant("planned", regency=registry.regency_a)
    foreign = make_grant("planned", regency=registry.regency_a, allocation=make_allocation(fiscal_year=FISCAL_YEAR + 1))
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        act_on_batch("approve", allocation, registry.regency_a, staff, grant_ids=[own.pk, foreign.pk])

    assert "grant_ids" in caught.value.fields
    assert snapshot(allocation) == before


@pytest.mark.parametrize("action", ["approve", "disburse", "cancel"])
def test_it_refuses_a_batch_with_nothing_eligible(allocation, registry, staff, snapshot, make_grant, action):
    make_grant("disbursed", regency=registry.regency_a)
    make_grant("planned", regency=registry.regency_b)
    make_grant("approved", regency=registry.regency_b)
    before = snapshot(allocation)

    with pytest.raises(TransitionRefused, match="No grant of this regency is eligible"):
        act_on_batch(action, allocation, registry.regency_a, staff)

    assert snapshot(allocation) == before


# --- amounts ------------------------------------------------------------------------------------

BAD_AMOUNTS = [
    pytest.param(0, id="zero"),
    pytest.param(-1, id="negative"),
    pytest.param(-UNIT, id="negative-unit"),
    pytest.param(6_000_000.0, id="float"),
    pytest.param(1.5, id="fraction"),
    pytest.param(Decimal(6_000_000), id="decimal"),
    pytest.param("6000000", id="string"),
    pytest.param(True, id="true"),
    pytest.param(False, id="false"),
    pytest.param(10**16, id="absurd"),
    pytest.param(2**63, id="beyond-bigint"),
]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_it_refuses_a_bad_grant_amount(allocation, registry, staff, snapshot, amount):
    village = Village.objects.order_by("code").first()
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.grant_plan(allocation=allocation, village=village, actor=staff, amount=amount)

    assert list(caught.value.fields) == ["amount"]
    assert snapshot(allocation) == before


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_it_refuses_a_bad_returned_amount(make_grant, allocation, staff, snapshot, amount):
    grant = make_grant("disbursed")
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.grant_return(grant=grant, actor=staff, amount=amount, reference="STS-1")

    assert list(caught.value.fields) == ["amount"]
    assert snapshot(allocation) == before


@pytest.mark.parametrize(
    "spent",
    [
        pytest.param(-1, id="negative"),
        pytest.param(1_000_000.0, id="float"),
        pytest.param(Decimal(1_000_000), id="decimal"),
        pytest.param("1000000", id="string"),
        pytest.param(True, id="true"),
        pytest.param(False, id="false"),
        pytest.param(10**16, id="absurd"),
    ],
)
def test_it_refuses_a_bad_spent_amount(make_grant, allocation, staff, snapshot, spent):
    grant = make_grant("disbursed")
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.grant_account(grant=grant, actor=staff, spent_amount=spent)

    assert list(caught.value.fields) == ["spent_amount"]
    assert snapshot(allocation) == before


@pytest.mark.parametrize("field", ["total_amount", "unit_amount"])
@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_it_refuses_a_bad_allocation_amount_on_create(registry, province_admin, field, amount):
    with pytest.raises(ApplicationError) as caught:
        services.allocation_create(
            actor=province_admin,
            province=Province.objects.get(code="18"),
            fiscal_year=FISCAL_YEAR,
            legal_basis="Pergub",
            **{field: amount},
        )

    assert list(caught.value.fields) == [field]
    assert not Allocation.objects.exists()


@pytest.mark.parametrize("field", ["total_amount", "unit_amount"])
@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_it_refuses_a_bad_allocation_amount_on_update(allocation, province_admin, snapshot, field, amount):
    before = snapshot(allocation)

    with pytest.raises(ApplicationError) as caught:
        services.allocation_update(allocation=allocation, actor=province_admin, **{field: amount})

    assert list(caught.value.fields) == [field]
    assert snapshot(allocation) == before
    assert (allocation.unit_amount, allocation.total_amount) == (UNIT, Village.objects.count() * UNIT)


# --- the audit trail is append-only -------------------------------------------------------------


@pytest.fixture
def event(make_grant) -> GrantEvent:
    return make_grant("planned").events.get()


def test_it_refuses_to_save_an_existing_event(event):
    event.note = "diubah"

    with pytest.raises(TypeError, match="append-only"):
        event.save()

    assert GrantEvent.objects.get(pk=event.pk).note == ""


def test_it_refuses_to_delete_an_event(event):
    with pytest.raises(TypeError, match="append-only"):
        event.delete()

    assert GrantEvent.objects.filter(pk=event.pk).exists()


def test_it_refuses_to_update_events_through_a_queryset(event):
    with pytest.raises(TypeError, match="append-only"):
        GrantEvent.objects.filter(pk=event.pk).update(note="diubah")

    assert GrantEvent.objects.get(pk=event.pk).note == ""


def test_it_refuses_to_delete_events_through_a_queryset(event):
    with pytest.raises(TypeError, match="append-only"):
        GrantEvent.objects.all().delete()

    assert GrantEvent.objects.filter(pk=event.pk).exists()


def test_it_refuses_to_change_events_through_the_grants_relation(event):
    with pytest.raises(TypeError, match="append-only"):
        event.grant.events.update(note="diubah")
    with pytest.raises(TypeError, match="append-only"):
        event.grant.events.all().delete()

    assert GrantEvent.objects.get(pk=event.pk).note == ""


def test_it_refuses_to_bulk_update_events(event):
    event.note = "diubah"

    # bulk_update runs inside an atomic block without a savepoint: give it one, so that the
    # refusal does not break the test's own transaction.
    with pytest.raises(TypeError, match="append-only"), transaction.atomic():
        GrantEvent.objects.bulk_update([event], ["note"])

    assert GrantEvent.objects.get(pk=event.pk).note == ""


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE grants_grantevent SET note = 'diubah' WHERE id = %s",
        "DELETE FROM grants_grantevent WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_it_refuses_raw_sql_changes_to_events_in_the_database(event, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])

    assert GrantEvent.objects.get(pk=event.pk).note == ""


# --- the allocation total -----------------------------------------------------------------------


def test_it_prices_the_lampung_registry_at_the_published_apbd_figure(db):
    regions_load()

    assert services.allocation_required_total(province=Province.objects.get(code="18")) == 15_906_000_000


def test_it_prices_every_active_lampung_village_at_six_million(db):
    regions_load()
    with open(DEFAULT_REGIONS_FILE, encoding="utf-8", newline="") as handle:
        in_source = sum(1 for row in csv.DictReader(handle) if row["level"] == "village")

    total = services.allocation_required_total(province=Province.objects.get(code="18"))

    assert Village.objects.filter(is_active=True, code__startswith="18.").count() == in_source
    assert total == in_source * 6_000_000


def test_it_leaves_inactive_villages_out_of_the_required_total(registry):
    province = Province.objects.get(code="18")
    before = services.allocation_required_total(province=province)
    Village.objects.filter(pk=Village.objects.order_by("code").first().pk).update(is_active=False)

    assert services.allocation_required_total(province=province) == before - UNIT
    assert before == Village.objects.count() * UNIT


def test_it_defaults_a_new_allocation_to_the_required_total(allocation):
    assert allocation.total_amount == services.allocation_required_total(province=allocation.province)
    assert (allocation.unit_amount, allocation.committed_amount) == (UNIT, 0)


# --- allocation states --------------------------------------------------------------------------


def test_it_plans_and_cancels_in_a_draft_allocation(make_allocation, staff, live_committed):
    draft = make_allocation(activate=False)
    services.allocation_plan(allocation=draft, actor=staff)
    grant = Grant.objects.filter(allocation=draft).first()

    services.grant_cancel(grant=grant, actor=staff)

    draft.refresh_from_db()
    assert draft.status == AllocationStatus.DRAFT
    assert draft.committed_amount == live_committed(draft) == (Village.objects.count() - 1) * UNIT


DRAFT_REFUSED = {
    "approve": lambda g, actor, today: services.grant_approve(grant=g, actor=actor),
    "disburse": lambda g, actor, today: services.grant_disburse(
        grant=g, actor=actor, reference="SP2D-1", transfer_date=today
    ),
    "account": lambda g, actor, today: services.grant_account(grant=g, actor=actor, spent_amount=0),
    "return": lambda g, actor, today: services.grant_return(grant=g, actor=actor, amount=1, reference="STS-1"),
    "close": lambda g, actor, today: services.grant_close(grant=g, actor=actor),
    "approve-batch": lambda g, actor, today: services.grants_approve_batch(
        allocation=g.allocation, regency=g.village.regency, actor=actor
    ),
    "disburse-batch": lambda g, actor, today: services.grants_disburse_batch(
        allocation=g.allocation, regency=g.village.regency, actor=actor, reference="SP2D-1", transfer_date=today
    ),
}


@pytest.mark.parametrize("action", DRAFT_REFUSED)
def test_it_refuses_execution_actions_in_a_draft_allocation(make_allocation, staff, snapshot, today, action):
    draft = make_allocation(activate=False)
    services.allocation_plan(allocation=draft, actor=staff)
    grant = Grant.objects.filter(allocation=draft).first()
    before = snapshot(draft)

    with pytest.raises(TransitionRefused, match="The allocation is Draft"):
        DRAFT_REFUSED[action](grant, staff, today)

    assert snapshot(draft) == before


@pytest.fixture
def closed_allocation(make_grant, allocation, province_admin):
    """A closed allocation holding a grant in each state an action could start from."""
    grants = {
        "planned": make_grant("planned"),
        "approved": make_grant("approved"),
        "disbursed": make_grant("disbursed"),
        "accounted": make_grant("accounted"),
    }
    allocation = services.allocation_close(allocation=allocation, actor=province_admin)
    return allocation, grants


CLOSED_REFUSED = {
    "plan": lambda a, g, actor, today: services.grant_plan(
        allocation=a, village=Village.objects.exclude(grants__allocation=a).first(), actor=actor
    ),
    "plan-all": lambda a, g, actor, today: services.allocation_plan(allocation=a, actor=actor),
    "update": lambda a, g, actor, today: services.allocation_update(
        allocation=a, actor=actor, total_amount=a.total_amount + UNIT
    ),
    "approve": lambda a, g, actor, today: services.grant_approve(grant=g["planned"], actor=actor),
    "disburse": lambda a, g, actor, today: services.grant_disburse(
        grant=g["approved"], actor=actor, reference="SP2D-X", transfer_date=today
    ),
    "account": lambda a, g, actor, today: services.grant_account(grant=g["disbursed"], actor=actor, spent_amount=0),
    "return": lambda a, g, actor, today: services.grant_return(
        grant=g["disbursed"], actor=actor, amount=1, reference="STS-1"
    ),
    "close": lambda a, g, actor, today: services.grant_close(grant=g["accounted"], actor=actor),
    "cancel": lambda a, g, actor, today: services.grant_cancel(grant=g["planned"], actor=actor),
    "approve-batch": lambda a, g, actor, today: services.grants_approve_batch(
        allocation=a, regency=g["planned"].village.regency, actor=actor
    ),
    "disburse-batch": lambda a, g, actor, today: services.grants_disburse_batch(
        allocation=a, regency=g["approved"].village.regency, actor=actor, reference="SP2D-X", transfer_date=today
    ),
    "cancel-batch": lambda a, g, actor, today: services.grants_cancel_batch(
        allocation=a, regency=g["planned"].village.regency, actor=actor
    ),
}


@pytest.mark.parametrize("action", CLOSED_REFUSED)
def test_it_refuses_every_change_in_a_closed_allocation(closed_allocation, staff, snapshot, today, action):
    allocation, grants = closed_allocation
    before = snapshot(allocation)

    with pytest.raises(TransitionRefused, match="The allocation is Closed"):
        CLOSED_REFUSED[action](allocation, grants, staff, today)

    assert snapshot(allocation) == before


def test_it_refuses_activating_an_active_allocation(allocation, province_admin, snapshot):
    before = snapshot(allocation)

    with pytest.raises(TransitionRefused, match="The allocation is Active"):
        services.allocation_activate(allocation=allocation, actor=province_admin)

    assert snapshot(allocation) == before


def test_it_refuses_closing_a_draft_allocation(make_allocation, province_admin, snapshot):
    draft = make_allocation(activate=False)
    before = snapshot(draft)

    with pytest.raises(TransitionRefused, match="The allocation is Draft"):
        services.allocation_close(allocation=draft, actor=province_admin)

    assert snapshot(draft) == before
