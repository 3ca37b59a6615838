"""Issue 14, step 3 of 3 (see smartvillage/unit_ids.py): allocations and grants point at the unit's key."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("grants", "0005_i14_unit_id_prepare"), ("villages", "0004_i14_unit_id_key")]

    operations = [
        migrations.AlterModelOptions(
            name="grant",
            options={"ordering": ["village__code"], "verbose_name": "grant", "verbose_name_plural": "grants"},
        ),
        migrations.AlterField(
            model_name="allocation",
            name="province",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="allocations",
                to="villages.province",
                verbose_name="province",
            ),
        ),
        migrations.AlterField(
            model_name="grant",
            name="village",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="grants",
                to="villages.village",
                verbose_name="village",
            ),
        ),
    ]
