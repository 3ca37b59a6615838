"""National plans on the shared official lists (../shared/data): 2022 -> 2025 and 2015 -> 2025.

The lists are not bundled (4.3 MB each): without them these tests skip, unless REQUIRE_SHARED_DATA=1, when
they fail. Expected figures are counted from the files themselves where a count can be (same code and same
name, provinces and regencies, the Papua moves checked by hand); the district and village figures per change
are pinned after reviewing samples of every kind of row, so that a change in the planner shows here.
"""

import csv
import gzip
import os
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings

from villages.region_plan import LEVELS, PlanFileError, plan_changes, plan_parse, plan_to_csv, units_read

SHARED_DATA = Path(settings.BASE_DIR).parent / "shared" / "data"
FILES = {year: SHARED_DATA / f"indonesia_villages_{year}.csv.gz" for year in (2015, 2022)}
FILES[2025] = SHARED_DATA / "indonesia_villages.csv.gz"

# Regencies that changed province, checked by hand against the two lists (same name, new code): the 2022
# split of Papua (91) into Papua Selatan (93), Papua Tengah (94) and Papua Pegunungan (95), and Papua Barat
# Daya (96) formed out of Papua Barat (92) in the 2025 list.
PAPUA_BARAT_DAYA = {"92.01": "96.01", "92.04": "96.02", "92.05": "96.03", "92.09": "96.04", "92.10": "96.05"}
PAPUA_BARAT_DAYA["92.71"] = "96.71"  # Kota Sorong
PAPUA_2022 = {
    "91.01": "93.01",  # Merauke
    "91.16": "93.02",  # Boven Digoel
    "91.17": "93.03",  # Mappi
    "91.18": "93.04",  # Asmat
    "91.04": "94.01",  # Nabire
    "91.07": "94.02",  # Puncak Jaya
    "91.08": "94.03",  # Paniai
    "91.09": "94.04",  # Mimika
    "91.25": "94.05",  # Puncak
    "91.26": "94.06",  # Dogiyai
    "91.27": "94.07",  # Intan Jaya
    "91.28": "94.08",  # Deiyai
    "91.02": "95.01",  # Jayawijaya
    "91.12": "95.02",  # Pegunungan Bintang
    "91.13": "95.03",  # Yahukimo
    "91.14": "95.04",  # Tolikara
    "91.21": "95.05",  # Mamberamo Tengah
    "91.22": "95.06",  # Yalimo
    "91.23": "95.07",  # Lanny Jaya
    "91.24": "95.08",  # Nduga
}

# Pinned after review (see the module docstring).
COUNTS = {
    (2022, 2025): {
        "province": Counter(rename=37, new=1),
        "regency": Counter(rename=508, recode=6),
        "district": Counter(rename=109, recode=132, new=8),
        "village": Counter(rename=1230, recode=1107, new=4, gone=5, unresolved=8),
    },
    (2015, 2025): {
        "province": Counter(rename=34, new=4),
        "regency": Counter(rename=488, recode=26),
        "district": Counter(rename=234, recode=590, new=127, gone=2, unresolved=4),
        "village": Counter(rename=4983, recode=6632, kind_change=54, new=716, gone=136, unresolved=128),
    },
}


