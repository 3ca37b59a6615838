from django.db import migrations

from smartvillage.db import append_only_migration


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_audit_entry")]

    # On PostgreSQL the database itself refuses to change the audit trail, whoever connects.
    operations = [append_only_migration("accounts_auditentry")]
