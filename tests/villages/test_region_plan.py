"""The region planner: which units a newer Kemendagri list renames, moves, renumbers, creates or removes.

No test here touches the database (none is marked django_db): planning is pure.
"""

import csv
import random
from collections import Counter
from pathlib import Path

import pytest

from villages.region_plan import (
    DATA_DIR,
    Change,
    PlanFileError,
    UnitRow,
    decrees_read,
    name_key,
    plan_changes,
    plan_parse,
    plan_to_csv,
    units_read,
)

# --- small hand-made lists -------------------------------------------------------------------------------

LAMPUNG = UnitRow("18", "Lampung", "province", "", "")
SELATAN = UnitRow("18.01", "Kabupaten Lampung Selatan", "regency", "18", "kabupaten")
NATAR = UnitRow("18.01.04", "Natar", "district", "18.01", "")
KALIANDA = UnitRow("18.01.05", "Kalianda", "district", "18.01", "")


def village(code: str, name: str) -> UnitRow:
    kind = {"1": "kelurahan", "2": "desa", "3": "desa_adat"}[code[9]]
    return UnitRow(code, name, "village", code[:8], kind)


def base(*villages: UnitRow) -> list[UnitRow]:
    return [LAMPUNG, SELATAN, NATAR, KALIANDA, *villages]


def rows_by_change(plan) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for row in plan.rows:
        found.setdefault(row.change, []).append((row.old_code, row.new_code))
    return found


def test_an_identical_list_plans_no_change():
    units = base(village("18.01.04.2001", "Hajimena"), village("18.01.04.2002", "Pemanggilan"))

    plan = plan_changes(old=units, new=list(units))

    assert plan.rows == []
    assert plan.unchanged == {"province": 1, "regency": 1, "district": 2, "village": 2}


def test_a_respelling_under_the_same_code_is_a_rename_explained_as_a_close_spelling():
    plan = plan_changes(old=base(village("18.01.04.2001", "Sidodadi")), new=base(village("18.01.04.2001", "Sido Dadi")))

    (row,) = plan.rows
    assert (row.old_code, row.new_code, row.change) == ("18.01.04.2001", "18.01.04.2001", Change.RENAME)
    assert row.reason == "close spelling 'Sidodadi'~'Sido Dadi' (0.94), same code, unique in the same parent 18.01.04"


def test_a_new_name_under_the_same_code_is_a_rename_when_nothing_contradicts_it():
    plan = plan_changes(
        old=base(village("18.01.04.2001", "Putra Dewa")), new=base(village("18.01.04.2001", "Kota Dewa"))
    )

    (row,) = plan.rows
    assert row.change == Change.RENAME
    assert row.reason.startswith("same code, renamed 'Putra Dewa' -> 'Kota Dewa'")


def test_a_prefix_or_case_change_of_a_regency_is_a_rename_that_says_so():
    old = [
        UnitRow("18", "LAMPUNG", "province", "", ""),
        UnitRow("18.01", "KAB. LAMPUNG SELATAN", "regency", "18", "kabupaten"),
    ]
    new = [LAMPUNG, SELATAN]

    plan = plan_changes(old=old, new=new)

    assert [(row.old_code, row.change) for row in plan.rows] == [("18", "rename"), ("18.01", "rename")]
    assert plan.rows[1].reason == (
        "same code, same name up to case, spacing or prefix ('KAB. LAMPUNG SELATAN' ~ 'Kabupaten Lampung Selatan')"
    )


def test_a_village_renumbered_in_its_district_is_a_recode():
    plan = plan_changes(old=base(village("18.01.04.2001", "Hajimena")), new=base(village("18.01.04.2009", "Hajimena")))

    (row,) = plan.rows
    assert (row.old_code, row.new_code, row.change) == ("18.01.04.2001", "18.01.04.2009", Change.RECODE)
    assert row.reason == "same name in the same parent 18.01.04, renumbered"


