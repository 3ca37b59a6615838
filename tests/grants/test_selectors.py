from collections import defaultdict

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grants import services
from grants.models import Allocation, Grant
from grants.selectors import allocation_summary, ledger
from tests.factories import DistrictFactory, VillageFactory
from tests.grants.conftest import FISCAL_YEAR, UNIT, next_reference
from villages.models import District, Province, Regency, Village

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

FIGURES = ("units", "committed", "approved", "disbursed", "returned", "accounted", "cancelled_units")
APPROVED_OR_LATER = {"approved", "disbursed", "accounted", "closed", "returned"}
PAID = {"disbursed", "accounted", "closed", "returned"}


@pytest.fixture
def mixed(allocation, registry, province_admin, staff, make_grant) -> Allocation:
    """Every state of the programme, spread over both regencies and all three districts.

    Regency A, district 1: planned, approved, disbursed, accounted (Rp4,000,000 spent).
    Regency A, district 2: disbursed with Rp1,500,000 returned, cancelled, approved at Rp4,500,000.
    Regency B: returned in full, closed (all spent).
    """
    services.allocation_update(allocation=allocation, actor=province_admin, total_amount=60_000_000)
    a1 = list(Village.objects.filter(district=registry.district_a1).order_by("code"))
    a2 = list(Village.objects.filter(district=registry.district_a2).order_by("code"))
    b1 = list(Village.objects.filter(district=registry.district_b1).order_by("code"))
    make_grant("planned", village=a1[0])
    make_grant("approved", village=a1[1])
    make_grant("disbursed", village=a1[2])
    make_grant("accounted", village=a1[3], spent=4_000_000)
    partly = make_grant("disbursed", village=a2[0])
    services.grant_return(grant=partly, actor=staff, amount=1_500_000, reference=next_reference())
    make_grant("cancelled", village=a2[1])
    extra = VillageFactory(district=registry.district_a2)
    odd = services.grant_plan(allocation=allocation, village=extra, actor=staff, amount=4_500_000)
    services.grant_approve(grant=odd, actor=staff)
    make_grant("returned", village=b1[0])
    make_grant("closed", village=b1[1])
    return Allocation.objects.get(pk=allocation.pk)


def expected_rows(allocation: Allocation, level: str, **filters) -> list[tuple]:
    """The ledger recomputed in Python from the grants' own columns, one tuple per unit."""
    key = {"province": 0, "regency": 1, "district": 2}[level]
    grants = Grant.objects.filter(allocation=allocation, **filters).values_list(
        "allocation__province__code",
        "village__regency__code",
        "village__district__code",
        "status",
        "amount",
        "returned_amount",
        "spent_amount",
    )
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for row in grants:
        status, amount, returned, spent = row[3:]
        unit = totals[row[key]]
        if status == "cancelled":
            unit["cancelled_units"] += 1
        else:
            unit["units"] += 1
            unit["committed"] += amount
        unit["approved"] += amount if status in APPROVED_OR_LATER else 0
        unit["disbursed"] += amount if status in PAID else 0
        unit["returned"] += returned
        unit["accounted"] += spent or 0
    model = {"province": Province, "regency": Regency, "district": District}[level]
    names = dict(model.objects.values_list("code", "name"))
    return [(code, names[code], *(totals[code][f] for f in FIGURES)) for code in sorted(totals)]


def as_tuples(rows) -> list[tuple]:
    return [(row.code, row.name, *(getattr(row, f) for f in FIGURES)) for row in rows]


@pytest.mark.parametrize("level", ["province", "regency", "district"])
def test_it_totals_each_unit_of_the_level_as_its_grants_do(mixed, staff, level):
    rows = ledger(allocation=mixed, user=staff, level=level)

    assert as_tuples(rows) == expected_rows(mixed, level)


def test_it_totals_the_province_to_the_hand_counted_figures(mixed, staff):
    (row,) = ledger(allocation=mixed, user=staff, level="province")

    assert (row.code, row.units, row.cancelled_units) == ("18", 8, 1)
    assert (row.committed, row.approved, row.disbursed) == (46_500_000, 40_500_000, 30_000_000)
    assert (row.returned, row.accounted) == (7_500_000, 10_000_000)


def test_it_totals_each_regency_to_the_hand_counted_figures(mixed, staff):
    rows = {row.code: row for row in ledger(allocation=mixed, user=staff, level="regency")}

    a, b = rows["18.01"], rows["18.71"]
    assert (a.units, a.committed, a.approved, a.disbursed, a.returned, a.accounted, a.cancelled_units) == (
        6,
        5 * UNIT + 4_500_000,
        4 * UNIT + 4_500_000,
        3 * UNIT,
        1_500_000,
        4_000_000,
        1,
    )
    assert (b.units, b.committed, b.approved, b.disbursed, b.returned, b.accounted, b.cancelled_units) == (
        2,
        2 * UNIT,
        2 * UNIT,
        2 * UNIT,
        UNIT,
        UNIT,
        0,
    )


def test_it_adds_the_regencies_up_to_the_province(mixed, staff):
    regencies = ledger(allocation=mixed, user=staff, level="regency")
    (province,) = ledger(allocation=mixed, user=staff, level="province")

    for figure in FIGURES:
        assert sum(getattr(row, figure) for row in regencies) == getattr(province, figure), figure


def test_it_derives_net_and_outstanding_figures_from_the_totals(mixed, staff):
    (row,) = ledger(allocation=mixed, user=staff, level="province")

    assert row.net_disbursed == 30_000_000 - 7_500_000
    assert row.to_disburse == 46_500_000 - 30_000_000
    assert row.disbursed_pct == round(100 * 30_000_000 / 46_500_000, 1)
    assert row.accounted_pct == round(100 * 10_000_000 / 22_500_000, 1)


