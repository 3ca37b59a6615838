"""Reading statement files: the default layout, mapped layouts and MT940; bad files refused with the line
(the header is line 1), whole, before anything is written."""

import datetime
import hashlib
import io

import pytest
from openpyxl import Workbook

from smartvillage.templatetags.rupiah import rupiah
from tests.treasury.statements import generate, to_csv, to_mt940, to_xlsx
from treasury.parsers import StatementFileError, columns_parse, statement_format, statement_parse

HEADER = "tanggal,keterangan,referensi_bank,debet,kredit,saldo\n"
OPENING = ":20:RK1\n:25:0101010001234\n:28C:1/1\n:60F:C240101IDR100000000,00\n"


def refusal(data: bytes, name: str, **kwargs) -> list[tuple[int, str]]:
    with pytest.raises(StatementFileError) as caught:
        statement_parse(data=data, file_name=name, **kwargs)
    return caught.value.errors


def lines_of(errors) -> list[int]:
    return [line for line, _message in errors]


def csv(*rows: str, header: str = HEADER) -> bytes:
    return (header + "\n".join(rows) + "\n").encode()


def xlsx(*rows, header=("tanggal", "keterangan", "referensi_bank", "debet", "kredit", "saldo")) -> bytes:
    workbook = Workbook()
    workbook.active.append(list(header))
    for row in rows:
        workbook.active.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- the default layout ---------------------------------------------------------------------------


def test_it_reads_the_default_csv_layout_in_both_date_forms_and_with_or_without_separators():
    statement = statement_parse(
        data=csv(
            "2024-01-05,TRF SP2D NO.0012/BL/2024,BL001,6.000.000,,94.000.000",
            '05/01/2024,"RETUR, REK TUTUP",BL002,,"6.000.000,00",100000000',
            "2024-01-06,BIAYA ADM,BL003,5000,0,99995000",
        ),
        file_name="Rekening Koran Januari.CSV",
    )

    first, second, third = statement.lines
    assert (first.line, first.date, first.debit, first.credit, first.balance) == (
        2,
        datetime.date(2024, 1, 5),
        6_000_000,
        0,
        94_000_000,
    )
    assert (second.line, second.date, second.credit, second.description) == (
        3,
        datetime.date(2024, 1, 5),
        6_000_000,
        "RETUR, REK TUTUP",
    )
    assert (third.debit, third.credit) == (5000, 0)
    header = statement.header
    assert (header.period_from, header.period_to) == (datetime.date(2024, 1, 5), datetime.date(2024, 1, 6))
    assert (header.opening_balance, header.closing_balance) == (100_000_000, 99_995_000)
    assert statement.format == "csv"
    assert all(isinstance(value, int) for line in statement.lines for value in (line.debit, line.credit))


def test_referensi_bank_and_saldo_may_be_absent():
    statement = statement_parse(
        data=csv("2024-01-05,TRF,6000000,", header="Tanggal , KETERANGAN,Debet,Kredit\n"), file_name="rk.csv"
    )

    assert statement.lines[0].bank_reference == ""
    assert (statement.header.opening_balance, statement.header.closing_balance) == (None, None)


def test_a_semicolon_separated_csv_is_read_as_spreadsheets_in_indonesian_locales_write_it():
    data = b"tanggal;keterangan;referensi_bank;debet;kredit;saldo\n2024-01-05;TRF SP2D 1;R1;1.500.000;;\n"

    assert statement_parse(data=data, file_name="rk.csv").lines[0].debit == 1_500_000


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        ('"1.500,50"', "fraction of a rupiah"),
        ("1500000.50", "not a whole number"),
        ('"1,500,000"', "not a whole number"),
        ("1.5000.000", "not a whole number"),
        ("-6.000.000", "negative"),
        ("(6.000.000)", "negative"),
        ("\uff16000000", "digits 0-9"),  # full-width 6
        ("\u0666000000", "digits 0-9"),  # Arabic-Indic 6
        ("6e6", "not a whole number"),
        ("9" * 17, "implausibly large"),
    ],
)
def test_it_refuses_an_amount_that_is_not_integer_rupiah_with_its_line(amount, problem, english):
    errors = refusal(csv("2024-01-05,TRF,R1,1000,,", f"2024-01-06,TRF,R2,{amount},,"), "rk.csv")

    assert lines_of(errors) == [3]
    assert problem in errors[0][1]
    assert errors[0][1].startswith("debet:")


