"""Issue 14, step 2 of 3 (see smartvillage/unit_ids.py): `id` becomes each unit's primary key and `code` its
unique current code; the units' references to their parents become foreign keys to the new key."""

import django.db.models.deletion
from django.db import migrations, models

from smartvillage.unit_ids import SwapPrimaryKey


def parent(to: str, related_name: str, verbose_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        on_delete=django.db.models.deletion.PROTECT, related_name=related_name, to=to, verbose_name=verbose_name
    )


class Migration(migrations.Migration):
    dependencies = [
        ("villages", "0003_i14_unit_id_prepare"),
        # Nothing may still reference a unit by its code when the key changes.
        ("accounts", "0007_i14_unit_id_prepare"),
        ("grants", "0005_i14_unit_id_prepare"),
        ("rollout", "0006_i14_unit_id_prepare"),
        ("treasury", "0003_i14_unit_id_prepare"),
    ]

    operations = [
        *(SwapPrimaryKey(unit) for unit in ("province", "regency", "district", "village")),
        migrations.AlterField(
            model_name="regency", name="province", field=parent("villages.province", "regencies", "province")
        ),
        migrations.AlterField(
            model_name="district", name="regency", field=parent("villages.regency", "districts", "regency/city")
        ),
        migrations.AlterField(
            model_name="village", name="district", field=parent("villages.district", "villages", "district")
        ),
        migrations.AlterField(
            model_name="village", name="regency", field=parent("villages.regency", "villages", "regency/city")
        ),
    ]
