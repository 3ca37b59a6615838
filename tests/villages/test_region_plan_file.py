"""The plan file: written for review, read back (possibly hand-edited) and validated with line numbers."""

import pytest
from django.utils import translation

from villages.region_plan import (
    PLAN_COLUMNS,
    Change,
    PlanFileError,
    UnitRow,
    plan_changes,
    plan_parse,
    plan_read,
    plan_to_csv,
    plan_write,
)
from villages.services import RegionFileError

HEADER = ",".join(PLAN_COLUMNS) + "\n"

OLD = [
    UnitRow("18", "LAMPUNG", "province", "", ""),
    UnitRow("18.01", "KAB. LAMPUNG SELATAN", "regency", "18", "kabupaten"),
    UnitRow("18.01.04", "Natar", "district", "18.01", ""),
    UnitRow("18.01.04.2001", "Hajimena", "village", "18.01.04", "desa"),
    UnitRow("18.01.04.2002", "Sidodadi", "village", "18.01.04", "desa"),
    UnitRow("18.01.04.2003", "Rulung Helok", "village", "18.01.04", "desa"),
    UnitRow("18.01.04.2004", "Mandah", "village", "18.01.04", "desa"),
    UnitRow("18.01.04.2005", "Negara Ratu", "village", "18.01.04", "desa"),
    UnitRow("18.01.04.2006", "Merak Batin", "village", "18.01.04", "desa"),
]
NEW = [
    UnitRow("18", "Lampung", "province", "", ""),
    UnitRow("18.01", "Kabupaten Lampung Selatan", "regency", "18", "kabupaten"),
    UnitRow("18.01.04", "Natar", "district", "18.01", ""),
    UnitRow("18.01.04.2001", "Hajimena", "village", "18.01.04", "desa"),
    UnitRow("18.01.04.2002", "Sido Dadi", "village", "18.01.04", "desa"),
    UnitRow("18.01.04.1003", "Negara Ratu", "village", "18.01.04", "kelurahan"),
    UnitRow("18.01.04.2006", "Merak Batin", "village", "18.01.04", "desa"),
    UnitRow("18.01.15", "Natar Utara", "district", "18.01", ""),
    UnitRow("18.01.15.2001", "Rulung Helok", "village", "18.01.15", "desa"),
    UnitRow("18.01.15.2002", "Bumi Sari", "village", "18.01.15", "desa"),
]

EXPECTED_CSV = HEADER + (
    "18,18,rename,LAMPUNG,Lampung,province,"
    "\"same code, same name up to case, spacing or prefix ('LAMPUNG' ~ 'Lampung')\"\n"
    "18.01,18.01,rename,KAB. LAMPUNG SELATAN,Kabupaten Lampung Selatan,regency,"
    "\"same code, same name up to case, spacing or prefix ('KAB. LAMPUNG SELATAN' ~ 'Kabupaten Lampung Selatan')\"\n"
    ",18.01.15,new,,Natar Utara,district,no match in the old list\n"
    "18.01.04.2005,18.01.04.1003,kind_change,Negara Ratu,Negara Ratu,village,"
    '"same name in the same parent 18.01.04, renumbered; desa -> kelurahan"\n'
    "18.01.04.2002,18.01.04.2002,rename,Sidodadi,Sido Dadi,village,"
    "\"close spelling 'Sidodadi'~'Sido Dadi' (0.94), same code, unique in the same parent 18.01.04\"\n"
    "18.01.04.2004,,gone,Mandah,,village,no match in the new list\n"
    "18.01.04.2003,18.01.15.2001,recode,Rulung Helok,Rulung Helok,village,"
    '"same name, moved from 18.01.04 to 18.01.15, unique within 18.01"\n'
    ",18.01.15.2002,new,,Bumi Sari,village,no match in the old list\n"
)


def parse(text: str, **options):
    return plan_parse(text=text, old=OLD, new=NEW, **options)


def errors_of(text: str, **options) -> list[str]:
    with pytest.raises(PlanFileError) as caught:
        parse(text, **options)
    return caught.value.errors


def edited(old: str, new: str) -> str:
    """The planned CSV with one line changed, as a reviewer would in a spreadsheet."""
    assert old in EXPECTED_CSV
    return EXPECTED_CSV.replace(old, new)