@pytest.mark.parametrize("date", ["31/02/2024", "2024/01/05", "5/1/2024", "05-01-2024", "", "2024-13-01", "٢٠٢٤-01-05"])
def test_it_refuses_a_date_in_another_form_with_its_line(date, english):
    errors = refusal(csv(f"{date},TRF,R1,1000,,"), "rk.csv")

    assert lines_of(errors) == [2]
    assert errors[0][1].startswith("tanggal:")


def test_it_lists_every_bad_line_of_the_file(english):
    errors = refusal(
        csv(
            "2024-01-05,TRF,R1,1000,,",
            "2024-01-05,TRF,R2,1000,1000,",
            "2024-01-05,TRF,R3,,,",
            "2024-01-32,TRF,R4,-5,,",
        ),
        "rk.csv",
    )

    assert lines_of(errors) == [3, 4, 5, 5]
    assert "not both" in errors[0][1]
    assert "neither" in errors[1][1]


def test_it_refuses_a_header_without_a_required_column_on_line_1(english):
    errors = refusal(csv("2024-01-05,TRF,1000,", header="tanggal,uraian,debet,kredit\n"), "rk.csv")

    assert errors == [(1, "the header has no column keterangan.")]


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"", 1),
        (HEADER.encode(), 1),
        (HEADER.encode() + b"2024-01-05,TRF \xff,R1,1,,\n", 2),
    ],
)
def test_it_refuses_an_empty_or_non_utf8_file(data, line):
    assert lines_of(refusal(data, "rk.csv")) == [line]


def test_a_running_saldo_that_does_not_follow_is_refused_at_its_line(english):
    errors = refusal(
        csv(
            "2024-01-05,TRF 1,R1,1.000.000,,99.000.000",
            "2024-01-05,TRF 2,R2,1.000.000,,98.000.000",
            "2024-01-06,TRF 3,R3,1.000.000,,96.000.000",  # one million too little
            "2024-01-06,TRF 4,R4,,500.000,96.500.000",
        ),
        "rk.csv",
    )

    assert lines_of(errors) == [4]
    assert f"expected {rupiah(97_000_000)}" in errors[0][1]


def test_lines_without_a_saldo_still_count_towards_the_next_one():
    statement = statement_parse(
        data=csv("2024-01-05,TRF 1,R1,1.000.000,,", "2024-01-05,TRF 2,R2,1.000.000,,98.000.000"), file_name="rk.csv"
    )

    assert (statement.header.opening_balance, statement.header.closing_balance) == (100_000_000, 98_000_000)


# --- other layouts --------------------------------------------------------------------------------

BANK_HEADER = "Tgl,Uraian Transaksi,No. Ref,Mutasi Debet,Mutasi Kredit,Saldo Akhir\n"
MAPPING = (
    "tanggal=Tgl,keterangan=Uraian Transaksi,referensi_bank=No. Ref,"
    "debet=Mutasi Debet,kredit=Mutasi Kredit,saldo=Saldo Akhir"
)


def test_another_layout_is_read_through_a_column_mapping():
    data = csv("05/01/2024,TRF SP2D 0012,R1,6.000.000,,94.000.000", header=BANK_HEADER)

    statement = statement_parse(data=data, file_name="rk.csv", columns=columns_parse(MAPPING))

    line = statement.lines[0]
    assert (line.description, line.bank_reference, line.debit, line.balance) == (
        "TRF SP2D 0012",
        "R1",
        6_000_000,
        94_000_000,
    )
    assert lines_of(refusal(data, "rk.csv")) == [1, 1, 1, 1]  # without the mapping: no such columns


def test_a_mapped_layout_works_for_xlsx_too():
    data = xlsx(
        (datetime.date(2024, 1, 5), "TRF", "R1", 6_000_000, None, 94_000_000),
        header=("Tgl", "Uraian Transaksi", "No. Ref", "Mutasi Debet", "Mutasi Kredit", "Saldo Akhir"),
    )

    assert statement_parse(data=data, file_name="rk.xlsx", columns=columns_parse(MAPPING)).lines[0].debit == 6_000_000


def test_a_mapped_column_missing_from_the_file_is_named(english):
    errors = refusal(csv("2024-01-05,TRF,R1,1,,1"), "rk.csv", columns=columns_parse("saldo=Saldo Akhir"))

    assert errors == [(1, "the header has no column Saldo Akhir (for saldo).")]


@pytest.mark.parametrize("text", ["tanggal", "jumlah=Jumlah", "tanggal=", "=Tgl"])
def test_a_mapping_that_is_not_column_equals_header_is_refused(text):
    with pytest.raises(ValueError):
        columns_parse(text)


# --- XLSX -----------------------------------------------------------------------------------------


