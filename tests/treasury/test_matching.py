"""The matching core's rules, one per test, on hand-made lines and disbursements (no database)."""

import datetime

import pytest
from django.utils import translation

from treasury.matching import (
    DisbursementRef,
    GrantRef,
    OutcomeKind,
    Reason,
    ReconciliationInvariantError,
    check_invariants,
    reconcile,
)
from treasury.parsers.common import StatementLine

DAY = datetime.date(2024, 6, 3)
UNIT = 6_000_000


def disbursement(pk, reference, *villages, amount=None, date=DAY):
    grants = tuple(GrantRef(pk * 100 + i, code, name, UNIT) for i, (code, name) in enumerate(villages))
    return DisbursementRef(pk, reference, amount or UNIT * max(1, len(grants)), date, grants)


SIDOSARI = ("18.01.04.2002", "Sidosari")
HAJIMENA = ("18.01.04.2001", "Hajimena")
NATAR = ("18.01.04.2004", "Natar")
D1 = disbursement(1, "SP2D NO.0001/BL/2024", HAJIMENA)
D2 = disbursement(2, "SP2D NO.0002/BL/2024", SIDOSARI)
BATCH = disbursement(3, "SP2D-00003/LS/2024", HAJIMENA, SIDOSARI, NATAR)


def line(number, text, debit=0, credit=0, date=DAY, reference=""):
    return StatementLine(number, date, text, reference or f"BL{number:04d}", debit, credit)


def outcomes(lines, disbursements, **kwargs):
    kwargs.setdefault("period_from", DAY)
    kwargs.setdefault("period_to", DAY + datetime.timedelta(days=30))
    result = reconcile(lines=lines, disbursements=disbursements, **kwargs)
    return result, [
        (o.kind, o.line.line if o.line else None, o.disbursement.id if o.disbursement else None)
        for o in result.outcomes
    ]


def test_a_line_paying_an_sp2d_with_its_amount_is_matched():
    _result, found = outcomes([line(2, "TRF SP2D 0001/BL/2024", UNIT)], [D1])

    assert found == [(OutcomeKind.MATCHED, 2, 1)]


def test_a_line_paying_an_sp2d_with_another_amount_is_a_mismatch_at_the_banks_amount():
    result, found = outcomes([line(2, "sp2d no 0001 bl 2024", 5_000_000)], [D1])

    assert found == [(OutcomeKind.AMOUNT_MISMATCH, 2, 1)]
    assert result.amounts()[OutcomeKind.AMOUNT_MISMATCH] == 5_000_000
    assert result.outcomes[0].reason.params == {"reference": D1.reference, "paid": 5_000_000, "disbursed": UNIT}


def test_a_second_line_paying_a_matched_sp2d_is_a_duplicate_whichever_comes_first_in_the_file():
    lines = [
        line(3, "TRF SP2D 0001/BL/2024", UNIT),
        line(2, "TRF SP2D 0001/BL/2024", UNIT, date=DAY - datetime.timedelta(1)),
    ]

    result, found = outcomes(lines, [D1], period_from=DAY - datetime.timedelta(1))

    assert found == [(OutcomeKind.MATCHED, 2, 1), (OutcomeKind.DUPLICATE, 3, 1)]
    assert result.outcomes[1].reason.params["first_line"] == 2


def test_the_line_with_the_right_amount_is_matched_and_a_wrong_one_is_the_duplicate():
    _result, found = outcomes([line(2, "SP2D 0001/BL/2024", 1_000_000), line(3, "SP2D 0001/BL/2024", UNIT)], [D1])

    assert found == [(OutcomeKind.DUPLICATE, 2, 1), (OutcomeKind.MATCHED, 3, 1)]


def test_two_wrong_amounts_are_one_mismatch_and_one_duplicate():
    _result, found = outcomes([line(2, "SP2D 0001/BL/2024", 1), line(3, "SP2D 0001/BL/2024", 2)], [D1])

    assert found == [(OutcomeKind.AMOUNT_MISMATCH, 2, 1), (OutcomeKind.DUPLICATE, 3, 1)]


