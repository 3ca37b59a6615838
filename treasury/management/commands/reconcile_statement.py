from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.access import Capability, roles_with
from accounts.models import Role, User
from grants.models import Allocation
from treasury.models import OutcomeKind
from treasury.parsers import StatementFileError, columns_parse, statement_parse_file
from treasury.services import ImportReport, statement_import

RECONCILERS = roles_with(Capability.RECONCILE)


class Command(BaseCommand):
    help = (
        "Import an RKUD bank statement (.csv, .xlsx, MT940 .sta/.mt940/.txt) for an allocation and reconcile "
        "it against the allocation's disbursements (--dry-run: write nothing). Prints `outcome: N` per "
        "outcome, then `outcome_amount: rupiah`, of the file's new lines and the disbursements of its period."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="statement file; its format is recognised from its name")
        parser.add_argument("--allocation", type=int, required=True, help="id of the allocation")
        parser.add_argument("--dry-run", action="store_true", help="reconcile and print, write nothing")
        parser.add_argument(
            "--as-user",
            default="",
            help="username of the province staff member or administrator the import is recorded for "
            "(default: the first active province administrator)",
        )
        parser.add_argument(
            "--columns",
            default="",
            help="CSV/XLSX in another layout: column=Header pairs, e.g. 'tanggal=Tgl,keterangan=Uraian,"
            "referensi_bank=No. Ref,debet=Mutasi Debet,kredit=Mutasi Kredit,saldo=Saldo'",
        )

    def _actor(self, username: str) -> User:
        users = User.objects.with_username(username) if username else User.objects.filter(role=Role.PROVINCE_ADMIN)
        actor = users.filter(is_active=True, role__in=RECONCILERS).order_by("pk").first()
        if actor is None:
            raise CommandError(
                f"--as-user: no active province staff member or administrator {username!r}."
                if username
                else "--as-user: there is no active province administrator to record the import for."
            )
        return actor

    def handle(self, *args, path: str, allocation: int, dry_run: bool, columns: str, as_user: str, **options):
        try:
            mapping = columns_parse(columns) if columns else None
        except ValueError as exc:
            raise CommandError(f"--columns: {exc}") from None
        found = Allocation.objects.filter(pk=allocation).first()
        if found is None:
            raise CommandError(f"--allocation: there is no allocation {allocation}.")
        actor = None if dry_run else self._actor(as_user)
        try:
            statement = statement_parse_file(Path(path), columns=mapping)
            report = statement_import(allocation=found, parsed=statement, actor=actor, dry_run=dry_run)
        except StatementFileError as exc:
            raise CommandError("\n".join([f"{path}: {exc.message}", *exc.fields["file"]])) from None

        self.stdout.write(
            f"{report.file_name} ({report.format}, {report.lines} lines, {report.period_from} .. "
            f"{report.period_to}, sha256 {report.sha256[:12]}) against {found}"
        )
        if options["verbosity"] > 1 and report.statement is not None:
            self._list(report)
        self._figures(report)
        if report.already_imported:
            self.stdout.write(
                self.style.WARNING(
                    f"Already imported as statement {report.statement.pk} on "
                    f"{report.statement.imported_at:%Y-%m-%d %H:%M}: nothing changed."
                )
            )
        elif dry_run:
            self.stdout.write(self.style.SUCCESS("Dry run: nothing was written."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Imported as statement {report.statement.pk}."))

    def _figures(self, report: ImportReport) -> None:
        for kind in OutcomeKind.values:
            self.stdout.write(f"{kind}: {report.counts[kind]}")
        for kind in OutcomeKind.values:
            self.stdout.write(f"{kind}_amount: {report.amounts[kind]}")
        self.stdout.write(f"debit_total: {report.debit_total}")
        self.stdout.write(f"new_lines: {report.new_lines}")
        self.stdout.write(f"known_lines: {report.known_lines}")
        self.stdout.write(f"known_debit: {report.known_debit}")
        self.stdout.write(f"other_credits: {report.other_credits}")

    def _list(self, report: ImportReport) -> None:
        from treasury.services import reason_from_json

        for outcome in report.statement.outcomes.select_related("line").order_by("id"):
            where = f"line {outcome.line.line_number}" if outcome.line else "-"
            reason = reason_from_json(outcome.reason)
            self.stdout.write(f"  {outcome.kind:<23} {where:<11} {outcome.amount:>16}  {reason}")
