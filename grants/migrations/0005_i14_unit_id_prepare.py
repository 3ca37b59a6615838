"""Issue 14, step 1 of 3 (see smartvillage/unit_ids.py): allocations' provinces and grants' villages held by
the unit's number."""

from django.db import migrations

from smartvillage.unit_ids import code_column, unit_refs_to_ids


class Migration(migrations.Migration):
    dependencies = [("grants", "0004_disbursement_reference_key"), ("villages", "0003_i14_unit_id_prepare")]

    operations = [
        migrations.AlterField(model_name="allocation", name="province", field=code_column(db_column="province_id")),
        migrations.AlterField(model_name="grant", name="village", field=code_column(db_column="village_id")),
        unit_refs_to_ids("grants_allocation", "province_id", "villages_province"),
        unit_refs_to_ids("grants_grant", "village_id", "villages_village"),
    ]
