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


def test_the_reports_the_load_decides_are_decided_by_someone_who_did_not_submit_them(tmp_path):
    # make load found it: the prepared awaiting reports are submitted by the first staff member, who was among
    # those deciding them, and nobody reviews a report they submitted (403).
    from bench.load import DEFAULT_FILE, prepare
    from rollout.models import ProgressReport

    world = prepare(path=DEFAULT_FILE, regencies=["18.01"], secret_key="x" * 50, directory=tmp_path)

    submitters = set(
        ProgressReport.objects.filter(pk__in=world.awaiting).values_list("submitted_by__username", flat=True)
    )
    assert world.awaiting and submitters
    assert submitters.isdisjoint({actor.username for actor in world.reviewers})
