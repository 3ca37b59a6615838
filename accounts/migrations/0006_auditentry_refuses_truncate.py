from django.db import migrations

from smartvillage.db import refuse_truncate_migration


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_username_canonical_unique")]

    # Row triggers do not fire on TRUNCATE: a statement trigger refuses it.
    operations = [refuse_truncate_migration("accounts_auditentry")]
