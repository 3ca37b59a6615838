"""Issue 14, step 1 of 3 (see smartvillage/unit_ids.py): reconciliation outcomes hold their regency's number."""

from django.db import migrations

from smartvillage.unit_ids import code_column, unit_refs_to_ids


class Migration(migrations.Migration):
    dependencies = [("treasury", "0002_i15_import_resolutions"), ("villages", "0003_i14_unit_id_prepare")]

    operations = [
        migrations.AlterField(
            model_name="outcome", name="regency", field=code_column(db_column="regency_id", null=True)
        ),
        unit_refs_to_ids("treasury_outcome", "regency_id", "villages_regency"),
    ]