def test_a_debit_naming_no_sp2d_of_the_allocation_is_unmatched_and_says_which_number_it_names():
    result, found = outcomes([line(2, "TRF SP2D NO.0099/BL/2024", UNIT), line(3, "BIAYA ADM", 5000)], [])

    assert found == [(OutcomeKind.UNMATCHED_LINE, 2, None), (OutcomeKind.UNMATCHED_LINE, 3, None)]
    assert result.outcomes[0].reason == Reason("unknown_reference", {"token": "0099/BL/2024"})
    assert result.outcomes[1].reason == Reason("no_reference")


def test_a_disbursement_of_the_period_that_no_line_pays_is_unmatched():
    late = disbursement(9, "SP2D NO.0009/BL/2024", NATAR, date=DAY + datetime.timedelta(days=60))
    early = disbursement(8, "SP2D NO.0008/BL/2024", NATAR, date=DAY - datetime.timedelta(days=1))

    result, found = outcomes([], [D1, late, early])

    assert found == [(OutcomeKind.UNMATCHED_DISBURSEMENT, None, 1)]
    assert result.amounts()[OutcomeKind.UNMATCHED_DISBURSEMENT] == UNIT


def test_a_disbursement_dated_before_the_period_is_matched_when_a_line_pays_it():
    december = disbursement(9, "SP2D NO.0009/BL/2023", NATAR, date=datetime.date(2023, 12, 29))

    _result, found = outcomes([line(2, "SP2D 0009/BL/2023", UNIT)], [december])

    assert found == [(OutcomeKind.MATCHED, 2, 9)]


def test_a_credit_returning_an_sp2d_is_returned_and_its_debit_stays_matched():
    lines = [line(2, "TRF SP2D 0001/BL/2024", UNIT), line(3, "RETUR SP2D 0001/BL/2024 REK TUTUP", credit=UNIT)]

    result, found = outcomes(lines, [D1])

    assert found == [(OutcomeKind.MATCHED, 2, 1), (OutcomeKind.RETURNED, 3, 1)]
    assert result.outcomes[1].reason.code == "return_full"
    assert result.outcomes[1].grant == D1.grants[0]


def test_a_partial_return_says_so_and_a_credit_naming_no_sp2d_has_no_outcome():
    lines = [line(2, "SETOR SISA SP2D 0001/BL/2024", credit=1_000_000), line(3, "BUNGA JASA GIRO", credit=75_000)]

    result, found = outcomes(lines, [D1])

    assert found == [(OutcomeKind.RETURNED, 2, 1), (OutcomeKind.UNMATCHED_DISBURSEMENT, None, 1)]
    assert result.outcomes[0].reason.code == "return_partial"
    assert [credit.line for credit in result.other_credits] == [3]


def test_a_batch_paid_as_one_transfer_is_matched():
    _result, found = outcomes([line(2, "TRF SP2D-00003/LS/2024", 3 * UNIT)], [BATCH])

    assert found == [(OutcomeKind.MATCHED, 2, 3)]


def test_a_batch_paid_per_village_is_matched_on_each_line_with_its_village():
    lines = [
        line(2, "TRF SP2D-00003/LS/2024 DESA NATAR", UNIT),
        line(3, "TRF SP2D-00003/LS/2024 18.01.04.2001", UNIT),
        line(4, "TRF SP2D-00003/LS/2024 DESA SIDOSARI", UNIT),
    ]

    result, found = outcomes(lines, [BATCH])

    assert found == [(OutcomeKind.MATCHED, n, 3) for n in (2, 3, 4)]
    assert [o.grant.village_code for o in result.outcomes] == [NATAR[0], HAJIMENA[0], SIDOSARI[0]]


def test_an_incomplete_batch_is_a_mismatch_and_a_villages_second_transfer_a_duplicate():
    lines = [
        line(2, "TRF SP2D-00003/LS/2024 DESA NATAR", UNIT),
        line(3, "TRF SP2D-00003/LS/2024 DESA HAJIMENA", UNIT),
        line(4, "TRF SP2D-00003/LS/2024 DESA HAJIMENA", UNIT),
        line(5, "TRF SP2D-00003/LS/2024", 7),
    ]

    result, found = outcomes(lines, [BATCH])

    # Three grants of Rp6.000.000: three transfers of that amount cover them whatever the text says.
    assert [kind for kind, _line, _id in found] == [OutcomeKind.MATCHED] * 3 + [OutcomeKind.DUPLICATE]
    lines[2] = line(4, "TRF SP2D-00003/LS/2024 DESA HAJIMENA", 5)
    result, found = outcomes(lines, [BATCH])
    assert [kind for kind, _line, _id in found] == [OutcomeKind.AMOUNT_MISMATCH] * 2 + [OutcomeKind.DUPLICATE] * 2
    assert result.outcomes[0].reason.params | {} == {
        "reference": BATCH.reference,
        "found": 2,
        "legs": 3,
        "paid": 2 * UNIT,
        "disbursed": 3 * UNIT,
    }


