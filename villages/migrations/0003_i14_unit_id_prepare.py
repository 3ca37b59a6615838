"""Issue 14, step 1 of 3 (see smartvillage/unit_ids.py): number the units, and hold the numbers in the
units' references to their parents instead of the codes."""

from django.db import migrations, models

from smartvillage.unit_ids import code_column, unit_id_fill, unit_refs_to_ids

UNITS = ("province", "regency", "district", "village")
# (model, field, the referenced unit's model)
PARENTS = (("regency", "province", "province"), ("district", "regency", "regency"), ("village", "district", "district"), ("village", "regency", "regency"))


class Migration(migrations.Migration):
    dependencies = [("villages", "0002_regency_kind_code_rule")]

    operations = [
        *(migrations.AddField(model_name=unit, name="new_id", field=models.IntegerField(null=True)) for unit in UNITS),
        *(unit_id_fill(f"villages_{unit}") for unit in UNITS),
        *(
            migrations.AlterField(model_name=model, name=field, field=code_column(db_column=f"{field}_id"))
            for model, field, _unit in PARENTS
        ),
        *(unit_refs_to_ids(f"villages_{model}", f"{field}_id", f"villages_{unit}") for model, field, unit in PARENTS),
    ]