def test_the_plan_is_written_with_one_row_per_changed_unit_in_a_stable_order():
    plan = plan_changes(old=OLD, new=NEW)

    assert plan_to_csv(plan) == EXPECTED_CSV
    assert plan.unchanged == {"province": 0, "regency": 0, "district": 1, "village": 2}


def test_a_written_plan_reads_back_as_the_same_plan(tmp_path):
    plan = plan_changes(old=OLD, new=NEW)
    path = tmp_path / "plan.csv"
    plan_write(plan=plan, path=path)

    read = plan_read(path=path, old=OLD, new=NEW)

    assert [(row.old_code, row.new_code, row.change, row.reason) for row in read.rows] == [
        (row.old_code, row.new_code, row.change, row.reason) for row in plan.rows
    ]
    assert read.unchanged == plan.unchanged
    assert (
        read.matches()
        == plan.matches()
        == {
            "18": "18",
            "18.01": "18.01",
            "18.01.04.2002": "18.01.04.2002",
            "18.01.04.2003": "18.01.15.2001",
            "18.01.04.2005": "18.01.04.1003",
        }
    )


def test_a_reviewer_may_turn_a_gone_and_a_new_unit_into_a_recode():
    text = edited("18.01.04.2004,,gone,Mandah,,village,no match in the new list\n", "").replace(
        ",18.01.15.2002,new,,Bumi Sari,village,no match in the old list\n",
        "18.01.04.2004,18.01.15.2002,recode,Mandah,Bumi Sari,village,renamed Bumi Sari by Perda 3/2024\n",
    )

    plan = parse(text)

    assert plan.matches()["18.01.04.2004"] == "18.01.15.2002"


@pytest.mark.parametrize(
    ("line", "replacement", "error"),
    [
        (
            ",18.01.15,new,,Natar Utara,district,no match in the old list\n",
            ",18.01.15,split,,Natar Utara,district,\n",
            "line 4: change 'split' is not one of rename, recode, kind_change, new, gone, unresolved",
        ),
        (
            ",18.01.15,new,,Natar Utara,district,no match in the old list\n",
            ",18.01.15,new,,Natar Utara,kecamatan,\n",
            "line 4: level 'kecamatan' is not one of province, regency, district, village",
        ),
        (
            "18.01.04.2004,,gone,Mandah,,village,no match in the new list\n",
            "18.01.04.2099,,gone,,,village,\n",
            "line 7: old code 18.01.04.2099 is not in the old list",
        ),
        (
            ",18.01.15.2002,new,,Bumi Sari,village,no match in the old list\n",
            ",18.01.15.2009,new,,Bumi Sari,village,\n",
            "line 9: new code 18.01.15.2009 is not in the new list",
        ),
        (
            "18.01.04.2003,18.01.15.2001,recode,Rulung Helok,Rulung Helok,village,",
            "18.01.04.2003,18.01.15,recode,Rulung Helok,,village,",
            "line 8: new code 18.01.15 is a district, the row says village",
        ),
        (
            "18.01.04.2003,18.01.15.2001,recode,Rulung Helok,Rulung Helok,village,",
            "18.01.04.2003,18.01.04.1003,recode,Rulung Helok,,village,",
            "line 8: new code 18.01.04.1003 is already on line 5: a unit is matched once",
        ),
        (
            "18.01.04.2005,18.01.04.1003,kind_change,",
            "18.01.04.2005,18.01.04.1003,recode,",
            "line 5: 18.01.04.2005 -> 18.01.04.1003 changes desa to kelurahan: use kind_change",
        ),
        (
            "18.01.04.2003,18.01.15.2001,recode,",
            "18.01.04.2003,18.01.15.2001,kind_change,",
            "line 8: kind_change needs a village whose kind changes; 18.01.04.2003 -> 18.01.15.2001 keeps it",
        ),
        (
            "18.01.04.2003,18.01.15.2001,recode,",
            "18.01.04.2003,18.01.15.2001,rename,",
            "line 8: rename keeps the code, but 18.01.04.2003 -> 18.01.15.2001: use recode",
        ),
        (
            "18.01.04.2002,18.01.04.2002,rename,Sidodadi,Sido Dadi,",
            "18.01.04.2002,18.01.04.2002,recode,Sidodadi,Sido Dadi,",
            "line 6: recode changes the code, but it stays 18.01.04.2002: use rename",
        ),
        (
            "18.01.04.2004,,gone,Mandah,,",
            "18.01.04.2004,18.01.15.2002,gone,Mandah,,",
            "line 7: gone takes no new_code (it has 18.01.15.2002)",
        ),
        (
            ",18.01.15,new,,Natar Utara,",
            ",18.01.15,new,,Natar Selatan,",
            "line 4: new_name 'Natar Selatan' is not the name of 18.01.15 ('Natar Utara')",
        ),
        (
            "18.01.04.2003,18.01.15.2001,recode,",
            "18.01.04.2003,,recode,",
            "line 8: recode needs an new_code",
        ),
    ],
)
def test_a_hand_edited_plan_with_a_wrong_row_is_refused_with_its_line_number(line, replacement, error):
    assert error in errors_of(edited(line, replacement))


