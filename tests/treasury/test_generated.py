"""A generated statement with known counts of each outcome gives exactly those counts, in every format."""

import pytest

from tests.treasury.statements import ACCOUNT, Scenario, generate, to_csv, to_mt940, to_xlsx
from treasury.matching import LINE_KINDS, reconcile
from treasury.models import OutcomeKind
from treasury.parsers import statement_parse

pytestmark = pytest.mark.django_db

WRITERS = {
    "rekening_koran.csv": to_csv,
    "rekening_koran.xlsx": to_xlsx,
    "rekening_koran.sta": to_mt940,
}


def _reconciled(disbursements, data: bytes, name: str):
    statement = statement_parse(data=data, file_name=name)
    header = statement.header
    result = reconcile(
        lines=statement.lines,
        disbursements=disbursements,
        period_from=header.period_from,
        period_to=header.period_to,
    )
    return statement, result


@pytest.mark.parametrize("name", WRITERS)
def test_a_generated_statement_gives_exactly_its_counts_and_amounts(disbursements, scenario, name):
    generated = generate(disbursements, scenario)
    statement, result = _reconciled(disbursements, WRITERS[name](generated), name)

    assert len(statement.lines) == len(generated.rows)
    assert result.counts() == generated.counts
    assert result.amounts() == generated.amounts
    assert generated.counts == {
        "matched": scenario.exact + scenario.returns + 3 * scenario.batches,
        "amount_mismatch": scenario.mismatched,
        "duplicate": scenario.duplicates,
        "unmatched_line": scenario.unknown,
        "unmatched_disbursement": scenario.missing,
        "returned": scenario.returns,
    }
    assert len(result.other_credits) == scenario.other_credits


@pytest.mark.parametrize("name", WRITERS)
def test_line_outcomes_add_up_to_the_statements_debit_total(disbursements, scenario, name):
    statement, result = _reconciled(disbursements, WRITERS[name](generate(disbursements, scenario)), name)

    amounts = result.amounts()
    assert sum(amounts[kind] for kind in LINE_KINDS) == statement.debit_total == result.debit_total
    assert amounts[OutcomeKind.RETURNED] + sum(line.credit for line in result.other_credits) == statement.credit_total


@pytest.mark.parametrize("name", WRITERS)
def test_every_debit_line_and_every_disbursement_ends_in_exactly_one_outcome(disbursements, scenario, name):
    statement, result = _reconciled(disbursements, WRITERS[name](generate(disbursements, scenario)), name)

    debit_lines = sorted(line.line for line in statement.lines if line.is_debit)
    assert sorted(o.line.line for o in result.outcomes if o.kind in LINE_KINDS) == debit_lines
    kinds = {}
    for outcome in result.outcomes:
        if outcome.kind in (OutcomeKind.MATCHED, OutcomeKind.AMOUNT_MISMATCH, OutcomeKind.UNMATCHED_DISBURSEMENT):
            kinds.setdefault(outcome.disbursement.id, set()).add(outcome.kind)
    assert set(kinds) == {d.id for d in disbursements}
    assert all(len(found) == 1 for found in kinds.values())
    assert all(str(outcome.reason) for outcome in result.outcomes)


def test_a_bounced_transfer_shows_as_matched_and_returned(disbursements, scenario):
    generated = generate(disbursements, Scenario(returns=1))
    _statement, result = _reconciled(disbursements, to_csv(generated), "rk.csv")

    returned = [o for o in result.outcomes if o.kind == OutcomeKind.RETURNED]
    assert len(returned) == 1
    bounced = returned[0].disbursement
    kinds = sorted(o.kind for o in result.outcomes if o.disbursement == bounced)
    assert kinds == [OutcomeKind.MATCHED, OutcomeKind.RETURNED]
    assert returned[0].grant == bounced.grants[0]
    assert returned[0].reason.code == "return_full"


@pytest.mark.parametrize("name", WRITERS)
def test_the_statement_header_states_the_period_and_the_balances(disbursements, scenario, name):
    generated = generate(disbursements, scenario)
    statement = statement_parse(data=WRITERS[name](generated), file_name=name)

    assert (statement.header.period_from, statement.header.period_to) == generated.period
    assert statement.header.opening_balance == generated.opening_balance
    assert statement.header.closing_balance == generated.closing_balance
    assert statement.header.account == (ACCOUNT if name.endswith(".sta") else "")
    assert statement.format == {"csv": "csv", "xlsx": "xlsx", "sta": "mt940"}[name.rsplit(".", 1)[1]]


def test_an_mt940_file_of_several_messages_reads_as_one_statement(disbursements, scenario):
    generated = generate(disbursements, scenario)
    one = statement_parse(data=to_mt940(generated), file_name="rk.sta")
    three = statement_parse(data=to_mt940(generated, messages=3), file_name="rk.mt940")

    assert [line.identity for line in three.lines] == [line.identity for line in one.lines]
    assert three.header.closing_balance == one.header.closing_balance