def _raw(year: int) -> dict[str, tuple[str, str]]:
    with gzip.open(FILES[year], "rt", encoding="utf-8", newline="") as handle:
        return {row["code"]: (row["name"], row["level"]) for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def shared_files():
    missing = [str(path) for path in FILES.values() if not path.exists()]
    if missing:
        reason = f"the shared national lists are absent: {', '.join(missing)}"
        if os.environ.get("REQUIRE_SHARED_DATA") == "1":
            pytest.fail(f"REQUIRE_SHARED_DATA=1 but {reason}")
        pytest.skip(reason)
    return FILES


@pytest.fixture(scope="module")
def units(shared_files):
    return {year: units_read(path=path) for year, path in shared_files.items()}


@pytest.fixture(scope="module")
def plans(units):
    return {pair: plan_changes(old=units[pair[0]], new=units[pair[1]]) for pair in COUNTS}


@pytest.mark.parametrize("pair", list(COUNTS), ids=lambda pair: f"{pair[0]}-{pair[1]}")
def test_national_counts_per_change_and_level(plans, pair):
    plan = plans[pair]
    print(f"\n{pair[0]} -> {pair[1]}\n{plan.summary()}")

    assert plan.counts() == COUNTS[pair]


@pytest.mark.parametrize("pair", list(COUNTS), ids=lambda pair: f"{pair[0]}-{pair[1]}")
def test_national_figures_that_the_files_alone_decide(plans, pair):
    old, new = _raw(pair[0]), _raw(pair[1])
    plan = plans[pair]
    counts = plan.counts()

    same = Counter(old[code][1] for code in old.keys() & new.keys() if old[code][0] == new[code][0])
    assert plan.unchanged == {level: same[level] for level in LEVELS}
    # Every province and regency name changed style (upper case, `KAB.`) and no code was reused at these levels.
    for level in ("province", "regency"):
        renamed = sum(1 for code in old.keys() & new.keys() if old[code] != new[code] and old[code][1] == level)
        assert counts[level]["rename"] == renamed
    assert counts["province"]["new"] == sum(1 for code in new.keys() - old.keys() if new[code][1] == "province")
    assert counts["regency"]["recode"] == sum(1 for code in old.keys() - new.keys() if old[code][1] == "regency")
    # Each unit of either list is accounted for once: unchanged, or on one row.
    for level in LEVELS:
        old_side = sum(n for change, n in counts[level].items() if change != "new") - _unresolved_new(plan, level)
        assert plan.unchanged[level] + old_side == sum(1 for name, lv in old.values() if lv == level)
        new_side = sum(n for change, n in counts[level].items() if change != "gone") - _unresolved_old(plan, level)
        assert plan.unchanged[level] + new_side == sum(1 for name, lv in new.values() if lv == level)


def _unresolved_new(plan, level):
    return sum(1 for row in plan.rows if row.level == level and row.change == "unresolved" and not row.old_code)


def _unresolved_old(plan, level):
    return sum(1 for row in plan.rows if row.level == level and row.change == "unresolved" and not row.new_code)


def test_national_2015_to_2025_the_papua_regencies_are_recodes_not_gone_and_new(plans):
    plan = plans[2015, 2025]

    regencies = {row.old_code: row.new_code for row in plan.rows if row.level == "regency" and row.change == "recode"}
    assert regencies == {**PAPUA_2022, **PAPUA_BARAT_DAYA}
    merauke = {row.old_code: row for row in plan.rows}["91.01"]
    assert (merauke.new_code, merauke.old_name, merauke.new_name) == ("93.01", "KAB. MERAUKE", "Kabupaten Merauke")
    assert merauke.reason == "same name, moved from 91 to 93, unique nationally"
    # Its 20 districts and 190 villages move with it; Padua and Kontuar are districts formed since.
    moved = [row for row in plan.rows if row.old_code.startswith("91.01")]
    assert {(row.change, row.new_code[:5]) for row in moved} == {("recode", "93.01")}
    assert len(moved) == 211
    assert {row.new_code for row in plan.rows if row.new_code.startswith("93.01") and row.change == "new"} == {
        "93.01.21",
        "93.01.22",
    }


def test_national_2022_to_2025_papua_barat_daya_is_new_and_its_regencies_moved_into_it(plans):
    plan = plans[2022, 2025]

    regencies = {row.old_code: row.new_code for row in plan.rows if row.level == "regency" and row.change == "recode"}
    assert regencies == PAPUA_BARAT_DAYA
    assert [(row.new_code, row.change) for row in plan.rows if row.level == "province" and row.change == "new"] == [
        ("96", "new")
    ]


def test_national_unresolved_cases_are_listed_with_their_candidates(plans):
    for pair, plan in plans.items():
        unresolved = [row for row in plan.rows if row.change == "unresolved"]
        print(f"\n{pair[0]} -> {pair[1]}: {len(unresolved)} unresolved")
        for row in unresolved:
            print(f"  {row.old_code or '-':<14} {row.new_code or '-':<14} {row.reason}")
        assert all("candidates" in row.reason for row in unresolved)

    # Ujung Tanah (Pidie Jaya): one move or two renames in place, the lists cannot tell.
    ujung_tanah = {(row.old_code, row.new_code) for row in plans[2022, 2025].rows if row.change == "unresolved"}
    assert {("11.12.03.2030", ""), ("11.12.07.2004", ""), ("", "11.12.03.2030"), ("", "11.12.07.2004")} <= ujung_tanah
    # Bengkunat and Bengkunat Belimbing (Pesisir Barat), renamed Ngaras and Bangkunat.
    districts = {row.old_code or row.new_code for row in plans[2015, 2025].rows if row.change == "unresolved"}
    assert {"18.13.10", "18.13.11"} <= districts


def test_a_national_plan_reads_back_and_is_refused_for_applying_until_decided(units, plans):
    plan = plans[2015, 2025]
    text = plan_to_csv(plan)

    read = plan_parse(text=text, old=units[2015], new=units[2025], allow_unresolved=True)
    assert read.counts() == plan.counts()
    assert read.unchanged == plan.unchanged

    with pytest.raises(PlanFileError) as caught:
        plan_parse(text=text, old=units[2015], new=units[2025])
    assert len(caught.value.errors) == plan.totals()["unresolved"]
    assert all("unresolved: decide it" in error for error in caught.value.errors)


def test_planning_the_national_2015_to_2025_change_takes_seconds(units):
    start = time.perf_counter()
    plan_changes(old=units[2015], new=units[2025])
    elapsed = time.perf_counter() - start

    print(f"\nplanning 2015 -> 2025: {elapsed:.2f} s")
    # About 2 s on the 2-core development machine; the bound only catches a quadratic slip (`make bench` has
    # the figure and its floor).
    assert elapsed < 30
