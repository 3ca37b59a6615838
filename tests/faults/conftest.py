"""Shared by the fault tests: a PostgreSQL session of the test's own, beside the code under test."""

from collections.abc import Iterator

import psycopg2
import pytest
from django.db import connection


class SideSession:
    """An autocommit connection to the test database, to lock rows and end sessions from outside."""

    def __init__(self):
        self.connection = psycopg2.connect(**connection.get_connection_params())
        self.connection.autocommit = True

    def cursor(self):
        return self.connection.cursor()

    def terminate(self, pid: int) -> None:
        """End the session `pid` as a database restart or a network failure would, and wait until it is gone."""
        with self.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
            assert cursor.fetchone()[0], f"session {pid} did not end within 5 s"


@pytest.fixture
def pg_side() -> Iterator[SideSession]:
    side = SideSession()
    yield side
    side.connection.close()
