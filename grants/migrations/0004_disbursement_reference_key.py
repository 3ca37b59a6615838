from django.db import migrations, models

from grants.services import reference_key


def fill_reference_keys(apps, schema_editor):
    """The canonical form of every existing reference; refuses to go on if two of an allocation coincide."""
    Disbursement = apps.get_model("grants", "Disbursement")
    seen: dict[tuple[int, str], str] = {}
    clashes = []
    for disbursement in Disbursement.objects.order_by("pk"):
        key = reference_key(disbursement.reference)
        first = seen.setdefault((disbursement.allocation_id, key), disbursement.reference)
        if first != disbursement.reference or len(key) > 100:
            clashes.append(f"allocation {disbursement.allocation_id}: {first!r} / {disbursement.reference!r}")
            continue
        disbursement.reference_key = key
        disbursement.save(update_fields=["reference_key"])
    if clashes:
        raise RuntimeError(
            "SP2D references that are the same transfer written another way (or too long once canonical); "
            "correct them before migrating:\n" + "\n".join(clashes)
        )


class Migration(migrations.Migration):
    dependencies = [("grants", "0003_grantevent_refuses_truncate")]

    operations = [
        migrations.AddField(
            model_name="disbursement",
            name="reference_key",
            field=models.CharField(
                editable=False, max_length=100, null=True, verbose_name="transfer reference, canonical form"
            ),
        ),
        migrations.RunPython(fill_reference_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="disbursement",
            name="reference_key",
            field=models.CharField(editable=False, max_length=100, verbose_name="transfer reference, canonical form"),
        ),
        migrations.RemoveConstraint(model_name="disbursement", name="disbursement_reference_unique"),
        migrations.AddConstraint(
            model_name="disbursement",
            constraint=models.UniqueConstraint(
                fields=("allocation", "reference_key"), name="disbursement_reference_key_unique"
            ),
        ),
    ]