def test_a_desa_that_becomes_a_kelurahan_is_a_kind_change():
    plan = plan_changes(old=base(village("18.01.04.2001", "Hajimena")), new=base(village("18.01.04.1001", "Hajimena")))

    (row,) = plan.rows
    assert (row.old_code, row.new_code, row.change) == ("18.01.04.2001", "18.01.04.1001", Change.KIND_CHANGE)
    assert row.reason.endswith("; desa -> kelurahan")


def test_villages_moved_to_a_new_district_are_recodes_and_the_district_is_new():
    old = base(village("18.01.04.2001", "Hajimena"), village("18.01.04.2002", "Rulung Helok"))
    split = UnitRow("18.01.15", "Natar Utara", "district", "18.01", "")
    new = [*base(village("18.01.04.2001", "Hajimena")), split, village("18.01.15.2001", "Rulung Helok")]

    plan = plan_changes(old=old, new=new)

    assert rows_by_change(plan) == {"new": [("", "18.01.15")], "recode": [("18.01.04.2002", "18.01.15.2001")]}
    assert plan.rows[1].reason == "same name, moved from 18.01.04 to 18.01.15, unique within 18.01"


def test_a_reused_code_is_not_a_rename_when_the_old_name_moved_elsewhere():
    # 18.01.04.2002 now names another village; Rulung Helok moved to Kalianda.
    old = base(village("18.01.04.2002", "Rulung Helok"))
    new = base(village("18.01.04.2002", "Mandah"), village("18.01.05.2001", "Rulung Helok"))

    plan = plan_changes(old=old, new=new)

    assert rows_by_change(plan) == {"recode": [("18.01.04.2002", "18.01.05.2001")], "new": [("", "18.01.04.2002")]}


def test_a_regency_moved_to_another_province_keeps_its_subtree():
    papua = UnitRow("91", "P A P U A", "province", "", "")
    merauke = UnitRow("91.01", "KAB. MERAUKE", "regency", "91", "kabupaten")
    district = UnitRow("91.01.01", "Merauke", "district", "91.01", "")
    desa = UnitRow("91.01.01.2001", "Buti", "village", "91.01.01", "desa")
    selatan = UnitRow("93", "Papua Selatan", "province", "", "")
    new = [
        UnitRow("91", "Papua", "province", "", ""),
        selatan,
        UnitRow("93.01", "Kabupaten Merauke", "regency", "93", "kabupaten"),
        UnitRow("93.01.01", "Merauke", "district", "93.01", ""),
        UnitRow("93.01.01.2001", "Buti", "village", "93.01.01", "desa"),
    ]

    plan = plan_changes(old=[papua, merauke, district, desa], new=new)

    assert [(row.old_code, row.new_code, row.change) for row in plan.rows] == [
        ("91", "91", "rename"),
        ("", "93", "new"),
        ("91.01", "93.01", "recode"),
        ("91.01.01", "93.01.01", "recode"),
        ("91.01.01.2001", "93.01.01.2001", "recode"),
    ]
    assert plan.rows[2].reason == "same name, moved from 91 to 93, unique nationally"
    assert plan.rows[3].reason == "same name in matched parent 93.01 (was 91.01)"


def test_a_village_with_two_namesakes_in_other_districts_is_unresolved_not_guessed():
    old = base(village("18.01.04.2001", "Sukamaju"))
    split = UnitRow("18.01.15", "Natar Utara", "district", "18.01", "")
    new = [*base(village("18.01.05.2009", "Sukamaju")), split, village("18.01.15.2001", "Sukamaju")]

    plan = plan_changes(old=old, new=new)

    assert rows_by_change(plan) == {
        "unresolved": [("18.01.04.2001", ""), ("", "18.01.05.2009"), ("", "18.01.15.2001")],
        "new": [("", "18.01.15")],
    }
    unresolved = [row for row in plan.rows if row.change == "unresolved"]
    assert all(row.reason.startswith("ambiguous, same name within 18.01; candidates") for row in unresolved)
    assert unresolved[0].reason.endswith("candidates 18.01.05.2009 'Sukamaju', 18.01.15.2001 'Sukamaju'")