def test_it_narrows_a_district_ledger_to_one_regency(mixed, staff, registry):
    rows = ledger(allocation=mixed, user=staff, level="district", regency_code="18.01")

    assert as_tuples(rows) == expected_rows(mixed, "district", village__regency__code="18.01")
    assert [row.code for row in rows] == [registry.district_a1.code, registry.district_a2.code]


def test_it_leaves_out_the_grants_of_another_allocation(mixed, make_allocation, make_grant, staff):
    last_year = make_allocation(fiscal_year=FISCAL_YEAR - 1)
    make_grant("disbursed", allocation=last_year)

    rows = ledger(allocation=mixed, user=staff, level="regency")

    assert as_tuples(rows) == expected_rows(mixed, "regency")


def test_it_summarises_the_allocation_as_its_grants_do(mixed, staff):
    summary = allocation_summary(allocation=mixed, user=staff)

    (expected,) = expected_rows(mixed, "province")
    assert as_tuples([summary.totals]) == [expected]
    planned, disbursed, returned = expected[3], expected[5], expected[6]
    assert summary.unallocated == 60_000_000 - planned
    assert summary.remaining == 60_000_000 - (disbursed - returned)
    assert summary.disbursed_pct_of_total == round(100 * disbursed / 60_000_000, 1)


def test_it_names_gross_returned_net_and_remaining_money_once(mixed, staff):
    summary = allocation_summary(allocation=mixed, user=staff)

    (expected,) = expected_rows(mixed, "province")
    disbursed, returned = expected[5], expected[6]
    assert (summary.budget, summary.disbursed, summary.returned) == (60_000_000, disbursed, returned)
    assert summary.net_disbursed == disbursed - returned == summary.totals.net_disbursed
    assert summary.remaining == 60_000_000 - summary.net_disbursed
    assert summary.disbursed_pct == round(100 * disbursed / 60_000_000, 1) == summary.disbursed_pct_of_total
    assert summary.net_disbursed_pct == round(100 * (disbursed - returned) / 60_000_000, 1)


def test_an_officers_summary_measures_the_own_regency_against_its_planned_grants(mixed, officer_a):
    summary = allocation_summary(allocation=mixed, user=officer_a)

    (own,) = ledger(allocation=mixed, user=officer_a, level="regency")
    assert summary.budget == own.committed
    assert summary.remaining == own.committed - own.net_disbursed
    assert summary.disbursed_pct == own.disbursed_pct


def test_it_matches_the_committed_amount_in_the_summary(mixed, staff):
    summary = allocation_summary(allocation=mixed, user=staff)

    assert summary.totals.committed == mixed.committed_amount


@pytest.mark.parametrize("level", ["province", "regency", "district"])
def test_it_shows_a_regency_officer_only_the_own_regency(mixed, officer_a, level):
    rows = ledger(allocation=mixed, user=officer_a, level=level)

    assert as_tuples(rows) == expected_rows(mixed, level, village__regency__code="18.01")
    assert rows


def test_it_shows_a_regency_officer_nothing_of_another_regency_on_drill_down(mixed, officer_a):
    assert ledger(allocation=mixed, user=officer_a, level="district", regency_code="18.71") == []


def test_it_summarises_only_the_own_regency_for_an_officer(mixed, officer_b):
    summary = allocation_summary(allocation=mixed, user=officer_b)

    (own,) = expected_rows(mixed, "regency", village__regency__code="18.71")
    assert as_tuples([summary.totals])[0][2:] == own[2:]


def test_it_shows_an_anonymous_reader_nothing(mixed):
    assert ledger(allocation=mixed, user=AnonymousUser(), level="province") == []
    assert allocation_summary(allocation=mixed, user=AnonymousUser()).totals.units == 0


def queries_to_read(allocation: Allocation, user, level: str) -> int:
    fresh = Allocation.objects.get(pk=allocation.pk)
    with CaptureQueriesContext(connection) as captured:
        ledger(allocation=fresh, user=user, level=level)
        allocation_summary(allocation=fresh, user=user)
    return len(captured)


def grow(allocation: Allocation, registry, province_admin, staff) -> None:
    """Many more grants, in more districts and states, through the services."""
    services.allocation_update(allocation=allocation, actor=province_admin, total_amount=500 * UNIT)
    for regency in (registry.regency_a, registry.regency_b):
        for part in ("11", "12"):
            VillageFactory.create_batch(5, district=DistrictFactory(regency=regency, code=f"{regency.code}.{part}"))
    services.allocation_plan(allocation=allocation, actor=staff)
    approved = services.grants_approve_batch(allocation=allocation, regency=registry.regency_a, actor=staff)
    services.grants_disburse_batch(
        allocation=allocation,
        regency=registry.regency_a,
        actor=staff,
        reference=next_reference(),
        transfer_date=timezone.localdate(),
        grant_ids=[grant.pk for grant in approved[:6]],
    )
    services.grants_cancel_batch(allocation=allocation, regency=registry.regency_b, actor=staff)


@pytest.mark.parametrize("level", ["province", "regency", "district"])
def test_it_reads_the_ledger_in_a_constant_number_of_queries(mixed, registry, province_admin, staff, level):
    few = Grant.objects.count()
    before = queries_to_read(mixed, staff, level)

    grow(mixed, registry, province_admin, staff)

    assert Grant.objects.count() >= few + 20
    assert queries_to_read(mixed, staff, level) == before


def test_it_reads_an_officers_ledger_in_a_constant_number_of_queries(mixed, registry, province_admin, staff, officer_a):
    before = queries_to_read(mixed, officer_a, "district")

    grow(mixed, registry, province_admin, staff)

    assert queries_to_read(mixed, officer_a, "district") == before
