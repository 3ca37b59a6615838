"""Database building blocks shared by the apps."""

from django.db import migrations, models


class AppendOnlyQuerySet(models.QuerySet):
    """Refuses bulk updates and deletes: the rows are a record of what happened."""

    def update(self, **kwargs):
        raise TypeError(f"{self.model._meta.label} is append-only.")

    def delete(self):
        raise TypeError(f"{self.model._meta.label} is append-only.")


class AppendOnlyModel(models.Model):
    """A row written once and never changed or deleted (refused here and, on PostgreSQL, by a trigger
    created with `append_only_trigger`)."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError(f"{self._meta.label} is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(f"{self._meta.label} is append-only.")


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


def append_only_migration(table: str) -> migrations.RunPython:
    """A migration operation adding the append-only trigger of `table` on PostgreSQL (a no-op elsewhere)."""
    create, drop = append_only_trigger(table)

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(create, params=None)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(drop, params=None)

    return migrations.RunPython(forwards, backwards)
