"""Guesses sent at once, with real threads on PostgreSQL: the lockout holds, no request fails."""

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from tests.grants.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LIMIT = 5
THREADS = 8
ROUNDS = 3


def test_concurrent_guesses_are_bounded_by_the_limit_plus_the_requests_in_flight(province_staff, settings):
    settings.AXES_FAILURE_LIMIT = LIMIT

    def guesses(thread: int) -> list[int]:
        client = Client()
        return [
            client.post("/login/", {"username": province_staff.username, "password": f"salah{thread}-{n}"}).status_code
            for n in range(ROUNDS)
        ]

    results, errors = run_together([lambda thread=thread: guesses(thread) for thread in range(THREADS)])

    assert errors == []
    answers = [status for statuses in results for status in statuses]
    assert set(answers) <= {200, 429}, answers
    # Each guess whose password was checked answered 200. The lock is read before the password is
    # checked, so at most the requests already past that read when the limit is reached add to it.
    checked = answers.count(200)
    assert LIMIT <= checked <= LIMIT + THREADS - 1, answers
    assert Client().post("/login/", {"username": province_staff.username, "password": PASSWORD}).status_code == 429