def test_namesakes_in_one_district_keep_their_codes():
    old = base(village("18.01.04.2001", "Sukamaju"), village("18.01.04.2002", "Sukamaju"))
    new = base(village("18.01.04.2001", "Sukamaju"), village("18.01.04.2002", "Suka Maju"))

    plan = plan_changes(old=old, new=new)

    assert rows_by_change(plan) == {"rename": [("18.01.04.2002", "18.01.04.2002")]}


def test_a_name_found_elsewhere_that_the_codes_contradict_is_unresolved():
    # Ujung Tanah (11.12.03.2030 in 2022) may have moved to 11.12.07.2004, or both villages were renamed in place.
    old = base(village("18.01.04.2030", "Ujung Tanah"), village("18.01.05.2004", "Ujong Tanoh"))
    new = base(village("18.01.04.2030", "Ujung Padang"), village("18.01.05.2004", "Ujung Tanah"))

    plan = plan_changes(old=old, new=new)

    assert {row.change for row in plan.rows} == {Change.UNRESOLVED}
    assert len(plan.rows) == 4
    assert plan.rows[0].reason.startswith("name and code disagree: 'Ujung Tanah' ~ 'Ujung Tanah'")


def test_names_told_apart_by_a_number_are_not_a_close_spelling():
    old = base(village("18.01.04.2001", "Seberang Ulu I"))
    new = base(village("18.01.04.2002", "Seberang Ulu II"))

    plan = plan_changes(old=old, new=new)

    # Not matched (different numbers), but similar enough to be put to a person rather than called gone and new.
    assert {row.change for row in plan.rows} == {Change.UNRESOLVED}
    assert plan.rows[0].reason.startswith("possible match (similarity up to 0.")


def test_numbers_in_digits_or_roman_numerals_match_their_words():
    old = base(village("18.01.04.1001", "Seberang Ulu I"), village("18.01.04.1002", "12 Ulu"))
    new = base(village("18.01.05.1001", "Seberang Ulu Satu"), village("18.01.05.1002", "Dua-belas Ulu"))

    plan = plan_changes(old=old, new=new)

    assert rows_by_change(plan) == {"recode": [("18.01.04.1001", "18.01.05.1001"), ("18.01.04.1002", "18.01.05.1002")]}


def test_leftovers_that_do_not_look_alike_are_gone_and_new():
    plan = plan_changes(old=base(village("18.01.04.2001", "Hajimena")), new=base(village("18.01.05.2003", "Mandah")))

    assert rows_by_change(plan) == {"gone": [("18.01.04.2001", "")], "new": [("", "18.01.05.2003")]}
    assert plan.rows[0].reason == "no match in the new list"


@pytest.mark.parametrize(
    ("name", "level", "key"),
    [
        ("KAB. LAMPUNG SELATAN", "regency", "lampung selatan"),
        ("KAB TIMOR TENGAH SELATAN", "regency", "timor tengah selatan"),
        ("KOTA ADM. JAKARTA PUSAT", "regency", "jakarta pusat"),
        ("Kota Administrasi Jakarta Pusat", "regency", "jakarta pusat"),
        ("KAB. ADM. KEP. SERIBU", "regency", "kepulauan seribu"),
        ("Kabupaten Administrasi Kepulauan Seribu", "regency", "kepulauan seribu"),
        ("P A P U A", "province", "papua"),
        ("DKI JAKARTA", "province", "daerah khusus ibukota jakarta"),
        ("Sido  Dadi ", "village", "sido dadi"),
        ("Ba'u", "village", "bau"),
        ("3 / 4 Ulu", "village", "tiga empat ulu"),
        ("XII Koto", "district", "dua belas koto"),
        ("Sei Raya", "village", "sungai raya"),
    ],
)
def test_names_are_compared_without_case_spacing_prefix_or_number_style(name, level, key):
    assert name_key(name, level) == key


