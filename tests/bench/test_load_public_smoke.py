"""A short run of the public pages' load (bench/public.py, part of `make load`), so it cannot rot: both
deployments answer with no 5xx, the replica does the reads when it is there, revalidations are 304s."""

import os

import pytest

from bench import pgpair, public


def test_a_short_public_load_answers_no_5xx_and_the_replica_does_the_reads():
    reason = pgpair.available()
    if reason is not None:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but no streaming pair can be made: {reason}")
        pytest.skip(reason)

    result = public.run(seconds=1, clients=4, workers=1)

    runs = result["runs"]
    assert set(runs) == {
        "primary only, GET",
        "primary only, revalidating (304)",
        "with replica, GET",
        "with replica, revalidating (304)",
    }
    assert all(run["server_errors_5xx"] == 0 and run["requests"] > 0 for run in runs.values()), runs
    assert runs["primary only, GET"]["transactions"]["standby"] == 0
    assert runs["with replica, GET"]["transactions"]["standby"] > 0
    assert runs["with replica, GET"]["replica_state"] == "up"
    assert set(runs["with replica, revalidating (304)"]["status_codes"]) == {"304"}
