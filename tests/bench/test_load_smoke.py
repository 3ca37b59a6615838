"""A small run of the load test (bench/load.py), so it cannot rot.

Two small regencies rather than one: Kota Metro for the traffic, Mesuji so that an officer's
attempts on another regency are real refusals. It stops after a fixed number of requests; the
time limit is only a safety net for a slow machine.
"""

import pytest

from bench.load import run

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# The races whose grants exist from the start: each must have been tried.
MONEY_RACES = {"race_disburse", "race_disburse_same_reference", "race_disburse_same_key", "race_batch_vs_single"}


def test_a_short_load_with_races_answers_no_5xx_and_breaks_no_invariant():
    result = run(
        regencies=["18.11", "18.72"],
        duration=60,
        requests=300,
        clients=4,
        workers=2,
        race_width=3,
        recompute_every=1,
        reset=False,
    )

    figures = result["figures"]
    assert figures["requests"] > 250
    assert figures["server_errors_5xx"] == 0, result["samples"]["server_tracebacks"]
    assert [check for check in result["checks"] if not check["passed"]] == [], result["samples"]
    assert figures["races_tried"] >= 10
    assert set(figures["races_by_kind"]) >= MONEY_RACES
    assert figures["refused_tried"] > 0
    assert figures["double_payments"] == 0