def test_the_plan_does_not_depend_on_the_order_of_the_lists():
    old = units_read(path=DATA_DIR / "lampung_regions_2015.csv")
    new = units_read(path=DATA_DIR / "lampung_regions.csv")
    shuffled_old, shuffled_new = old[:], new[:]
    random.Random(3).shuffle(shuffled_old)  # noqa: S311 (a fixed shuffle, not a secret)
    random.Random(4).shuffle(shuffled_new)  # noqa: S311

    assert plan_changes(old=old, new=new) == plan_changes(old=shuffled_old, new=shuffled_new)


def test_a_list_with_a_duplicate_code_is_refused():
    with pytest.raises(ValueError, match=r"duplicate code 18\.01"):
        plan_changes(old=[LAMPUNG, SELATAN, SELATAN], new=[LAMPUNG])


# --- the bundled Lampung lists ---------------------------------------------------------------------------

LISTS = {year: DATA_DIR / f"lampung_regions_{year}.csv" for year in (2015, 2017, 2019, 2021, 2022)}
LISTS[2025] = DATA_DIR / "lampung_regions.csv"

# From villages/data/README.md (and the shared README's Lampung notes).
DISTRICTS = {2015: 227, 2017: 228, 2019: 228, 2021: 229, 2022: 229, 2025: 229}
VILLAGES = {2015: 2640, 2017: 2640, 2019: 2640, 2021: 2640, 2022: 2651, 2025: 2651}

# Checked by hand against the 2019 and 2025 lists: the 13 villages of Blambangan Umpu (18.08.01) that the
# 2025 list puts in the new district Umpu Semenguk (18.08.15), two of them respelled.
UMPU_SEMENGUK = {
    "18.08.01.2008": ("18.08.15.2001", "Negeri Batin", "Negeri Batin"),
    "18.08.01.2002": ("18.08.15.2002", "Gistang", "Gistang"),
    "18.08.01.2001": ("18.08.15.2003", "Rambang Jaya", "Rambang Jaya"),
    "18.08.01.2024": ("18.08.15.2004", "Panca Negeri", "Panca Negeri"),
    "18.08.01.2023": ("18.08.15.2005", "Negeri Bumi Putra", "Negeri Bumi Putera"),
    "18.08.01.2025": ("18.08.15.2006", "Gedung Riang", "Gedung Riang"),
    "18.08.01.2021": ("18.08.15.2007", "Gedung Batin", "Gedung Batin"),
    "18.08.01.2003": ("18.08.15.2008", "Sidoarjo", "Sidoarjo"),
    "18.08.01.2004": ("18.08.15.2009", "Bumi Ratu", "Bumi Ratu"),
    "18.08.01.2019": ("18.08.15.2010", "Sriwijaya", "Sriwijaya"),
    "18.08.01.2020": ("18.08.15.2011", "Brata Yudha", "Bratayudha"),
    "18.08.01.2007": ("18.08.15.2012", "Negeri Baru", "Negeri Baru"),
    "18.08.01.2026": ("18.08.15.2013", "Ojo Lali", "Ojo Lali"),
}
# Tanjung Rejo moved within Pesawaran, from Way Khilau (18.09.07) to Kedondong (18.09.09).
TANJUNG_REJO = ("18.09.07.2022", "18.09.09.2010")
# Villages in the 2025 list that have no predecessor in 2019 (no village of that name left over).
NEW_VILLAGES_SINCE_2019 = {
    "18.09.02.2020": "Pujodadi",
    "18.09.02.2021": "Grujugan Baru",
    "18.09.05.2032": "Dantar",
    "18.09.11.2011": "Kalirejo",
    "18.12.01.2020": "Marga Asri",
    "18.12.01.2021": "Mekar Asri",
    "18.12.03.2010": "Kagungan Ratu Agung",
    "18.12.03.2011": "Gading Kencana",
    "18.12.03.2012": "Karta Raya",
    "18.12.03.2013": "Karta Tanjung Selamat",
    "18.12.06.2010": "Sido Agung",
}
# The 10 villages of Tumijajar (18.12.04) in the 2015 list that Batu Putih (18.12.09), formed in 2017, took.
BATU_PUTIH = {
    "18.12.04.2001": "18.12.09.2001",
    "18.12.04.2014": "18.12.09.2002",
    "18.12.04.2009": "18.12.09.2003",
    "18.12.04.2005": "18.12.09.2004",
    "18.12.04.2016": "18.12.09.2005",
    "18.12.04.2003": "18.12.09.2006",
    "18.12.04.2018": "18.12.09.2007",
    "18.12.04.2004": "18.12.09.2008",
    "18.12.04.2019": "18.12.09.2009",
    "18.12.04.2010": "18.12.09.2010",
}