def test_a_unit_left_out_of_the_plan_is_refused():
    errors = errors_of(edited("18.01.04.2004,,gone,Mandah,,village,no match in the new list\n", ""))

    assert errors == ["line 8: old village 18.01.04.2004 'Mandah' is not in the new list and has no row"]


def test_a_rename_left_out_of_the_plan_is_refused():
    text = edited(
        "18.01.04.2002,18.01.04.2002,rename,Sidodadi,Sido Dadi,village,"
        "\"close spelling 'Sidodadi'~'Sido Dadi' (0.94), same code, unique in the same parent 18.01.04\"\n",
        "",
    )

    assert errors_of(text) == ["line 8: 18.01.04.2002 is renamed 'Sidodadi' -> 'Sido Dadi' but has no row"]


def test_unresolved_rows_are_refused_for_applying_and_accepted_for_review():
    text = edited("18.01.04.2004,,gone,", "18.01.04.2004,,unresolved,")

    assert errors_of(text) == [
        "line 7: unresolved: decide it (rename, recode, kind_change, new or gone) before applying"
    ]
    assert [row.change for row in parse(text, allow_unresolved=True).rows].count(Change.UNRESOLVED) == 1


def test_a_plan_with_another_header_is_refused_on_line_1():
    errors = errors_of("old,new,change\n18,18,rename\n")

    assert errors == [
        "line 1: the header must be old_code,new_code,change,old_name,new_name,level,reason; it is old,new,change"
    ]


def test_a_row_with_too_many_fields_is_refused():
    errors = errors_of(edited("Lampung,province,", "Lampung,province,extra,"))

    assert errors == ["line 2: more fields than the header has columns"]


def test_every_problem_is_reported_at_once_in_line_order():
    text = edited(",18.01.15,new,,Natar Utara,district,", ",18.01.15,split,,Natar Utara,district,").replace(
        "18.01.04.2004,,gone,Mandah,,", "18.01.04.2099,,gone,Mandah,,"
    )

    errors = errors_of(text)

    assert errors[:2] == [
        "line 4: change 'split' is not one of rename, recode, kind_change, new, gone, unresolved",
        "line 7: old code 18.01.04.2099 is not in the old list",
    ]


def test_a_plan_file_that_is_not_utf8_is_refused_with_its_line(tmp_path):
    path = tmp_path / "plan.csv"
    path.write_bytes(HEADER.encode() + b"18,18,rename,LAMPUNG,Lamp\xfcng,province,\n")

    with pytest.raises(RegionFileError, match="line 2: not valid UTF-8"):
        plan_read(path=path, old=OLD, new=NEW)


def test_formulas_in_names_are_written_as_text_and_read_back_as_the_name():
    formula = '=HYPERLINK("http://x")'
    old = [*OLD[:3], UnitRow("18.01.04.2001", formula, "village", "18.01.04", "desa")]
    new = [*NEW[:3], UnitRow("18.01.04.2001", "Hajimena", "village", "18.01.04", "desa")]
    plan = plan_changes(old=old, new=new)

    text = plan_to_csv(plan)

    assert "'=HYPERLINK" in text
    assert plan_parse(text=text, old=old, new=new).rows[-1].old_name == formula


def test_the_change_labels_are_translated():
    with translation.override("id"):
        assert [str(label) for label in Change.labels] == [
            "Ganti nama",
            "Ganti kode",
            "Perubahan desa/kelurahan",
            "Wilayah baru",
            "Dihapus",
            "Belum diputuskan",
        ]
