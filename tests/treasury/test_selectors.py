"""Reading the reconciliation: counts and amounts per outcome and regency, the open items, the scope of
officers, "confirmed by bank"."""

import dataclasses
import datetime

import pytest

from tests.treasury.statements import Generated, Scenario, generate, to_csv
from treasury import selectors
from treasury.models import OutcomeKind
from treasury.parsers import statement_parse
from treasury.services import outcome_resolve, statement_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(disbursements) -> Generated:
    return generate(disbursements, Scenario())


@pytest.fixture
def imported(allocation, generated, staff):
    return statement_import(
        allocation=allocation, parsed=statement_parse(data=to_csv(generated), file_name="rk.csv"), actor=staff
    )


def test_the_summary_gives_the_counts_and_amounts_per_outcome_and_regency(
    allocation, generated, imported, staff, registry, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        summary = selectors.reconciliation_summary(allocation=allocation, user=staff)

    assert {kind: figures.count for kind, figures in summary.by_kind.items()} == generated.counts
    assert {kind: figures.amount for kind, figures in summary.by_kind.items()} == generated.amounts
    (regency, no_regency) = summary.regencies
    assert regency.code == registry.regency_a.code and no_regency.code is None
    assert no_regency.by_kind[OutcomeKind.UNMATCHED_LINE].count == generated.counts["unmatched_line"]
    opened = {"amount_mismatch", "duplicate", "unmatched_line", "unmatched_disbursement", "returned"}
    assert summary.open_items == sum(generated.counts[kind] for kind in opened)


def test_officers_see_their_regencys_outcomes_only(allocation, imported, officer_a, officer_b, auditor):
    everything = selectors.outcome_list(allocation=allocation, user=auditor)
    own = selectors.outcome_list(allocation=allocation, user=officer_a)

    assert own.count() == everything.exclude(regency__isnull=True).count() > 0
    assert not own.filter(kind=OutcomeKind.UNMATCHED_LINE).exists()
    assert not selectors.outcome_list(allocation=allocation, user=officer_b).exists()
    assert selectors.reconciliation_summary(allocation=allocation, user=officer_b).open_items == 0
    assert selectors.confirmed_ledger(allocation=allocation, user=officer_b) == []


def test_a_resolved_item_is_no_longer_open(allocation, imported, staff):
    item = selectors.outcome_list(allocation=allocation, user=staff).filter(is_open=True).first()
    before = selectors.reconciliation_summary(allocation=allocation, user=staff).open_items

    outcome_resolve(outcome=item, actor=staff, action="explained", reason="Biaya bank")

    assert not selectors.outcome_list(allocation=allocation, user=staff).get(pk=item.pk).is_open
    assert selectors.reconciliation_summary(allocation=allocation, user=staff).open_items == before - 1


def test_a_missing_disbursement_paid_by_a_later_statement_is_no_longer_missing(allocation, generated, imported, staff):
    missing = selectors.outcome_list(allocation=allocation, user=staff).filter(kind=OutcomeKind.UNMATCHED_DISBURSEMENT)[
        0
    ]
    day = generated.period[1] + datetime.timedelta(days=1)
    later = Generated(
        rows=[
            dataclasses.replace(
                generated.rows[0],
                date=day,
                description=f"TRF {missing.disbursement.reference}",
                bank_reference="BL77",
                debit=missing.disbursement.amount,
                credit=0,
            )
        ],
        counts={},
        amounts={},
        balances=[generated.closing_balance - missing.disbursement.amount],
    )

    report = statement_import(
        allocation=allocation, parsed=statement_parse(data=to_csv(later), file_name="rk2.csv"), actor=staff
    )

    assert report.counts[OutcomeKind.MATCHED] == 1
    summary = selectors.reconciliation_summary(allocation=allocation, user=staff)
    assert summary.by_kind[OutcomeKind.UNMATCHED_DISBURSEMENT].count == generated.counts["unmatched_disbursement"] - 1
    assert selectors.outcome_list(allocation=allocation, user=staff).get(pk=missing.pk).superseded


def test_confirmed_by_bank_counts_the_grants_a_line_matched(allocation, disbursements, generated, staff, registry):
    assert selectors.bank_confirmed(allocation=allocation) is None

    statement_import(
        allocation=allocation, parsed=statement_parse(data=to_csv(generated), file_name="rk.csv"), actor=staff
    )

    # matched: the exact and returned singles, and the batch's three villages (each a transfer).
    scenario = Scenario()
    singles = [d for d in disbursements if len(d.grants) == 1]
    batch = next(d for d in disbursements if len(d.grants) > 1)
    paid = singles[: scenario.exact] + singles[scenario.exact + scenario.mismatched + scenario.missing :][:1]
    expected = sum(d.amount for d in paid) + batch.amount
    confirmed = selectors.bank_confirmed(allocation=allocation)
    assert confirmed == {"total": expected, "by_regency": {registry.regency_a.code: expected}}
    (row,) = selectors.confirmed_ledger(allocation=allocation, user=staff)
    assert (row.code, row.confirmed, row.disbursed) == (
        registry.regency_a.code,
        expected,
        sum(d.amount for d in disbursements),
    )
