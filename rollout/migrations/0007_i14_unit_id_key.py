"""Issue 14, step 3 of 3 (see smartvillage/unit_ids.py): statuses and reports point at the village's key."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("rollout", "0006_i14_unit_id_prepare"), ("villages", "0004_i14_unit_id_key")]

    operations = [
        migrations.AlterField(
            model_name="villagestatus",
            name="village",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT,
                primary_key=True,
                related_name="rollout",
                serialize=False,
                to="villages.village",
                verbose_name="village",
            ),
        ),
        migrations.AlterField(
            model_name="progressreport",
            name="village",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reports",
                to="villages.village",
                verbose_name="village",
            ),
        ),
    ]
