from django.db import migrations

from smartvillage.db import refuse_truncate_migration, reviewed_once_migration

# The columns a review sets, once; every other column of a report is its content and never changes.
REVIEW_COLUMNS = ("status", "reviewed_by_id", "reviewed_at", "rejection_reason", "superseded")


class Migration(migrations.Migration):
    dependencies = [("rollout", "0003_report_superseded")]

    # On PostgreSQL the database itself keeps the reports' record, whoever connects.
    operations = [
        reviewed_once_migration(
            "rollout_progressreport", review_columns=REVIEW_COLUMNS, decision_column="status", undecided="awaiting"
        ),
        refuse_truncate_migration("rollout_progressreport"),
    ]
