"""Issue 14, step 3 of 3 (see smartvillage/unit_ids.py): outcomes' regencies point at the unit's key."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("treasury", "0003_i14_unit_id_prepare"), ("villages", "0004_i14_unit_id_key")]

    operations = [
        migrations.AlterField(
            model_name="outcome",
            name="regency",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="villages.regency",
                verbose_name="regency/city",
            ),
        ),
    ]