def test_it_reads_xlsx_cells_as_typed_and_text_amounts_with_separators():
    excel_time = datetime.datetime(2024, 1, 5, 0, 0)  # noqa: DTZ001 (Excel's date-times are naive)
    statement = statement_parse(
        data=xlsx(
            (excel_time, "TRF 1", "R1", 6_000_000, None, 94_000_000),
            ("06/01/2024", "TRF 2", "R2", "1.000.000", None, 93_000_000.0),
        ),
        file_name="rk.xlsx",
    )

    assert [(line.line, line.date, line.debit, line.balance) for line in statement.lines] == [
        (2, datetime.date(2024, 1, 5), 6_000_000, 94_000_000),
        (3, datetime.date(2024, 1, 6), 1_000_000, 93_000_000),
    ]
    assert statement.format == "xlsx"


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        (1500.5, "fraction"),
        (-6_000_000, "negative"),
        ("1.500,50", "fraction"),
        (True, "not an amount"),
        (2.0**60, "fraction"),
    ],
)
def test_it_refuses_an_xlsx_amount_that_is_not_integer_rupiah_with_its_row(cell, problem, english):
    errors = refusal(xlsx(("2024-01-05", "TRF", "R1", 1000), ("2024-01-05", "TRF", "R2", cell)), "rk.xlsx")

    assert lines_of(errors) == [3]
    assert problem in errors[0][1]


def test_it_refuses_an_xlsx_date_in_another_form_and_a_saldo_that_does_not_follow(english):
    errors = refusal(
        xlsx(
            ("2024-01-05", "TRF", "R1", 1000, None, 99_000),
            ("2024/01/05", "TRF", "R2", 1000, None, 98_000),
            ("2024-01-06", "TRF", "R3", 1000, None, 90_000),
        ),
        "rk.xlsx",
    )

    assert lines_of(errors) == [3, 4]


def test_a_file_named_xlsx_that_is_no_workbook_is_refused(english):
    assert refusal(b"tanggal,keterangan\n", "rk.xlsx") == [(0, "The file is not an XLSX workbook.")]


# --- MT940 ----------------------------------------------------------------------------------------


def mt940(*tags: str, opening: str = OPENING) -> bytes:
    return (opening + "\n".join(tags) + "\n").encode()


def test_it_reads_mt940_with_the_line_of_each_statement_line():
    data = mt940(
        ":61:2401050105D6000000,00NTRFNONREF//BL001",
        ":86:TRF SP2D NO.0012/BL/2024",
        "DESA HAJIMENA",
        ":61:2401060106C1000000,00NTRF0012/BL/2024//BL002",
        ":86:RETUR",
        ":62F:C240131IDR95000000,00",
    )

    statement = statement_parse(data=data, file_name="rk.STA")

    debit, credit = statement.lines
    assert (debit.line, debit.debit, debit.bank_reference, debit.description) == (
        5,
        6_000_000,
        "BL001",
        "TRF SP2D NO.0012/BL/2024 DESA HAJIMENA",
    )
    assert (credit.line, credit.credit, credit.description) == (8, 1_000_000, "0012/BL/2024 RETUR")
    assert type(debit.date) is datetime.date
    header = statement.header
    assert (header.account, header.opening_balance, header.closing_balance) == (
        "0101010001234",
        100_000_000,
        95_000_000,
    )
    assert (header.period_from, header.period_to) == (datetime.date(2024, 1, 1), datetime.date(2024, 1, 31))


@pytest.mark.parametrize(
    ("tag", "problem"),
    [
        (":61:2401050105D6000000,50NTRFNONREF//BL001", "fraction of a rupiah"),
        (":61:2401050105X6000000,00NTRFNONREF//BL001", "cannot be read"),
        (":61:2413050105D6000000,00NTRFNONREF//BL001", "cannot be read"),  # month 13
        (":61:2401050105D6000000,00", "no transaction type code"),
    ],
)
def test_it_refuses_a_bad_mt940_statement_line_with_its_line(tag, problem, english):
    errors = refusal(mt940(":61:2401040104D1,00NTRFNONREF//BL000", ":86:ADM", tag, ":86:TRF"), "rk.sta")

    assert lines_of(errors) == [7]
    assert problem in errors[0][1]


def test_mt940_balances_that_do_not_add_up_are_refused_at_the_closing_balance(english):
    errors = refusal(
        mt940(":61:2401050105D6000000,00NTRFNONREF//BL001", ":86:TRF", ":62F:C240131IDR96000000,00"), "rk.mt940"
    )

    assert errors == [
        (
            7,
            "the closing balance Rp96,000,000 is not the opening balance Rp100,000,000 plus the lines "
            "(Rp94,000,000 expected).",
        )
    ]


