"""Issue 14, step 3 of 3 (see smartvillage/unit_ids.py): officers' regencies point at the unit's key."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0007_i14_unit_id_prepare"), ("villages", "0004_i14_unit_id_key")]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="regency",
            field=models.ForeignKey(
                blank=True,
                help_text="Required for regency officers, empty for every other role.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="officers",
                to="villages.regency",
                verbose_name="regency/city",
            ),
        ),
    ]
