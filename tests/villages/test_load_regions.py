import csv
import gzip
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from villages.models import District, Province, Regency, Village, VillageKind
from villages.services import DEFAULT_REGIONS_FILE, RegionFileError, regions_load

pytestmark = pytest.mark.django_db

HEADER = "code,name,level,parent_code,regency_kind,kind\n"
GOOD_ROWS = [
    "18,Lampung,province,,,",
    "18.01,Kabupaten Lampung Selatan,regency,18,kabupaten,",
    "18.01.04,Natar,district,18.01,,",
    "18.01.04.2001,Hajimena,village,18.01.04,,desa",
    "18.01.04.2002,Pemanggilan,village,18.01.04,,desa",
    "18.71,Kota Bandar Lampung,regency,18,kota,",
    "18.71.01,Teluk Betung Barat,district,18.71,,",
    "18.71.01.1001,Bakung,village,18.71.01,,kelurahan",
]


def write_regions(tmp_path: Path, rows: list[str], name: str = "regions.csv", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def registry_size() -> int:
    return sum(model.objects.count() for model in (Province, Regency, District, Village))


def source_rows() -> list[dict[str, str]]:
    with open(DEFAULT_REGIONS_FILE, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_it_loads_every_bundled_lampung_unit_with_the_source_counts_per_regency():
    regions_load()

    rows = source_rows()
    expected = Counter((row["code"][:5], row["kind"]) for row in rows if row["level"] == "village")
    loaded = Counter(Village.objects.values_list("regency__code", "kind"))
    assert loaded == expected
    expected_districts = Counter(row["parent_code"] for row in rows if row["level"] == "district")
    assert Counter(District.objects.values_list("regency__code", flat=True)) == expected_districts
    assert sorted(Regency.objects.values_list("code", flat=True)) == sorted(
        row["code"] for row in rows if row["level"] == "regency"
    )


def test_the_bundled_file_holds_the_programmes_published_totals():
    # DPMDT's programme figures: 15 regencies/cities, 2,446 desa + 205 kelurahan = 2,651 units.
    regions_load()
    assert Regency.objects.filter(kind="kabupaten").count() == 13
    assert Regency.objects.filter(kind="kota").count() == 2
    assert Village.objects.filter(kind=VillageKind.DESA).count() == 2446
    assert Village.objects.filter(kind=VillageKind.KELURAHAN).count() == 205


def test_it_is_idempotent_on_the_second_run():
    first = regions_load()
    second = regions_load()

    assert first.total("created") == len(source_rows())
    assert second.total("created") == 0
    assert second.total("updated") == 0
    assert second.total("deactivated") == 0
    assert second.total("unchanged") == first.total("created")


def test_it_updates_a_renamed_unit(tmp_path):
    regions_load(path=write_regions(tmp_path, GOOD_ROWS))
    renamed = [row.replace("Hajimena", "Haji Mena") for row in GOOD_ROWS]

    report = regions_load(path=write_regions(tmp_path, renamed))

    assert report.levels["village"].updated == 1
    assert report.total("updated") == 1
    assert Village.objects.get(code="18.01.04.2001").name == "Haji Mena"


def test_it_deactivates_a_unit_missing_from_a_newer_list_and_never_deletes_it(tmp_path):
    regions_load(path=write_regions(tmp_path, GOOD_ROWS))
    without = [row for row in GOOD_ROWS if not row.startswith("18.01.04.2002")]

    report = regions_load(path=write_regions(tmp_path, without))

    assert report.levels["village"].deactivated == 1
    village = Village.objects.get(code="18.01.04.2002")
    assert village.is_active is False

    back = regions_load(path=write_regions(tmp_path, GOOD_ROWS))
    assert back.levels["village"].updated == 1
    assert Village.objects.get(code="18.01.04.2002").is_active is True


def test_a_file_without_province_rows_adds_but_deactivates_nothing(tmp_path):
    regions_load(path=write_regions(tmp_path, GOOD_ROWS))
    extra = ["18.01.04.2003,Candimas,village,18.01.04,,desa"]

    report = regions_load(path=write_regions(tmp_path, extra, name="extra.csv"))

    assert report.levels["village"].created == 1
    assert report.total("deactivated") == 0
    assert Village.objects.filter(is_active=True).count() == 4


def test_it_does_not_deactivate_other_provinces(tmp_path):
    regions_load(path=write_regions(tmp_path, GOOD_ROWS))
    banten = ["36,Banten,province,,,", "36.01,Kabupaten Pandeglang,regency,36,kabupaten,"]

    report = regions_load(path=write_regions(tmp_path, banten, name="banten.csv"))

    assert report.total("deactivated") == 0
    assert Regency.objects.filter(is_active=True).count() == 3


def test_dry_run_counts_but_writes_nothing(tmp_path):
    report = regions_load(path=write_regions(tmp_path, GOOD_ROWS), dry_run=True)

    assert report.total("created") == len(GOOD_ROWS)
    assert registry_size() == 0


def test_it_reads_gzip_files(tmp_path):
    path = tmp_path / "regions.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(HEADER + "\n".join(GOOD_ROWS) + "\n")

    report = regions_load(path=path)

    assert report.total("created") == len(GOOD_ROWS)
    assert Village.objects.count() == 3


def test_a_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (HEADER + "\n".join(GOOD_ROWS) + "\n").encode())

    assert regions_load(path=path).total("created") == len(GOOD_ROWS)


BAD_ROWS = {
    "bad code format": ("18.01.04.201,Hajimena,village,18.01.04,,desa", "is not a valid village code"),
    "unknown parent": ("18.01.09.2001,Hajimena,village,18.01.09,,desa", "unknown parent 18.01.09"),
    "duplicate code": ("18.01.04.2002,Lagi,village,18.01.04,,desa", "duplicate code 18.01.04.2002 (first on line 6)"),
    "village kind contradicts code": ("18.01.04.2003,Hajimena,village,18.01.04,,kelurahan", "contradicts code"),
    "regency kind contradicts code": ("18.02,Kabupaten Lampung Tengah,regency,18,kota,", "contradicts code 18.02"),
    "empty name": ("18.01.04.2003,   ,village,18.01.04,,desa", "name is empty"),
    "unknown level": ("18.01.04.2003,Hajimena,desa,18.01.04,,desa", "level 'desa' is not one of"),
    "parent does not match code": ("18.01.04.2003,Hajimena,village,18.71.01,,desa", "does not match code"),
    "too many fields": ("18.01.04.2003,Hajimena,village,18.01.04,,desa,extra", "more fields than the header"),
}


@pytest.mark.parametrize("bad_row, message", BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_a_bad_row_aborts_the_whole_load_naming_its_line(tmp_path, bad_row, message):
    path = write_regions(tmp_path, [*GOOD_ROWS, bad_row])  # header is line 1, so this is line 10

    with pytest.raises(RegionFileError) as caught:
        regions_load(path=path)

    assert any(error.startswith("line 10: ") and message in error for error in caught.value.errors), caught.value
    assert registry_size() == 0


def test_a_bad_row_leaves_an_existing_registry_untouched(tmp_path):
    regions_load(path=write_regions(tmp_path, GOOD_ROWS))
    renamed_and_broken = [row.replace("Hajimena", "Berubah") for row in GOOD_ROWS] + ["18.99.01,X,district,18.99,,"]

    with pytest.raises(RegionFileError):
        regions_load(path=write_regions(tmp_path, renamed_and_broken))

    assert Village.objects.get(code="18.01.04.2001").name == "Hajimena"


def test_every_bad_row_is_reported_not_only_the_first(tmp_path):
    path = write_regions(tmp_path, [*GOOD_ROWS, "18.01.04.2009,,village,18.01.04,,desa", "1801,X,regency,18,,"])

    with pytest.raises(RegionFileError) as caught:
        regions_load(path=path)

    assert [error.split(":")[0] for error in caught.value.errors] == ["line 10", "line 11"]


def test_wrong_encoding_is_rejected_with_its_line(tmp_path):
    path = tmp_path / "latin1.csv"
    rows = [*GOOD_ROWS, "18.01.04.2003,Sukamaju Ñ,village,18.01.04,,desa"]
    path.write_bytes((HEADER + "\n".join(rows) + "\n").encode("latin-1"))

    with pytest.raises(RegionFileError) as caught:
        regions_load(path=path)

    assert caught.value.errors[0].startswith("line 10: not valid UTF-8")
    assert registry_size() == 0


def test_a_missing_column_is_rejected(tmp_path):
    path = write_regions(tmp_path, ["18,Lampung,province"], header="code,name,level\n")

    with pytest.raises(RegionFileError) as caught:
        regions_load(path=path)

    assert "missing column(s) parent_code" in caught.value.errors[0]


def test_a_parent_already_in_the_registry_is_accepted(tmp_path):
    regions_load(path=write_regions(tmp_path, GOOD_ROWS))
    path = write_regions(tmp_path, ["18.01.04.2003,Candimas,village,18.01.04,,desa"], name="one.csv")

    assert regions_load(path=path).levels["village"].created == 1


def test_the_command_reports_counts(tmp_path, capsys):
    call_command("load_regions", str(write_regions(tmp_path, GOOD_ROWS)))
    out = capsys.readouterr().out

    assert "created" in out and "deactivated" in out
    assert out.splitlines()[-2].split() == ["total", str(len(GOOD_ROWS)), "0", "0", "0"]


def test_the_command_dry_run_writes_nothing(tmp_path, capsys):
    call_command("load_regions", str(write_regions(tmp_path, GOOD_ROWS)), "--dry-run")

    assert "Dry run" in capsys.readouterr().out
    assert registry_size() == 0


def test_the_command_fails_listing_errors_with_line_numbers(tmp_path):
    path = write_regions(tmp_path, [*GOOD_ROWS, "18.01.04.2003,,village,18.01.04,,desa"])

    with pytest.raises(CommandError, match=r"nothing was written\.\nline 10: name is empty"):
        call_command("load_regions", str(path))


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="file not found"):
        call_command("load_regions", str(tmp_path / "nope.csv"))
