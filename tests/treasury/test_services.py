"""The import service: a statement persisted for an allocation once, every line and disbursement in one
outcome, overlapping statements counted once, staff's resolutions never touched by an import."""

import dataclasses
import datetime
import threading

import pytest
from django.db import connection, connections

from accounts.models import AuditAction, AuditEntry
from grants.models import Disbursement, Grant, GrantEvent, GrantStatus
from smartvillage.errors import ApplicationError, TransitionRefused
from tests.treasury.statements import Generated, Scenario, generate, to_csv, to_mt940, to_xlsx
from treasury.matching import LINE_KINDS
from treasury.models import Outcome, OutcomeKind, Resolution, ResolutionAction, Statement, StatementLine
from treasury.parsers import StatementFileError, statement_parse
from treasury.services import outcome_resolve, outcome_return_record, reason_from_json, statement_import

pytestmark = pytest.mark.django_db

WRITERS = {"rk.csv": to_csv, "rk.xlsx": to_xlsx, "rk.sta": to_mt940}


def parsed(generated: Generated, name: str = "rk.csv"):
    return statement_parse(data=WRITERS[name](generated), file_name=name)


def stored_counts(allocation) -> dict[str, int]:
    counts = dict.fromkeys(OutcomeKind.values, 0)
    for kind in Outcome.objects.filter(allocation=allocation).values_list("kind", flat=True):
        counts[kind] += 1
    return counts


@pytest.mark.parametrize("name", WRITERS)
def test_an_import_stores_every_line_and_outcome_with_the_known_counts(allocation, disbursements, staff, name):
    generated = generate(disbursements, Scenario())

    report = statement_import(allocation=allocation, parsed=parsed(generated, name), actor=staff)

    assert report.counts == generated.counts
    assert report.amounts == generated.amounts
    assert report.line_outcomes_total == report.debit_total == sum(row.debit for row in generated.rows)
    statement = Statement.objects.get()
    assert statement == report.statement and statement.allocation == allocation
    assert StatementLine.objects.filter(statement=statement).count() == len(generated.rows)
    assert stored_counts(allocation) == generated.counts
    stored = Outcome.objects.filter(kind__in=LINE_KINDS)
    assert sum(stored.values_list("amount", flat=True)) == statement.debit_total
    # Every stored outcome gives its reason in words; a disbursement's regency is kept for the scope.
    for outcome in Outcome.objects.all():
        assert str(reason_from_json(outcome.reason))
        assert (outcome.regency_id is None) == (outcome.kind == OutcomeKind.UNMATCHED_LINE)
    assert AuditEntry.objects.filter(action=AuditAction.STATEMENT_IMPORTED, object_id=str(statement.pk)).exists()


def test_a_dry_run_reports_the_same_and_writes_nothing(allocation, disbursements, staff):
    generated = generate(disbursements, Scenario())

    report = statement_import(allocation=allocation, parsed=parsed(generated), actor=staff, dry_run=True)

    assert report.counts == generated.counts and report.dry_run and report.statement is None
    assert not Statement.objects.exists() and not StatementLine.objects.exists() and not Outcome.objects.exists()


def test_importing_the_same_file_again_changes_nothing(allocation, disbursements, staff):
    generated = generate(disbursements, Scenario())
    first = statement_import(allocation=allocation, parsed=parsed(generated), actor=staff)
    rows = (Statement.objects.count(), StatementLine.objects.count(), Outcome.objects.count())

    again = statement_import(allocation=allocation, parsed=parsed(generated), actor=staff)

    assert again.already_imported and again.statement == first.statement
    assert again.counts == first.counts and again.amounts == first.amounts
    assert (Statement.objects.count(), StatementLine.objects.count(), Outcome.objects.count()) == rows


def test_the_same_lines_in_another_format_are_not_counted_twice(allocation, disbursements, staff):
    generated = generate(disbursements, Scenario())
    statement_import(allocation=allocation, parsed=parsed(generated, "rk.csv"), actor=staff)
    counts = stored_counts(allocation)

    report = statement_import(allocation=allocation, parsed=parsed(generated, "rk.sta"), actor=staff)

    assert report.new_lines == 0 and report.known_lines == len(generated.rows)
    assert report.known_debit == report.debit_total
    assert sum(report.counts.values()) == 0
    assert stored_counts(allocation) == counts
    assert Statement.objects.count() == 2


def test_an_overlapping_statement_adds_only_its_new_lines(allocation, disbursements, staff):
    generated = generate(disbursements, Scenario())
    first = statement_import(allocation=allocation, parsed=parsed(generated), actor=staff)
    # The next statement repeats the first one's lines and adds a day: one more payment of an exactly
    # paid SP2D (the bank paid it a third time), one unknown debit, one interest credit.
    day = generated.period[1] + datetime.timedelta(days=1)
    paid = next(row for row in generated.rows if row.debit and "SP2D" in row.description.upper())
    extra = [
        dataclasses.replace(paid, date=day, bank_reference="BL90000001"),
        dataclasses.replace(paid, date=day, description="PEMINDAHBUKUAN KAS", bank_reference="BL90000002"),
        dataclasses.replace(paid, date=day, description="BUNGA", bank_reference="JG9", debit=0, credit=80_000),
    ]
    rows = generated.rows + extra
    balances = list(generated.balances)
    for row in extra:
        balances.append(balances[-1] + row.credit - row.debit)
    overlapping = Generated(rows=rows, counts={}, amounts={}, balances=balances)

    report = statement_import(allocation=allocation, parsed=parsed(overlapping), actor=staff)

    assert report.known_lines == len(generated.rows) and report.new_lines == 3
    new = {kind: count for kind, count in report.counts.items() if count}
    assert new == {OutcomeKind.DUPLICATE: 1, OutcomeKind.UNMATCHED_LINE: 1}
    assert report.line_outcomes_total == 2 * paid.debit == report.new_debit
    assert report.known_debit + report.new_debit == report.debit_total
    expected = dict(first.counts)
    expected[OutcomeKind.DUPLICATE] += 1
    expected[OutcomeKind.UNMATCHED_LINE] += 1
    # The disbursements the first statement reported missing are not reported missing again.
    assert stored_counts(allocation) == expected
    assert StatementLine.objects.count() == len(rows)
    duplicate = Outcome.objects.get(statement=report.statement, kind=OutcomeKind.DUPLICATE)
    assert reason_from_json(duplicate.reason).code == "paid_earlier"


