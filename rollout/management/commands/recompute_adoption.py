import datetime

from django.core.management.base import BaseCommand, CommandError

from rollout.services import adoption_recompute


class Command(BaseCommand):
    help = "Recompute the adoption snapshots of today (or --date) for every province, regency and district."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD; a past date counts adoption as of that day")

    def handle(self, *args, date: str | None, **options):
        try:
            on_date = datetime.date.fromisoformat(date) if date else None
        except ValueError:
            raise CommandError(f"--date {date!r} is not a date (YYYY-MM-DD).") from None
        rows = adoption_recompute(on_date=on_date)
        self.stdout.write(self.style.SUCCESS(f"{rows} snapshot rows written."))
