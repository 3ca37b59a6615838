from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from villages.services import DEFAULT_REGIONS_FILE, LEVELS, RegionFileError, regions_load

# Enough to fix a file in one pass without flooding the terminal.
MAX_ERRORS_SHOWN = 50


class Command(BaseCommand):
    help = (
        "Load an official Kemendagri region list (.csv or .csv.gz) into the registry: "
        "idempotent upsert, all or nothing. Default: the bundled Lampung file."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEFAULT_REGIONS_FILE), help="region file to load")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")

    def handle(self, *args, path: str, dry_run: bool, **options):
        try:
            report = regions_load(path=Path(path), dry_run=dry_run)
        except RegionFileError as exc:
            shown = exc.errors[:MAX_ERRORS_SHOWN]
            more = len(exc.errors) - len(shown)
            lines = [f"{path}: {len(exc.errors)} error(s), nothing was written.", *shown]
            if more:
                lines.append(f"... and {more} more")
            raise CommandError("\n".join(lines)) from None

        columns = ("created", "updated", "unchanged", "deactivated")
        self.stdout.write(f"{'level':<10}" + "".join(f"{name:>13}" for name in columns))
        for level in LEVELS:
            counts = report.levels[level]
            self.stdout.write(f"{level:<10}" + "".join(f"{getattr(counts, name):>13}" for name in columns))
        self.stdout.write(f"{'total':<10}" + "".join(f"{report.total(name):>13}" for name in columns))
        verdict = "Dry run: nothing was written." if dry_run else f"Loaded {path}."
        self.stdout.write(self.style.SUCCESS(verdict))
