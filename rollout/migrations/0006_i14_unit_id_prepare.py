"""Issue 14, step 1 of 3 (see smartvillage/unit_ids.py): village statuses and progress reports hold the
village's number. The reports' trigger refuses any UPDATE of their content: it is dropped for the rewrite
(the same village, named by its new key) and created again in the same transaction."""

from django.db import migrations

from smartvillage.db import reviewed_once_trigger
from smartvillage.unit_ids import code_column, unit_refs_to_ids

# As rollout 0007_i13_capture_required made it (0004's, and `late`).
REPORT_TRIGGER = reviewed_once_trigger(
    "rollout_progressreport",
    review_columns=("status", "reviewed_by_id", "reviewed_at", "rejection_reason", "superseded", "late"),
    decision_column="status",
    undecided="awaiting",
)


class Migration(migrations.Migration):
    dependencies = [("rollout", "0008_i13_photo_append_only"), ("villages", "0003_i14_unit_id_prepare")]

    operations = [
        migrations.AlterField(
            model_name="villagestatus", name="village", field=code_column(db_column="village_id", primary_key=True)
        ),
        migrations.AlterField(model_name="progressreport", name="village", field=code_column(db_column="village_id")),
        unit_refs_to_ids("rollout_villagestatus", "village_id", "villages_village"),
        unit_refs_to_ids("rollout_progressreport", "village_id", "villages_village", triggers=[REPORT_TRIGGER]),
    ]
