"""Database building blocks shared by the apps: append-only records, refused in Python and by PostgreSQL."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import ClassVar

from django.apps import apps
from django.db import migrations, models, transaction


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk deletes, and bulk updates of anything but the model's `settable_once` fields:
    the rows are a record of what happened."""

    def update(self, **kwargs):
        if not set(kwargs) <= set(self.model.settable_once):
            raise TypeError(f"{self.model._meta.label} is append-only.")
        return super().update(**kwargs)

    def delete(self):
        raise TypeError(f"{self.model._meta.label} is append-only.")


class AppendOnlyModel(models.Model):
    """A row written once and never changed or deleted (refused here and, on PostgreSQL, by triggers:
    `append_only_migration` or `reviewed_once_migration` for UPDATE and DELETE, and
    `refuse_truncate_migration` for TRUNCATE).

    Every concrete subclass is an append-only table (`append_only_tables`); the tests walk them all.
    """

    # Fields a guarded queryset update may set once after the insert (e.g. a report's review); the
    # database trigger of the table decides which updates are allowed, and once.
    settable_once: ClassVar[tuple[str, ...]] = ()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError(f"{self._meta.label} is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{self._meta.label} is append-only.")


def append_only_models() -> list[type[AppendOnlyModel]]:
    """Every append-only model of the installed apps."""
    return [model for model in apps.get_models() if issubclass(model, AppendOnlyModel)]


def append_only_tables() -> list[str]:
    return sorted(model._meta.db_table for model in append_only_models())


def append_only_trigger(table: str) -> tuple[str, str]:
    """SQL (create, drop) for a PostgreSQL trigger refusing UPDATE and DELETE on `table`, whoever connects."""
    function = f"{table}_append_only"
    create = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {function} BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {function}();
"""
    drop = f"DROP TRIGGER IF EXISTS {function} ON {table}; DROP FUNCTION IF EXISTS {function}();"
    return create, drop


def reviewed_once_trigger(
    table: str, *, review_columns: Sequence[str], decision_column: str, undecided: str
) -> tuple[str, str]:
    """SQL (create, drop) for a PostgreSQL trigger keeping a reviewed record: DELETE is refused, and
    UPDATE too unless it decides an undecided row (`decision_column` = `undecided` before, another
    value after) and changes nothing but `review_columns`. Every other column, one added later
    included, is content and never changes.
    """
    function = f"{table}_append_only"
    columns = ", ".join(f"'{column}'" for column in review_columns)
    create = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '{table} is append-only (DELETE refused)';
    END IF;
    IF OLD.{decision_column} IS DISTINCT FROM '{undecided}' OR NEW.{decision_column} = '{undecided}' THEN
        RAISE EXCEPTION '{table}: only an undecided row is reviewed, once (UPDATE refused)';
    END IF;
    IF (to_jsonb(NEW) - ARRAY[{columns}]::text[]) IS DISTINCT FROM (to_jsonb(OLD) - ARRAY[{columns}]::text[]) THEN
        RAISE EXCEPTION '{table}: the content never changes, only the review is set (UPDATE refused)';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {function} BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {function}();
"""  # noqa: S608 (names and values from the migrations, not from input)
    drop = f"DROP TRIGGER IF EXISTS {function} ON {table}; DROP FUNCTION IF EXISTS {function}();"
    return create, drop


def truncate_trigger_name(table: str) -> str:
    return f"{table}_refuses_truncate"


def refuse_truncate_trigger(table: str) -> tuple[str, str]:
    """SQL (create, drop) for a statement trigger refusing TRUNCATE on `table` (row triggers do not
    fire on TRUNCATE), also when it comes as the CASCADE of another table's."""
    name = truncate_trigger_name(table)
    create = f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{table} is append-only (TRUNCATE refused)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {name} BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {name}();
"""
    drop = f"DROP TRIGGER IF EXISTS {name} ON {table}; DROP FUNCTION IF EXISTS {name}();"
    return create, drop


def _on_postgresql(create: str, drop: str) -> migrations.RunPython:
    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(create, params=None)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(drop, params=None)

    return migrations.RunPython(forwards, backwards)


def append_only_migration(table: str) -> migrations.RunPython:
    """A migration operation adding the append-only trigger of `table` on PostgreSQL (a no-op elsewhere)."""
    return _on_postgresql(*append_only_trigger(table))


def reviewed_once_migration(
    table: str, *, review_columns: Sequence[str], decision_column: str, undecided: str
) -> migrations.RunPython:
    """A migration operation adding `reviewed_once_trigger` on PostgreSQL (a no-op elsewhere)."""
    return _on_postgresql(
        *reviewed_once_trigger(
            table, review_columns=review_columns, decision_column=decision_column, undecided=undecided
        )
    )


def refuse_truncate_migration(table: str) -> migrations.RunPython:
    """A migration operation adding the TRUNCATE guard of `table` on PostgreSQL (a no-op elsewhere)."""
    return _on_postgresql(*refuse_truncate_trigger(table))


@contextmanager
def truncate_guards_lifted(connection) -> Iterator[None]:
    """Within one transaction, let TRUNCATE empty the append-only tables: for `flush` (tests, bench),
    the one command meant to erase a database. The guards are disabled and enabled again in that
    transaction, so no other session ever sees them off; it needs the tables' owner.
    """
    if connection.vendor != "postgresql":
        yield
        return
    names = [truncate_trigger_name(table) for table in append_only_tables()]
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = ANY(%s) AND pg_table_is_visible(c.oid) ORDER BY c.relname",
                [names],
            )
            guards = cursor.fetchall()
            quote = connection.ops.quote_name
            for table, trigger in guards:
                cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER {quote(trigger)}")
        yield
        with connection.cursor() as cursor:
            for table, trigger in guards:
                cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER {quote(trigger)}")