def same_code_renames(old_path: Path, new_path: Path) -> Counter:
    """Per level, the codes in both files whose names differ: counted from the files, not by the planner."""

    def names(path: Path) -> dict[str, tuple[str, str]]:
        with path.open(encoding="utf-8", newline="") as handle:
            return {row["code"]: (row["name"], row["level"]) for row in csv.DictReader(handle)}

    old, new = names(old_path), names(new_path)
    return Counter(old[code][1] for code in old.keys() & new.keys() if old[code][0] != new[code][0])


def plan_between(old_year: int, new_year: int):
    return plan_changes(old=units_read(path=LISTS[old_year]), new=units_read(path=LISTS[new_year]))


@pytest.mark.parametrize("year", sorted(LISTS))
def test_each_bundled_lampung_list_has_the_documented_units(year):
    units = units_read(path=LISTS[year])

    levels = Counter(unit.level for unit in units)
    assert levels == {"province": 1, "regency": 15, "district": DISTRICTS[year], "village": VILLAGES[year]}
    assert {unit.code[:2] for unit in units} == {"18"}


def test_the_decree_table_names_every_bundled_list_with_its_date():
    decrees = decrees_read()

    assert [(decree.year, decree.decree, decree.date) for decree in decrees] == [
        (2015, "Permendagri 56/2015", "2015-06-29"),
        (2017, "Permendagri 137/2017", "2017-12-27"),
        (2019, "Permendagri 72/2019", "2019-10-08"),
        (2021, "Permendagri 58/2021", "2021-12-13"),
        (2022, "Kepmendagri 100.1.1-6117/2022", "2022-11-09"),
        (2025, "Kepmendagri 300.2.2-2138/2025", "2025-04-25"),
    ]
    assert all((DATA_DIR / decree.file) == LISTS[decree.year] for decree in decrees)


def test_lampung_2019_to_2025_the_villages_of_umpu_semenguk_are_recodes():
    plan = plan_between(2019, 2025)

    recodes = {row.old_code: (row.new_code, row.old_name, row.new_name) for row in plan.rows if row.change == "recode"}
    assert recodes == {**UMPU_SEMENGUK, TANJUNG_REJO[0]: (TANJUNG_REJO[1], "Tanjung Rejo", "Tanjung Rejo")}
    reasons = {row.old_code: row.reason for row in plan.rows if row.old_code in UMPU_SEMENGUK}
    assert reasons["18.08.01.2008"] == "same name, moved from 18.08.01 to 18.08.15, unique within 18.08"
    assert reasons["18.08.01.2020"] == (
        "close spelling 'Brata Yudha'~'Bratayudha' (0.95), moved from 18.08.01 to 18.08.15, unique"
    )


def test_lampung_2019_to_2025_the_new_units_are_new_and_nothing_is_gone_or_unresolved():
    plan = plan_between(2019, 2025)

    new = {row.new_code: row.new_name for row in plan.rows if row.change == "new"}
    assert new == {"18.08.15": "Umpu Semenguk", **NEW_VILLAGES_SINCE_2019}
    assert [row for row in plan.rows if row.change in ("gone", "unresolved", "kind_change")] == []


