"""Issue 14, step 1 of 3 (see smartvillage/unit_ids.py): officers' regencies held by the unit's number."""

from django.db import migrations

from smartvillage.unit_ids import code_column, unit_refs_to_ids


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_i15_audit_actions"), ("villages", "0003_i14_unit_id_prepare")]

    operations = [
        migrations.AlterField(model_name="user", name="regency", field=code_column(db_column="regency_id", null=True)),
        unit_refs_to_ids("accounts_user", "regency_id", "villages_regency"),
    ]
