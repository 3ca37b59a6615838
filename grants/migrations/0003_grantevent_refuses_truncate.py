from django.db import migrations

from smartvillage.db import refuse_truncate_migration


class Migration(migrations.Migration):
    dependencies = [("grants", "0002_grant_events_append_only")]

    # Row triggers do not fire on TRUNCATE: a statement trigger refuses it.
    operations = [refuse_truncate_migration("grants_grantevent")]
