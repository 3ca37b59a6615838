from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grants.models import Allocation
from treasury.matching import reconcile
from treasury.models import OutcomeKind
from treasury.parsers import StatementFileError, columns_parse, statement_parse_file
from treasury.selectors import disbursement_refs


class Command(BaseCommand):
    help = (
        "Reconcile an RKUD bank statement (.csv, .xlsx, MT940 .sta/.mt940/.txt) against an allocation's "
        "disbursements: prints `outcome: N` per outcome, then `outcome_amount: rupiah`. "
        "Only --dry-run for now: the import (staging the lines and outcomes) comes with the import service."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="statement file; its format is recognised from its name")
        parser.add_argument("--allocation", type=int, required=True, help="id of the allocation")
        parser.add_argument("--dry-run", action="store_true", help="reconcile and print, write nothing")
        parser.add_argument(
            "--columns",
            default="",
            help="CSV/XLSX in another layout: column=Header pairs, e.g. 'tanggal=Tgl,keterangan=Uraian,"
            "referensi_bank=No. Ref,debet=Mutasi Debet,kredit=Mutasi Kredit,saldo=Saldo'",
        )

    def handle(self, *args, path: str, allocation: int, dry_run: bool, columns: str, **options):
        if not dry_run:
            raise CommandError("Importing a statement is not available yet; run with --dry-run.")
        try:
            mapping = columns_parse(columns) if columns else None
        except ValueError as exc:
            raise CommandError(f"--columns: {exc}") from None
        found = Allocation.objects.filter(pk=allocation).first()
        if found is None:
            raise CommandError(f"--allocation: there is no allocation {allocation}.")
        try:
            statement = statement_parse_file(Path(path), columns=mapping)
        except StatementFileError as exc:
            raise CommandError("\n".join([f"{path}: {exc.message}", *exc.fields["file"]])) from None

        header = statement.header
        result = reconcile(
            lines=statement.lines,
            disbursements=disbursement_refs(allocation=found),
            period_from=header.period_from,
            period_to=header.period_to,
        )
        self.stdout.write(
            f"{statement.file_name} ({statement.format}, {len(statement.lines)} lines, "
            f"{header.period_from} .. {header.period_to}, sha256 {statement.sha256[:12]}) against {found}"
        )
        if options["verbosity"] > 1:
            for outcome in result.outcomes:
                where = f"line {outcome.line.line}" if outcome.line else "-"
                self.stdout.write(f"  {outcome.kind:<23} {where:<11} {outcome.amount:>16}  {outcome.reason}")
        counts, amounts = result.counts(), result.amounts()
        for kind in OutcomeKind.values:
            self.stdout.write(f"{kind}: {counts[kind]}")
        for kind in OutcomeKind.values:
            self.stdout.write(f"{kind}_amount: {amounts[kind]}")
        self.stdout.write(f"debit_total: {result.debit_total}")
        self.stdout.write(f"other_credits: {len(result.other_credits)}")
        self.stdout.write(self.style.SUCCESS("Dry run: nothing was written."))
