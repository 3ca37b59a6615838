from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.services import demo_users_ensure

# Published on purpose: demo accounts exist only in the embedded (DEBUG) mode.
DEMO_PASSWORD = "demo-lampung"  # noqa: S105


class Command(BaseCommand):
    help = "Create the demo accounts (embedded mode only) and print their credentials."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run even with DEBUG=0 (never on a real server)")

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates accounts with a published password; it runs only with DEBUG on.")
        users = demo_users_ensure(password=DEMO_PASSWORD)
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD}):"))
        for user in users:
            scope = f" {user.regency_id}" if user.regency_id else ""
            self.stdout.write(f"  {user.username:<24} {user.get_role_display()}{scope}")
