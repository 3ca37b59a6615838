"""A small run of `make bench` (one regency, a few hundred villages), so the benchmark cannot rot."""

import csv

import pytest

import bench.regions
from bench.run import run
from villages.services import DEFAULT_REGIONS_FILE

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REGENCY = "18.01"

EXPECTED_FIGURES = {
    "registry_load_s",
    "registry_reload_unchanged_s",
    "state_generate_s",
    "recompute_ms",
    "recompute_peak_memory_mib",
    "ledger_regency_ms",
    "ledger_district_ms",
    "api_villages_page_ms",
    "api_villages_raw_select_ms",
    "api_grants_page_ms",
    "api_grants_raw_select_ms",
    "api_rollout_page_ms",
    "api_rollout_raw_select_ms",
    "dashboard_home_ms",
    "dashboard_home_queries",
    "dashboard_regency_ms",
    "dashboard_regency_queries",
    "api_villages_load_rps",
    "api_villages_load_p95_ms",
    "capture_sync_500_total_s",
    "capture_sync_report_ms",
    "capture_sync_report_with_photo_ms",
    "sw_precache_largest_regency_bytes",
}
# Planning the national region change (bench/run.py EXTRA_FIGURES), where the shared national lists are.
if bench.regions.DEFAULT_OLD.exists() and bench.regions.DEFAULT_NEW.exists():
    EXPECTED_FIGURES |= {"regions_plan_s", "regions_read_and_plan_s"}


@pytest.fixture
def one_regency_file(tmp_path):
    path = tmp_path / "one_regency.csv"
    with DEFAULT_REGIONS_FILE.open(newline="", encoding="utf-8") as source, path.open("w", newline="") as target:
        reader = csv.DictReader(source)
        writer = csv.DictWriter(target, fieldnames=reader.fieldnames)
        writer.writeheader()
        writer.writerows(row for row in reader if row["code"] == "18" or row["code"].startswith(REGENCY))
    return path


def test_it_measures_every_figure_with_a_positive_value(one_regency_file):
    result = run(one_regency_file, repeat=1, reset=False, load_seconds=1, load_workers=1, load_concurrency=2)

    assert set(result["figures"]) == EXPECTED_FIGURES
    for name, figure in result["figures"].items():
        assert figure["value"] > 0, name
        if figure["floor"] is not None:
            assert figure["floor"] > 0, name
            assert figure["ratio"] > 0, name
    assert 100 < result["meta"]["villages"] < 1000


def test_its_sql_floor_computes_the_same_snapshots_as_the_recompute(one_regency_file):
    result = run(one_regency_file, repeat=1, reset=False, load_seconds=0)

    assert result["meta"]["recompute_floor_mismatches"] == 0
