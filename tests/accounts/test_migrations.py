# ruff: noqa: RUF001 -- the point of these tests is letters that look alike.
"""The migration that makes usernames unique in their canonical form handles the rows already there."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0004_audit_entry_append_only")]
AFTER = [("accounts", "0005_username_canonical_unique")]


@pytest.fixture
def old_state(transactional_db):
    """The database as it was before the migration, and a function that migrates it forward."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps

    def migrate_forward():
        forward = MigrationExecutor(connection)
        forward.loader.build_graph()
        forward.migrate(AFTER)

    yield old_apps, migrate_forward
    old_apps.get_model("accounts", "User").objects.all().delete()  # a clash left behind would stop the next step
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_existing_usernames_are_stored_in_nfkc_and_keep_their_case(old_state):
    old_apps, migrate_forward = old_state
    User = old_apps.get_model("accounts", "User")
    for username in ("admin", "staf", "ｐｅｔｕｇａｓ．ｂａｒｕ", "Budi.Santoso"):
        User.objects.create(username=username, password="!")

    migrate_forward()

    with connection.cursor() as cursor:
        cursor.execute("SELECT username FROM accounts_user ORDER BY username")
        stored = [row[0] for row in cursor.fetchall()]
    assert stored == sorted(["admin", "staf", "petugas.baru", "Budi.Santoso"])


@pytest.mark.parametrize("clash", [("staf", "STAF"), ("staf", "ｓｔａｆ"), ("Staf", "𝐬𝐭𝐚𝐟")])
def test_accounts_that_would_log_into_each_other_stop_the_migration_by_name(old_state, clash):
    old_apps, migrate_forward = old_state
    User = old_apps.get_model("accounts", "User")
    for username in clash:
        User.objects.create(username=username, password="!")

    with pytest.raises(Exception, match="log into each other") as stopped:
        migrate_forward()

    assert all(repr(username) in str(stopped.value) for username in clash)
    with connection.cursor() as cursor:
        cursor.execute("SELECT username FROM accounts_user ORDER BY id")
        assert tuple(row[0] for row in cursor.fetchall()) == clash  # nothing renamed or merged