def test_lampung_2019_to_2025_every_same_code_name_change_is_a_rename():
    plan = plan_between(2019, 2025)

    renames = Counter(row.level for row in plan.rows if row.change == "rename")
    assert renames == same_code_renames(LISTS[2019], LISTS[2025])
    # The same figures by hand: the province and 15 regencies (case and prefix only), Way Pangubuan,
    # Sumber Rejo, Klumbayan, Klumbayan Barat and Pulaupisang, and 99 villages.
    assert renames == {"province": 1, "regency": 15, "district": 5, "village": 99}
    by_code = {row.old_code: row for row in plan.rows}
    assert (by_code["18.02.02.2002"].old_name, by_code["18.02.02.2002"].new_name) == ("Sidodadi", "Sido Dadi")
    assert by_code["18.08.05.2026"].new_name == "Kota Dewa"


def test_lampung_2019_to_2025_counts_per_change_and_level():
    plan = plan_between(2019, 2025)
    print(plan.summary())

    assert plan.counts() == {
        "province": Counter(rename=1),
        "regency": Counter(rename=15),
        "district": Counter(rename=5, new=1),
        "village": Counter(rename=99, recode=14, new=11),
    }
    # 2,640 villages in 2019: 99 renamed, 14 recoded, the rest as they were.
    assert plan.unchanged == {"province": 0, "regency": 0, "district": 223, "village": 2640 - 99 - 14}


def test_lampung_2015_to_2025_batu_putih_is_new_with_the_villages_it_took():
    plan = plan_between(2015, 2025)

    assert ("", "18.12.09", "new") in {(row.old_code, row.new_code, row.change) for row in plan.rows}
    recodes = {row.old_code: row.new_code for row in plan.rows if row.change == "recode"}
    assert {code: recodes.get(code) for code in BATU_PUTIH} == BATU_PUTIH


def test_lampung_2015_to_2025_the_renamed_districts_of_pesisir_barat_are_put_to_a_person():
    # Bengkunat (18.13.10) is now Ngaras and Bengkunat Belimbing (18.13.11) is now Bangkunat: the names point
    # one way (Bengkunat ~ Bangkunat) and the codes the other, so the planner decides neither.
    plan = plan_between(2015, 2025)

    unresolved = {(row.old_code, row.new_code) for row in plan.rows if row.change == "unresolved"}
    assert unresolved == {("18.13.10", ""), ("18.13.11", ""), ("", "18.13.10"), ("", "18.13.11")}


def test_lampung_2022_to_2025_is_85_renames_and_16_of_them_only_restyle_the_name():
    # villages/data/README.md: the same codes, 85 names respelled; 16 are the province and regency names,
    # which differ only in case and prefix style. Those count as renames: the stored name changes.
    plan = plan_between(2022, 2025)

    assert plan.counts() == {
        "province": Counter(rename=1),
        "regency": Counter(rename=15),
        "district": Counter(rename=3),
        "village": Counter(rename=66),
    }
    restyled = [row for row in plan.rows if row.reason.startswith("same code, same name up to case")]
    assert {row.level for row in restyled} == {"province", "regency"}
    assert len(restyled) == 16
    assert all(row.old_code == row.new_code for row in plan.rows)


def test_lampung_2019_to_2025_a_hand_edited_plan_with_a_wrong_row_is_refused_with_its_line_number():
    old, new = units_read(path=LISTS[2019]), units_read(path=LISTS[2025])
    lines = plan_to_csv(plan_changes(old=old, new=new)).splitlines(keepends=True)
    assert plan_parse(text="".join(lines), old=old, new=new).counts() == plan_between(2019, 2025).counts()
    # A reviewer points Negeri Batin at its new district instead of its new code.
    number = next(index for index, line in enumerate(lines, start=1) if line.startswith("18.08.01.2008,"))
    lines[number - 1] = lines[number - 1].replace("18.08.15.2001", "18.08.15")

    with pytest.raises(PlanFileError) as caught:
        plan_parse(text="".join(lines), old=old, new=new)

    assert caught.value.errors[0] == f"line {number}: new code 18.08.15 is a district, the row says village"
    # Negeri Batin's new code is now on no row: it is not in the old list, so that is refused too.
    assert caught.value.errors[1:] == [
        f"line {len(lines)}: new village 18.08.15.2001 'Negeri Batin' is not in the old list and has no row"
    ]