def test_an_sp2d_confirmed_by_an_earlier_statement_is_a_duplicate_here_and_not_missing():
    result, found = outcomes([line(2, "SP2D 0001/BL/2024", UNIT)], [D1, D2], settled={1: "rk-mei.csv", 2: "rk-mei.csv"})

    assert found == [(OutcomeKind.DUPLICATE, 2, 1)]
    assert result.outcomes[0].reason.code == "paid_earlier"


def test_a_line_naming_two_sp2d_is_told_apart_by_its_amount_or_left_unmatched():
    other = disbursement(4, "SP2D NO.0004/BL/2024", NATAR, amount=4_000_000)
    text = "SP2D 0001/BL/2024 DAN SP2D 0004/BL/2024"

    result, found = outcomes([line(2, text, 4_000_000)], [D1, other])
    assert found == [(OutcomeKind.MATCHED, 2, 4), (OutcomeKind.UNMATCHED_DISBURSEMENT, None, 1)]
    assert result.outcomes[0].reason.notes[0].code == "chosen_by_amount"

    result, found = outcomes([line(2, text, 1)], [D1, other])
    assert found[0] == (OutcomeKind.UNMATCHED_LINE, 2, None)
    assert result.outcomes[0].reason.code == "ambiguous"


def test_notes_name_the_village_another_village_and_a_payment_before_the_sp2d():
    text = "TRF SP2D 0001/BL/2024 DESA HAJIMENA 18.01.04.2004"

    result, _found = outcomes([line(2, text, UNIT, date=DAY - datetime.timedelta(days=2))], [D1], period_from=None)

    assert [note.code for note in result.outcomes[0].reason.notes] == ["other_village", "names_village", "before_sp2d"]


def test_every_reason_reads_as_a_sentence(english):
    lines = [
        line(2, "TRF SP2D 0001/BL/2024 DESA HAJIMENA", UNIT),
        line(3, "TRF SP2D 0001/BL/2024", UNIT),
        line(4, "TRF SP2D 0099/BL/2024", 5),
        line(5, "RETUR SP2D 0001/BL/2024", credit=UNIT),
    ]

    result, _found = outcomes(lines, [D1, D2])

    assert [str(o.reason) for o in result.outcomes] == [
        "SP2D NO.0001/BL/2024 paid with its amount, Rp6,000,000. The text names Hajimena (18.01.04.2001).",
        "SP2D NO.0001/BL/2024 is already paid by line 2; this line pays it again.",
        "The bank's text names SP2D 0099/BL/2024, which this allocation does not have.",
        "Returns SP2D NO.0001/BL/2024 in full (Rp6,000,000): the grant's return is proposed.",
        "No line of this statement pays SP2D NO.0002/BL/2024 of 3 June 2024 (Rp6,000,000).",
    ]


def test_the_invariants_refuse_outcomes_that_lose_a_debit():
    lines = [line(2, "SP2D 0001/BL/2024", UNIT), line(3, "BIAYA", 5)]
    result, _found = outcomes(lines, [D1])
    broken = type(result)(outcomes=result.outcomes[:1], debit_total=result.debit_total)

    with pytest.raises(ReconciliationInvariantError):
        check_invariants(broken, lines=lines)


def test_reasons_and_refusals_read_in_bahasa_indonesia_by_default():
    result, _found = outcomes([line(2, "TRF SP2D 0001/BL/2024 DESA HAJIMENA", UNIT)], [D1])

    with translation.override("id"):
        assert str(result.outcomes[0].reason) == (
            "SP2D NO.0001/BL/2024 dibayar sesuai jumlahnya, Rp6.000.000. Keterangan menyebut Hajimena (18.01.04.2001)."
        )
        assert str(OutcomeKind.UNMATCHED_DISBURSEMENT.label) == "Tidak ada di rekening koran"
