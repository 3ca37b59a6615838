"""A small run of the region-planning benchmark (bench/regions.py) on the bundled Lampung lists, so it cannot rot."""

import pytest

from bench.regions import run
from villages.region_plan import DATA_DIR

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_it_measures_the_plan_beside_its_sql_join_floor():
    result = run(DATA_DIR / "lampung_regions_2019.csv", DATA_DIR / "lampung_regions.csv", repeat=1)

    assert set(result["figures"]) == {"regions_plan_s", "regions_read_and_plan_s"}
    for name, figure in result["figures"].items():
        assert figure["value"] > 0, name
        assert figure["floor"] > 0, name
    # The join on code sees 120 names changed, 14 codes gone and 26 new; the planner 146 changed units.
    assert result["meta"]["join_rows"] == 120 + 14 + 26
    assert result["meta"]["plan_rows"] == {"new": 12, "recode": 14, "rename": 120}
    assert result["meta"]["units"] == {"old": 2884, "new": 2896}


def test_make_bench_reports_the_plan_beside_its_floor_among_its_figures(monkeypatch):
    import bench.core
    import bench.regions
    from bench.run import run as bench_run

    # The national lists in a real `make bench`; the bundled Lampung ones here, and bench.core's own run left out.
    monkeypatch.setattr(bench.regions, "DEFAULT_OLD", DATA_DIR / "lampung_regions_2019.csv")
    monkeypatch.setattr(bench.regions, "DEFAULT_NEW", DATA_DIR / "lampung_regions.csv")
    monkeypatch.setattr(bench.core, "run", lambda path, **options: {"meta": {}, "figures": {}})

    result = bench_run(DATA_DIR / "lampung_regions.csv", repeat=1)

    assert {"regions_plan_s", "regions_read_and_plan_s"} <= set(result["figures"])
    assert all(result["figures"][name]["floor"] > 0 for name in ("regions_plan_s", "regions_read_and_plan_s"))
    assert result["meta"]["regions_plan"]["plan_rows"]["recode"] == 14
