import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from villages.region_plan import plan_write
from villages.services import (
    DEFAULT_REGIONS_FILE,
    LEVELS,
    RegionFileError,
    plan_text_read,
    regions_apply,
    regions_load,
    regions_plan,
)

# Enough to fix a file in one pass without flooding the terminal.
MAX_ERRORS_SHOWN = 50


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--valid-from {value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Load an official Kemendagri region list (.csv or .csv.gz) into the registry: "
        "idempotent upsert, all or nothing. Default: the bundled Lampung file. A list that moves codes is "
        "planned (--plan PLAN.csv: writes the proposed changes, changes nothing) and then applied "
        "(--apply PLAN.csv --decree ... --valid-from YYYY-MM-DD), which keeps each unit's identity."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(DEFAULT_REGIONS_FILE), help="region file to load")
        parser.add_argument("--dry-run", action="store_true", help="validate and count, write nothing")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--plan", metavar="PLAN.csv", help="write the proposed change set; change nothing")
        action.add_argument("--apply", metavar="PLAN.csv", help="apply a reviewed change set, all or nothing")
        parser.add_argument("--decree", help="the list's decree, e.g. 'Kepmendagri 300.2.2-2138/2025'")
        parser.add_argument("--valid-from", help="the date the list is valid from (YYYY-MM-DD)")

    def handle(self, *args, path: str, dry_run: bool, plan: str | None, apply: str | None, **options):
        decree, valid_from = options["decree"], options["valid_from"]
        try:
            if plan:
                self._plan(Path(path), Path(plan))
            elif apply:
                if not decree or not valid_from:
                    raise CommandError("--apply needs --decree and --valid-from")
                self._apply(Path(path), Path(apply), decree, _date(valid_from))
            else:
                self._load(Path(path), dry_run, decree, _date(valid_from) if valid_from else None)
        except RegionFileError as exc:  # PlanFileError too
            shown = exc.errors[:MAX_ERRORS_SHOWN]
            more = len(exc.errors) - len(shown)
            lines = [f"{apply or path}: {len(exc.errors)} error(s), nothing was written.", *shown]
            if more:
                lines.append(f"... and {more} more")
            raise CommandError("\n".join(lines)) from None

    def _plan(self, path: Path, plan_path: Path) -> None:
        plan = regions_plan(path=path)
        plan_write(plan=plan, path=plan_path)
        self.stdout.write(plan.summary())
        unresolved = plan.totals()["unresolved"]
        self.stdout.write(
            self.style.SUCCESS(f"Plan written to {plan_path}: {len(plan.rows)} changed unit(s); nothing was changed.")
        )
        if unresolved:
            self.stdout.write(self.style.WARNING(f"{unresolved} unresolved row(s): decide them before --apply."))

    def _apply(self, path: Path, plan_path: Path, decree: str, valid_from: datetime.date) -> None:
        report = regions_apply(
            path=path, plan_text=plan_text_read(path=plan_path), decree=decree, valid_from=valid_from
        )
        self.stdout.write(report.plan.summary())
        self.stdout.write(
            self.style.SUCCESS(
                f"Applied {plan_path} ({len(report.plan.rows)} change(s)), {decree}, valid from {valid_from}."
            )
        )

    def _load(self, path: Path, dry_run: bool, decree: str | None, valid_from: datetime.date | None) -> None:
        report = regions_load(path=path, dry_run=dry_run, decree=decree, valid_from=valid_from)
        columns = ("created", "updated", "unchanged", "deactivated")
        self.stdout.write(f"{'level':<10}" + "".join(f"{name:>13}" for name in columns))
        for level in LEVELS:
            counts = report.levels[level]
            self.stdout.write(f"{level:<10}" + "".join(f"{getattr(counts, name):>13}" for name in columns))
        self.stdout.write(f"{'total':<10}" + "".join(f"{report.total(name):>13}" for name in columns))
        verdict = "Dry run: nothing was written." if dry_run else f"Loaded {path}."
        self.stdout.write(self.style.SUCCESS(verdict))
