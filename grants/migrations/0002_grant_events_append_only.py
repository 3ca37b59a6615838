from django.db import migrations

# On PostgreSQL the database itself refuses to change the audit trail, whoever connects.
CREATE = """
CREATE OR REPLACE FUNCTION grants_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'grants_grantevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER grants_grantevent_append_only
    BEFORE UPDATE OR DELETE ON grants_grantevent
    FOR EACH ROW EXECUTE FUNCTION grants_event_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS grants_grantevent_append_only ON grants_grantevent;
DROP FUNCTION IF EXISTS grants_event_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("grants", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
