from django.db import migrations

from smartvillage.db import append_only_trigger

# On PostgreSQL the database itself refuses to change the audit trail, whoever connects.
CREATE, DROP = append_only_trigger("accounts_auditentry")


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_audit_entry")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
