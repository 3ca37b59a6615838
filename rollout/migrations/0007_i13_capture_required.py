from django.db import migrations, models

from smartvillage.db import reviewed_once_migration

# The columns a review sets, once (0004's, and `late`: a report found late when it is verified).
REVIEW_COLUMNS = ("status", "reviewed_by_id", "reviewed_at", "rejection_reason", "superseded", "late")


class Migration(migrations.Migration):
    dependencies = [("rollout", "0006_i13_capture")]

    operations = [
        migrations.AlterField(
            model_name="progressreport",
            name="captured_at",
            field=models.DateTimeField(verbose_name="captured at"),
        ),
        reviewed_once_migration(
            "rollout_progressreport", review_columns=REVIEW_COLUMNS, decision_column="status", undecided="awaiting"
        ),
    ]