def test_an_mt940_message_must_open_where_the_previous_one_closed(english):
    data = mt940(
        ":61:2401050105D6000000,00NTRFNONREF//BL001",
        ":62F:C240105IDR94000000,00",
        ":20:RK2",
        ":60F:C240106IDR90000000,00",
        ":62F:C240106IDR90000000,00",
    )

    assert lines_of(refusal(data, "rk.sta")) == [8]


def test_an_mt940_statement_in_another_currency_is_refused(english):
    errors = refusal(mt940(":62F:C240131EUR100,00", opening=OPENING.replace("IDR100000000", "EUR100")), "rk.sta")

    assert lines_of(errors) == [4, 5]
    assert "EUR" in errors[0][1]


def test_a_txt_file_that_is_no_mt940_statement_is_refused_on_line_1(english):
    assert lines_of(refusal(HEADER.encode(), "rk.txt")) == [1]


# --- all formats ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rk.pdf", "rk.xls", "rk", "rk.csv.gz"])
def test_the_format_is_recognised_from_the_file_name_only(name):
    with pytest.raises(StatementFileError) as caught:
        statement_format(name)
    assert lines_of(caught.value.errors) == [0]


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.csv", "csv"), ("a.XLSX", "xlsx"), ("a.sta", "mt940"), ("a.mt940", "mt940"), ("a.txt", "mt940")],
)
def test_each_suffix_names_its_format(name, kind):
    assert statement_format(name) == kind


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "writer"), [("rk.csv", to_csv), ("rk.xlsx", to_xlsx), ("rk.sta", to_mt940)])
def test_parsing_reads_and_writes_nothing_in_the_database(
    disbursements, scenario, django_assert_num_queries, name, writer
):
    data = writer(generate(disbursements, scenario))

    with django_assert_num_queries(0):
        statement = statement_parse(data=data, file_name=name)
    assert statement.sha256 == hashlib.sha256(data).hexdigest()


def test_the_same_file_has_the_same_hash_and_a_changed_one_another():
    data = csv("2024-01-05,TRF,R1,1000,,")

    first = statement_parse(data=data, file_name="januari.csv")
    again = statement_parse(data=data, file_name="januari-lagi.csv")
    changed = statement_parse(data=data.replace(b"1000", b"1001"), file_name="januari.csv")

    assert first.sha256 == again.sha256 != changed.sha256


def test_equal_lines_of_one_file_are_told_apart_by_their_occurrence():
    statement = statement_parse(
        data=csv("2024-01-05,TRF DESA A,,6000000,,", "2024-01-05,TRF DESA B,,6000000,,", "2024-01-05,TRF,,,6000000,"),
        file_name="rk.csv",
    )

    identities = [line.identity for line in statement.lines]
    assert identities[0][:3] == identities[1][:3]
    assert [identity[3] for identity in identities] == [1, 2, 1]
    assert len(set(identities)) == 3


def test_an_overlapping_statement_shares_the_identity_of_the_lines_both_hold():
    day1 = ["2024-01-05,TRF 1,BL001,6.000.000,,", "2024-01-05,TRF 2,,6.000.000,,"]
    day2 = ["2024-01-06,TRF 3,BL003,6.000.000,,", "2024-01-06,TRF 4,,6.000.000,,"]
    day3 = ["2024-01-07,TRF 5,BL005,6.000.000,,"]
    first = statement_parse(data=csv(*day1, *day2), file_name="rk1.csv")
    second = statement_parse(data=csv(*day2, *day3), file_name="rk2.csv")

    known = {line.identity for line in first.lines}
    new = [line.description for line in second.lines if line.identity not in known]
    assert new == ["TRF 5"]


def test_a_refusal_names_the_lines_in_its_fields(english):
    with pytest.raises(StatementFileError) as caught:
        statement_parse(data=csv("2024-01-05,TRF,R1,-1,,"), file_name="rk.csv")

    assert caught.value.fields == {
        "file": ["Line 2: debet: -1 is negative; money out is written in debet, money in in kredit."]
    }
    assert caught.value.message == "The statement file was refused; nothing was imported."


def test_it_refuses_overlong_cells_with_their_line(english):
    errors = refusal(csv(f"2024-01-05,{'x' * 1001},R1,1,,", f"2024-01-05,TRF,{'R' * 101},1,,"), "rk.csv")

    assert errors == [
        (2, "keterangan: longer than 1000 characters."),
        (3, "referensi_bank: longer than 100 characters."),
    ]