def test_stated_balances_that_do_not_add_up_are_refused_and_nothing_is_written(allocation, disbursements, staff):
    statement = parsed(generate(disbursements, Scenario()), "rk.sta")
    header = dataclasses.replace(statement.header, closing_balance=statement.header.closing_balance + 1)

    with pytest.raises(StatementFileError):
        statement_import(allocation=allocation, parsed=dataclasses.replace(statement, header=header), actor=staff)

    assert not Statement.objects.exists() and not StatementLine.objects.exists()


# --- resolutions ---------------------------------------------------------------------------------


@pytest.fixture
def imported(allocation, disbursements, staff):
    generated = generate(disbursements, Scenario())
    return statement_import(allocation=allocation, parsed=parsed(generated), actor=staff)


def test_staff_match_an_unknown_line_by_hand_with_a_reason_once(imported, staff):
    outcome = Outcome.objects.filter(kind=OutcomeKind.UNMATCHED_LINE).first()
    disbursement = Disbursement.objects.filter(allocation=outcome.allocation).first()

    resolution = outcome_resolve(
        outcome=outcome, actor=staff, action="manual_match", reason="SP2D ditulis salah", disbursement=disbursement
    )

    assert resolution.action == ResolutionAction.MANUAL_MATCH and resolution.disbursement == disbursement
    assert AuditEntry.objects.filter(action=AuditAction.OUTCOME_RESOLVED, object_id=str(resolution.pk)).exists()
    with pytest.raises(TransitionRefused):
        outcome_resolve(outcome=outcome, actor=staff, action="explained", reason="lagi")
    with pytest.raises(TypeError):
        resolution.delete()


@pytest.mark.parametrize(
    ("kind", "action", "reason", "field"),
    [
        (OutcomeKind.UNMATCHED_LINE, "explained", "  ", "reason"),
        (OutcomeKind.UNMATCHED_LINE, "manual_match", "alasan", "disbursement"),
        (OutcomeKind.UNMATCHED_DISBURSEMENT, "manual_match", "alasan", "action"),
        (OutcomeKind.UNMATCHED_LINE, "delete", "alasan", "action"),
    ],
)
def test_a_resolution_without_what_it_needs_is_refused(imported, staff, kind, action, reason, field):
    outcome = Outcome.objects.filter(kind=kind).first()

    with pytest.raises(ApplicationError) as refused:
        outcome_resolve(outcome=outcome, actor=staff, action=action, reason=reason)

    assert field in refused.value.fields
    assert not Resolution.objects.exists()


def test_a_matched_line_has_nothing_to_resolve(imported, staff):
    with pytest.raises(TransitionRefused):
        outcome_resolve(
            outcome=Outcome.objects.filter(kind=OutcomeKind.MATCHED).first(),
            actor=staff,
            action="explained",
            reason="x",
        )


def test_a_later_import_never_overwrites_a_resolution(allocation, disbursements, staff):
    generated = generate(disbursements, Scenario())
    statement_import(allocation=allocation, parsed=parsed(generated), actor=staff)
    outcome = Outcome.objects.filter(kind=OutcomeKind.AMOUNT_MISMATCH).first()
    resolution = outcome_resolve(outcome=outcome, actor=staff, action="explained", reason="Potongan biaya bank")

    statement_import(allocation=allocation, parsed=parsed(generated, "rk.sta"), actor=staff)

    assert list(Resolution.objects.values_list("pk", "outcome_id", "action", "reason")) == [
        (resolution.pk, outcome.pk, "explained", "Potongan biaya bank")
    ]
    outcome.refresh_from_db()
    assert outcome.kind == OutcomeKind.AMOUNT_MISMATCH


def test_a_bank_return_is_recorded_through_the_grants_return_service(imported, staff):
    outcome = Outcome.objects.select_related("line").get(kind=OutcomeKind.RETURNED)

    resolution = outcome_return_record(outcome=outcome, actor=staff)

    grant = Grant.objects.get(pk=outcome.grant_id)
    assert grant.status == GrantStatus.RETURNED and grant.returned_amount == outcome.line.credit
    event = GrantEvent.objects.filter(grant=grant, action="return").get()
    assert event.reference == outcome.line.bank_reference and event.amount == outcome.line.credit
    assert resolution.action == ResolutionAction.RETURN_RECORDED
    with pytest.raises(TransitionRefused):
        outcome_return_record(outcome=outcome, actor=staff)
    assert GrantEvent.objects.filter(grant=grant, action="return").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_one_file_at_once_make_one_statement(allocation, disbursements, staff):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    statement = parsed(generate(disbursements, Scenario()))
    start = threading.Barrier(2)
    reports, errors = [], []

    def run():
        try:
            start.wait()
            reports.append(statement_import(allocation=allocation, parsed=statement, actor=staff))
        except Exception as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Statement.objects.count() == 1
    assert sorted(report.already_imported for report in reports) == [False, True]
    assert StatementLine.objects.count() == len(statement.lines)
