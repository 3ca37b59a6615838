"""Usernames unique in the form login reads them (NFKC, lowercase), and existing rows stored in NFKC.

Existing accounts that would log into each other once login ignores case and compatibility forms
(`Staf` beside `staf`) are not merged or renamed here: which one keeps the name is a person's
decision. The migration stops, naming them, and runs once they are renamed."""

import unicodedata

from django.db import migrations, models

import accounts.models


class UsernameClash(Exception):
    pass


def _clash_message(groups: list[list[tuple[int, str]]]) -> str:
    listed = "; ".join(", ".join(f"{username!r} (id {pk})" for pk, username in group) for group in groups)
    return (
        "These accounts log into each other once login ignores case and Unicode compatibility forms: "
        f"{listed}. Rename all but one account of each group (Django admin or `manage.py shell`), "
        "then run migrate again."
    )


def normalise_usernames(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    db = schema_editor.connection.alias
    rows = list(User.objects.using(db).order_by("pk").values_list("pk", "username"))
    groups: dict[str, list[tuple[int, str]]] = {}
    for pk, username in rows:
        groups.setdefault(unicodedata.normalize("NFKC", username).lower(), []).append((pk, username))
    clashes = [group for group in groups.values() if len(group) > 1]
    if clashes:
        raise UsernameClash(_clash_message(clashes))
    for pk, username in rows:
        normal = unicodedata.normalize("NFKC", username)
        if normal != username:
            User.objects.using(db).filter(pk=pk).update(username=normal)
    # The database's own case folding decides the index: check with it too (it may fold a letter
    # Python does not), so the constraint below never fails without saying why.
    keyed = User.objects.using(db).annotate(key=accounts.models.CanonicalUsername("username"))
    by_key: dict[str, list[tuple[int, str]]] = {}
    for pk, username, key in keyed.order_by("pk").values_list("pk", "username", "key"):
        by_key.setdefault(key, []).append((pk, username))
    clashes = [group for group in by_key.values() if len(group) > 1]
    if clashes:
        raise UsernameClash(_clash_message(clashes))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_audit_entry_append_only"),
    ]

    operations = [
        migrations.AlterModelManagers(
            name="user",
            managers=[
                ("objects", accounts.models.UserManager()),
            ],
        ),
        migrations.RunPython(normalise_usernames, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                accounts.models.CanonicalUsername("username"),
                name="user_username_canonical_unique",
                violation_error_code="username_taken",
                violation_error_message="A user with that username already exists.",
            ),
        ),
    ]
