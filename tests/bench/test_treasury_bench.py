"""A small run of the reconciliation benchmark (bench/treasury.py), so it cannot rot: a statement at the scale
of the villages present, its import beside the COPY-and-join floor, the counts it must give."""

import pytest

from bench.treasury import run
from grants.models import Allocation
from treasury.models import Statement
from villages.services import DEFAULT_REGIONS_FILE, regions_load

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_it_measures_the_reconciliation_beside_its_sql_join_floor():
    regions_load(path=DEFAULT_REGIONS_FILE)

    result = run(lines=1_200, repeat=1)

    assert set(result["figures"]) == {"treasury_reconcile_s", "treasury_parse_s"}
    for name, figure in result["figures"].items():
        assert figure["value"] > 0, name
    assert result["figures"]["treasury_reconcile_s"]["floor"] > 0
    meta = result["meta"]
    assert meta["lines"] == 1_200
    # Every disbursement paid once (a few with another amount), a few paid twice, a few bounced back.
    assert meta["counts"]["matched"] + meta["counts"]["amount_mismatch"] == meta["disbursements"]
    assert meta["counts"]["amount_mismatch"] == meta["disbursements"] * 6 // 1000
    assert meta["counts"]["duplicate"] == meta["disbursements"] * 4 // 1000
    assert meta["counts"]["returned"] == meta["disbursements"] * 3 // 1000
    assert meta["counts"]["unmatched_disbursement"] == 0
    assert meta["line_outcomes_total"] == meta["debit_total"]
    # It leaves nothing behind.
    assert not Allocation.objects.filter(fiscal_year=2024).exists() and not Statement.objects.exists()
