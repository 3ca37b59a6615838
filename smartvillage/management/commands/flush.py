from django.core.management.commands import flush
from django.db import connections

from smartvillage.db import truncate_guards_lifted


class Command(flush.Command):
    """Django's flush, which also empties the append-only tables.

    PostgreSQL refuses TRUNCATE on those tables; flush is the one command meant to erase a whole
    database (the test runner between transactional tests, the bench), so it lifts their guards
    for its own transaction only (it needs the tables' owner). Lives here, in an installed app,
    to take the place of Django's command of the same name.
    """

    help = flush.Command.help + " Append-only tables included (their TRUNCATE guard is lifted for this transaction)."

    def handle(self, **options):
        with truncate_guards_lifted(connections[options["database"]]):
            super().handle(**options)
