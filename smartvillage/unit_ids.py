"""Migration building blocks for giving region units a surrogate primary key (issue 14).

Until then a unit's Kemendagri code was its primary key and every foreign key held the code; a code
changes when Kemendagri renumbers or moves a unit, so the unit now has an `id` and keeps `code` as its
unique current code. The change runs on a database with data, in three steps across the apps:

1. `villages` adds `new_id` to each unit table, numbered in code order (`unit_id_fill`), and each
   foreign key to a unit becomes a plain character column holding that number (`unit_refs_to_ids`);
2. `villages` swaps the primary key from `code` to `new_id`, renamed `id` (`SwapPrimaryKey`);
3. the character columns become foreign keys again, to the new key (an `AlterField` casts them).

Every step runs backwards too (ids back to codes), so earlier migrations' tests can migrate back.
"""

from collections.abc import Sequence

from django.db import migrations, models
from django.db.migrations.operations.base import Operation


def unit_id_fill(table: str) -> migrations.RunPython:
    """Number the units of `table` 1..n in code order, into `new_id`."""

    def forwards(apps, schema_editor):
        schema_editor.execute(
            f"UPDATE {table} SET new_id = numbered.n FROM "  # noqa: S608 (table names from the migrations)
            f"(SELECT code, ROW_NUMBER() OVER (ORDER BY code) AS n FROM {table}) AS numbered "
            f"WHERE numbered.code = {table}.code",
            params=None,
        )

    return migrations.RunPython(forwards, migrations.RunPython.noop)


def unit_refs_to_ids(
    table: str, column: str, unit_table: str, *, triggers: Sequence[tuple[str, str]] = ()
) -> migrations.RunPython:
    """Rewrite `table.column` from a unit's code to its `new_id` (backwards: from the id to the code).

    `triggers` are the (create, drop) SQL of PostgreSQL triggers refusing the UPDATE (an append-only
    record's): dropped for the rewrite and created again at once, in the same transaction, so nobody
    else ever writes to the table without them. The rewrite changes no record's content: the same
    unit, named by its new key."""

    def rewrite(schema_editor, sql):
        postgresql = schema_editor.connection.vendor == "postgresql"
        if postgresql:
            for _create, drop in triggers:
                schema_editor.execute(drop, params=None)
        schema_editor.execute(sql, params=None)
        if postgresql:
            for create, _drop in triggers:
                schema_editor.execute(create, params=None)

    def forwards(apps, schema_editor):
        rewrite(
            schema_editor,
            f"UPDATE {table} SET {column} = CAST(unit.new_id AS varchar(13)) "  # noqa: S608
            f"FROM {unit_table} AS unit WHERE unit.code = {table}.{column}",
        )

    def backwards(apps, schema_editor):
        rewrite(
            schema_editor,
            f"UPDATE {table} SET {column} = unit.code "  # noqa: S608
            f"FROM {unit_table} AS unit WHERE CAST(unit.new_id AS varchar(13)) = {table}.{column}",
        )

    return migrations.RunPython(forwards, backwards)


def code_column(*, db_column: str, null: bool = False, primary_key: bool = False) -> models.CharField:
    """The temporary field of step 1: the same column, a plain character column without a constraint."""
    if primary_key:
        return models.CharField(max_length=13, primary_key=True, serialize=False, db_column=db_column)
    return models.CharField(max_length=13, null=null, blank=null, db_index=True, db_column=db_column)


class SwapPrimaryKey(Operation):
    """Make `new_id` (renamed `id`, an auto-incrementing big integer) the primary key of a unit table, and
    `code` a unique column. Nothing may reference the table as a foreign key while it runs (step 1)."""

    reversible = True
    reduces_to_sql = False

    def __init__(self, model_name: str):
        self.model_name = model_name

    def deconstruct(self):
        return self.__class__.__name__, [self.model_name], {}

    def describe(self):
        return f"Make id the primary key of {self.model_name}, code a unique column"

    @property
    def migration_name_fragment(self):
        return f"{self.model_name}_id_key"

    def state_forwards(self, app_label, state):
        model_state = state.models[app_label, self.model_name]
        code = models.CharField(max_length=13, unique=True, verbose_name="code")
        fields = {"id": models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")}
        fields.update((name, code if name == "code" else field) for name, field in model_state.fields.items())
        fields.pop("new_id")
        model_state.fields = fields
        state.reload_model(app_label, self.model_name, delay=True)

    def state_backwards(self, app_label, state):
        model_state = state.models[app_label, self.model_name]
        code = models.CharField(max_length=13, primary_key=True, serialize=False, verbose_name="code")
        fields = {
            name: (code if name == "code" else field) for name, field in model_state.fields.items() if name != "id"
        }
        fields["new_id"] = models.IntegerField(null=True)
        model_state.fields = fields
        state.reload_model(app_label, self.model_name, delay=True)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        table = model._meta.db_table
        quote = schema_editor.quote_name
        if schema_editor.connection.vendor == "postgresql":
            unique = schema_editor._create_index_name(table, ["code"], suffix="_uniq")
            for name in schema_editor._constraint_names(model, primary_key=True):
                schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}", params=None)
            for sql in (
                f"ALTER TABLE {quote(table)} RENAME COLUMN new_id TO id",
                f"ALTER TABLE {quote(table)} ALTER COLUMN id TYPE bigint, ALTER COLUMN id SET NOT NULL",
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(table + '_pkey')} PRIMARY KEY (id)",
                f"ALTER TABLE {quote(table)} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY",
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) "  # noqa: S608
                f"FROM {quote(table)}",
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(unique)} UNIQUE (code)",
            ):
                schema_editor.execute(sql, params=None)
        else:
            schema_editor.execute(f"ALTER TABLE {quote(table)} RENAME COLUMN new_id TO id", params=None)
            schema_editor._remake_table(model)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        table = model._meta.db_table
        quote = schema_editor.quote_name
        if schema_editor.connection.vendor == "postgresql":
            current = from_state.apps.get_model(app_label, self.model_name)
            for name in schema_editor._constraint_names(current, ["code"], unique=True, primary_key=False):
                schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}", params=None)
            for name in schema_editor._constraint_names(current, primary_key=True):
                schema_editor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}", params=None)
            for sql in (
                f"ALTER TABLE {quote(table)} ALTER COLUMN id DROP IDENTITY",
                f"ALTER TABLE {quote(table)} ALTER COLUMN id TYPE integer, ALTER COLUMN id DROP NOT NULL",
                f"ALTER TABLE {quote(table)} RENAME COLUMN id TO new_id",
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(table + '_pkey')} PRIMARY KEY (code)",
            ):
                schema_editor.execute(sql, params=None)
        else:
            schema_editor.execute(f"ALTER TABLE {quote(table)} RENAME COLUMN id TO new_id", params=None)
            schema_editor._remake_table(model)
