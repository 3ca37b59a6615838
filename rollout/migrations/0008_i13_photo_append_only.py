from django.db import migrations

from smartvillage.db import append_only_migration, refuse_truncate_migration


class Migration(migrations.Migration):
    dependencies = [("rollout", "0007_i13_capture_required")]

    # A report's photos are part of its record: on PostgreSQL the database keeps them, whoever connects.
    operations = [
        append_only_migration("rollout_reportphoto"),
        refuse_truncate_migration("rollout_reportphoto"),
    ]
