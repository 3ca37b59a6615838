"""Writes of the reconciliation: importing a bank statement for an allocation, resolving an open item,
recording the return a bank's credit line shows.

One import service for the command, the pages and the API (`statement_import`):
- the file is imported once per allocation (its SHA-256): importing it again changes nothing and answers
  what the first import found;
- a line already staged by an earlier statement (same bank reference, date, amount and occurrence: an
  overlapping statement) is not staged or reconciled again; only the file's new lines are;
- the new lines and the disbursements of the statement's period are reconciled by `treasury.matching`,
  the disbursements an earlier statement confirmed being `settled` (a new line paying one again is a
  duplicate), and every outcome is stored with its reason and the regency it concerns;
- a disbursement an earlier statement already reported missing is not reported missing again;
- everything in one transaction, under the allocation's row lock, so that two imports of one file at
  the same moment make one statement; nothing written for a refused file or a dry run.

Staff's resolutions are rows of their own (`Resolution`, append-only, one per outcome) that an import
never touches.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AuditAction, User
from accounts.services import audit_record
from grants import services as grant_services
from grants.models import Allocation, Disbursement, Grant
from smartvillage.errors import ApplicationError, TransitionRefused
from treasury.matching import LINE_KINDS, Reason, Reconciliation, reconcile
from treasury.models import (
    Outcome,
    OutcomeKind,
    Resolution,
    ResolutionAction,
    Statement,
    StatementLine,
    StatementUpload,
)
from treasury.parsers import ParsedStatement, StatementFileError, columns_parse, statement_parse
from treasury.parsers import StatementLine as ParsedLine
from treasury.parsers.common import MAX_FILE_BYTES
from treasury.references import canonical
from treasury.selectors import SETTLING_KINDS, disbursement_refs

BULK_BATCH = 5000
REASON_MAX_LENGTH = 2000


def reason_as_json(reason: Reason) -> dict:
    return {
        "code": reason.code,
        "params": dict(reason.params),
        "notes": [reason_as_json(note) for note in reason.notes],
    }


def reason_from_json(value: Mapping) -> Reason:
    """The stored reason, shown in the reader's language with `str()`."""
    return Reason(
        value["code"],
        dict(value.get("params") or {}),
        tuple(reason_from_json(note) for note in value.get("notes") or ()),
    )


@dataclass(frozen=True)
class ImportReport:
    """What an import (or its dry run) found in one file.

    `counts`/`amounts`: per outcome (`OutcomeKind`), of what this import reconciled: the file's new lines
    and the disbursements of its period (amounts are the bank's where there is a line, the portal's for
    a missing disbursement). The line outcomes' amounts add up to `new_debit`; with `known_debit`, the
    debits an earlier statement had already brought, to the file's `debit_total`.
    """

    file_name: str
    format: str
    sha256: str
    period_from: datetime.date | None
    period_to: datetime.date | None
    lines: int
    new_lines: int
    known_lines: int
    debit_total: int
    credit_total: int
    known_debit: int
    counts: dict[str, int]
    amounts: dict[str, int]
    other_credits: int
    dry_run: bool = False
    # Set for an import: the statement written, or the one this file was imported as before.
    statement: Statement | None = field(default=None, compare=False)
    already_imported: bool = False

    @property
    def new_debit(self) -> int:
        return self.debit_total - self.known_debit

    @property
    def line_outcomes_total(self) -> int:
        return sum(self.amounts[kind] for kind in LINE_KINDS)

    def as_dict(self) -> dict:
        """JSON values (dates ISO): the API's answer and `Statement.summary`."""
        return {
            "file_name": self.file_name,
            "format": self.format,
            "sha256": self.sha256,
            "period_from": self.period_from.isoformat() if self.period_from else None,
            "period_to": self.period_to.isoformat() if self.period_to else None,
            "lines": self.lines,
            "new_lines": self.new_lines,
            "known_lines": self.known_lines,
            "debit_total": self.debit_total,
            "credit_total": self.credit_total,
            "known_debit": self.known_debit,
            "counts": dict(self.counts),
            "amounts": dict(self.amounts),
            "other_credits": self.other_credits,
        }

    @classmethod
    def of_statement(cls, statement: Statement) -> ImportReport:
        """The report stored with an imported statement (its file imported again: nothing changed)."""
        summary = statement.summary
        dates = {name: summary.get(name) for name in ("period_from", "period_to")}
        return cls(
            **{name: summary[name] for name in summary if name not in dates},
            **{name: datetime.date.fromisoformat(value) if value else None for name, value in dates.items()},
            statement=statement,
            already_imported=True,
        )


@dataclass
class _Plan:
    parsed: ParsedStatement
    new_lines: list[ParsedLine]
    known_debit: int
    result: Reconciliation
    outcomes: list  # treasury.matching.Outcome, those to store
    report: ImportReport


def _check_balances(parsed: ParsedStatement) -> None:
    """Opening balance plus the lines equals the closing balance, where the file states both."""
    header = parsed.header
    if header.opening_balance is None or header.closing_balance is None:
        return
    expected = header.opening_balance + parsed.credit_total - parsed.debit_total
    if expected != header.closing_balance:
        raise StatementFileError(
            [
                (
                    0,
                    _(
                        "The closing balance %(closing)d is not the opening balance %(opening)d plus the lines "
                        "(%(expected)d expected)."
                    )
                    % {"closing": header.closing_balance, "opening": header.opening_balance, "expected": expected},
                )
            ]
        )


def _staged_identities(allocation: Allocation, lines: tuple[ParsedLine, ...]) -> set[tuple]:
    """The identities of the allocation's staged lines dated within the file's dates: one query."""
    if not lines:
        return set()
    dates = [line.date for line in lines]
    rows = StatementLine.objects.filter(allocation=allocation, date__gte=min(dates), date__lte=max(dates)).values_list(
        "bank_reference_key", "date", "debit", "credit", "occurrence"
    )
    return {(key, date.isoformat(), credit - debit, occurrence) for key, date, debit, credit, occurrence in rows}


def _settled(allocation: Allocation) -> dict[int, str]:
    """Disbursement id -> the file of the earlier statement that paid it (or "manual" for staff's match)."""
    settled = dict(
        Outcome.objects.filter(allocation=allocation, kind__in=SETTLING_KINDS, disbursement__isnull=False)
        .order_by("-statement_id")
        .values_list("disbursement_id", "statement__file_name")
    )
    matched_by_hand = Resolution.objects.filter(
        outcome__allocation=allocation, action=ResolutionAction.MANUAL_MATCH
    ).values_list("disbursement_id", "outcome__statement__file_name")
    for disbursement_id, file_name in matched_by_hand:
        settled.setdefault(disbursement_id, file_name)
    return settled


def _plan(allocation: Allocation, parsed: ParsedStatement, *, dry_run: bool) -> _Plan:
    staged = _staged_identities(allocation, parsed.lines)
    new_lines = [line for line in parsed.lines if line.identity not in staged]
    known_debit = parsed.debit_total - sum(line.debit for line in new_lines)
    header = parsed.header
    result = reconcile(
        lines=new_lines,
        disbursements=disbursement_refs(allocation=allocation),
        period_from=header.period_from,
        period_to=header.period_to,
        settled=_settled(allocation),
    )
    reported_missing = set(
        Outcome.objects.filter(allocation=allocation, kind=OutcomeKind.UNMATCHED_DISBURSEMENT).values_list(
            "disbursement_id", flat=True
        )
    )
    outcomes = [
        outcome
        for outcome in result.outcomes
        if not (outcome.kind == OutcomeKind.UNMATCHED_DISBURSEMENT and outcome.disbursement.id in reported_missing)
    ]
    counts = dict.fromkeys(OutcomeKind.values, 0)
    amounts = dict.fromkeys(OutcomeKind.values, 0)
    for outcome in outcomes:
        counts[outcome.kind] += 1
        amounts[outcome.kind] += outcome.amount
    report = ImportReport(
        file_name=parsed.file_name,
        format=parsed.format,
        sha256=parsed.sha256,
        period_from=header.period_from,
        period_to=header.period_to,
        lines=len(parsed.lines),
        new_lines=len(new_lines),
        known_lines=len(parsed.lines) - len(new_lines),
        debit_total=parsed.debit_total,
        credit_total=parsed.credit_total,
        known_debit=known_debit,
        counts=counts,
        amounts=amounts,
        other_credits=len(result.other_credits),
        dry_run=dry_run,
    )
    return _Plan(parsed, new_lines, known_debit, result, outcomes, report)


def _regencies(allocation: Allocation) -> tuple[dict[int, object], dict[int, object]]:
    """(grant id -> regency id, disbursement id -> regency id): a batch pays one regency's villages."""
    by_grant: dict[int, object] = {}
    by_disbursement: dict[int, object] = {}
    rows = Grant.objects.filter(allocation=allocation, disbursement__isnull=False).values_list(
        "pk", "disbursement_id", "village__regency_id"
    )
    for grant_id, disbursement_id, regency_id in rows:
        by_grant[grant_id] = regency_id
        by_disbursement.setdefault(disbursement_id, regency_id)
    return by_grant, by_disbursement


def _insert(model, rows: list[dict], *, returning: tuple[str, str] | None = None) -> list[tuple]:
    """Insert `rows` (column -> value) into `model`'s table; the `returning` columns of the rows written.

    On PostgreSQL one `INSERT ... SELECT FROM unnest(arrays)` per batch: a statement's 84,000 lines take
    a second or two, where building as many model instances and a VALUES list (bulk_create) takes tens.
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objects = model.objects.bulk_create([model(**row) for row in rows], batch_size=BULK_BATCH)
        return [tuple(getattr(item, name) for name in returning) for item in objects] if returning else []
    columns = list(rows[0])
    fields = {field.column: field for field in model._meta.concrete_fields}
    types = [fields[column].db_type(connection) for column in columns]
    quote = connection.ops.quote_name
    # Names and types from the model, never from input; the values go as parameters.
    table, names = quote(model._meta.db_table), ", ".join(quote(column) for column in columns)
    sql = (
        f"INSERT INTO {table} ({names}) "  # noqa: S608
        f"SELECT * FROM unnest({', '.join(f'%s::{kind}[]' for kind in types)})"
    )
    if returning:
        sql += f" RETURNING {', '.join(quote(column) for column in returning)}"
    written: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BULK_BATCH):
            batch = rows[start : start + BULK_BATCH]
            arrays = [
                [json.dumps(row[column]) if types[index] == "jsonb" else row[column] for row in batch]
                for index, column in enumerate(columns)
            ]
            cursor.execute(sql, arrays)
            if returning:
                written += cursor.fetchall()
    return written


def _write(allocation: Allocation, plan: _Plan, actor: User) -> Statement:
    parsed, header = plan.parsed, plan.parsed.header
    statement = Statement.objects.create(
        allocation=allocation,
        file_name=parsed.file_name[:255],
        format=parsed.format,
        sha256=parsed.sha256,
        account=header.account[:35],
        period_from=header.period_from,
        period_to=header.period_to,
        opening_balance=header.opening_balance,
        closing_balance=header.closing_balance,
        debit_total=parsed.debit_total,
        credit_total=parsed.credit_total,
        imported_by=actor,
        summary=plan.report.as_dict(),
    )
    line_rows = [
        {
            "allocation_id": allocation.pk,
            "statement_id": statement.pk,
            "line_number": line.line,
            "date": line.date,
            "description": line.description,
            "bank_reference": line.bank_reference,
            "bank_reference_key": canonical(line.bank_reference),
            "debit": line.debit,
            "credit": line.credit,
            "balance": line.balance,
            "occurrence": line.occurrence,
        }
        for line in plan.new_lines
    ]
    # A line number is unique within its file: it finds each staged line's id.
    line_ids = dict(_insert(StatementLine, line_rows, returning=("line_number", "id")))
    by_grant, by_disbursement = _regencies(allocation)

    def regency_of(outcome) -> object:
        if outcome.grant is not None:
            return by_grant.get(outcome.grant.id)
        if outcome.disbursement is not None:
            return by_disbursement.get(outcome.disbursement.id)
        return None

    now = timezone.now()
    outcome_rows = [
        {
            "allocation_id": allocation.pk,
            "statement_id": statement.pk,
            "kind": outcome.kind,
            "line_id": line_ids[outcome.line.line] if outcome.line is not None else None,
            "disbursement_id": outcome.disbursement.id if outcome.disbursement is not None else None,
            "grant_id": outcome.grant.id if outcome.grant is not None else None,
            "regency_id": regency_of(outcome),
            "amount": outcome.amount,
            "reason": reason_as_json(outcome.reason),
            "created_at": now,
        }
        for outcome in plan.outcomes
    ]
    _insert(Outcome, outcome_rows)
    audit_record(
        actor=actor,
        action=AuditAction.STATEMENT_IMPORTED,
        obj=statement,
        changes={"allocation": [None, allocation.pk], "sha256": [None, parsed.sha256]},
    )
    return statement


def statement_import(
    *, allocation: Allocation, parsed: ParsedStatement, actor: User, dry_run: bool = False
) -> ImportReport:
    """Import a parsed statement for `allocation` (or, with `dry_run`, say what the import would find and
    write nothing). A file imported before is not imported again: the report is the first import's,
    with `already_imported`. StatementFileError when the stated balances do not add up."""
    _check_balances(parsed)
    if dry_run:
        earlier = Statement.objects.filter(allocation=allocation, sha256=parsed.sha256).first()
        if earlier is not None:
            return ImportReport.of_statement(earlier)
        return _plan(allocation, parsed, dry_run=True).report
    with transaction.atomic():
        # Imports of one allocation one at a time (the same file twice at once: the second finds the first).
        Allocation.objects.select_for_update().filter(pk=allocation.pk).first()
        earlier = Statement.objects.filter(allocation=allocation, sha256=parsed.sha256).first()
        if earlier is not None:
            return ImportReport.of_statement(earlier)
        plan = _plan(allocation, parsed, dry_run=False)
        statement = _write(allocation, plan, actor)
    return dataclasses.replace(plan.report, statement=statement)


# --- the browser's upload: preview (a dry run), then confirm without a second upload ---------------


def upload_read(*, file) -> bytes:
    """An uploaded statement's bytes. Past the portal's bound on uploaded files (settings.FILE_UPLOAD_MAX_BYTES,
    smartvillage/uploads.py) none of them were kept: refused, naming the bound and the command, which reads a
    file from disk up to the parsers' own limit."""
    limit = min(settings.FILE_UPLOAD_MAX_BYTES, MAX_FILE_BYTES)
    if file.size > limit:
        raise StatementFileError(
            [
                (
                    0,
                    _(
                        "%(name)s is larger than %(limit)d MB, the most the portal takes as an upload; import it "
                        "with the command reconcile_statement."
                    )
                    % {"name": file.name, "limit": limit // (1024 * 1024)},
                )
            ]
        )
    return file.read(limit + 1)


# An upload not confirmed within this time is dropped (at the next upload of anyone).
UPLOAD_KEPT = datetime.timedelta(days=1)


def _parsed(*, data: bytes, file_name: str, columns: str) -> ParsedStatement:
    try:
        mapping = columns_parse(columns) if columns else None
    except ValueError as exc:
        raise ApplicationError(str(exc), fields={"columns": [str(exc)]}) from None
    return statement_parse(data=data, file_name=file_name, columns=mapping)


def statement_upload_preview(
    *, allocation: Allocation, actor: User, data: bytes, file_name: str, columns: str = ""
) -> tuple[StatementUpload, ImportReport]:
    """Parse and reconcile an uploaded file without importing it (the preview), and keep the file for
    `statement_upload_confirm` by its SHA-256. A refused file is kept nowhere."""
    parsed = _parsed(data=data, file_name=file_name, columns=columns)
    report = statement_import(allocation=allocation, parsed=parsed, actor=actor, dry_run=True)
    with transaction.atomic():
        StatementUpload.objects.filter(uploaded_at__lt=timezone.now() - UPLOAD_KEPT).delete()
        upload, _created = StatementUpload.objects.update_or_create(
            allocation=allocation,
            uploaded_by=actor,
            sha256=parsed.sha256,
            defaults={"file_name": parsed.file_name[:255], "columns": columns, "data": data},
        )
    return upload, report


@transaction.atomic
def statement_upload_confirm(*, allocation: Allocation, actor: User, sha256: str) -> ImportReport:
    """Import the file `actor` previewed for `allocation` (found by its SHA-256), then forget the upload."""
    upload = (
        StatementUpload.objects.select_for_update()
        .filter(allocation=allocation, uploaded_by=actor, sha256=sha256)
        .first()
    )
    if upload is None:
        raise ApplicationError(
            _("The previewed file is no longer kept; upload it again."),
            fields={"sha256": [_("Upload the file again.")]},
        )
    parsed = _parsed(data=bytes(upload.data), file_name=upload.file_name, columns=upload.columns)
    report = statement_import(allocation=allocation, parsed=parsed, actor=actor)
    upload.delete()
    return report


# --- resolutions by staff -------------------------------------------------------------------------

# Outcomes staff may pair with a disbursement by hand: debit lines the matcher could not settle.
MANUALLY_MATCHABLE = (OutcomeKind.UNMATCHED_LINE, OutcomeKind.AMOUNT_MISMATCH, OutcomeKind.DUPLICATE)


def _reason(value: str) -> str:
    reason = (value or "").strip()
    if not reason:
        raise ApplicationError(_("Give the reason."), fields={"reason": [_("This field is required.")]})
    if len(reason) > REASON_MAX_LENGTH:
        raise ApplicationError(
            _("The reason is too long."),
            fields={"reason": [_("At most %(limit)d characters.") % {"limit": REASON_MAX_LENGTH}]},
        )
    return reason


def _locked_open(outcome: Outcome) -> Outcome:
    """The outcome, its allocation locked first (the order the import locks in), refused when decided."""
    Allocation.objects.select_for_update().filter(pk=outcome.allocation_id).first()
    locked = Outcome.objects.select_for_update(of=("self",)).select_related("line", "statement").get(pk=outcome.pk)
    if locked.kind == OutcomeKind.MATCHED:
        raise TransitionRefused(_("This item is matched; there is nothing to resolve."))
    if Resolution.objects.filter(outcome=locked).exists():
        raise TransitionRefused(_("This item is already resolved; a resolution is never changed."))
    return locked


def _resolution(outcome: Outcome, actor: User, **fields) -> Resolution:
    try:
        with transaction.atomic():
            resolution = Resolution.objects.create(outcome=outcome, actor=actor, **fields)
    except IntegrityError:
        raise TransitionRefused(_("This item is already resolved; a resolution is never changed.")) from None
    audit_record(
        actor=actor,
        action=AuditAction.OUTCOME_RESOLVED,
        obj=resolution,
        changes={
            "outcome": [None, outcome.pk],
            "action": [None, resolution.action],
            "disbursement": [None, resolution.disbursement_id],
            "reason": [None, resolution.reason],
        },
    )
    return resolution


@transaction.atomic
def outcome_resolve(
    *, outcome: Outcome, actor: User, action: str, reason: str, disbursement: Disbursement | None = None
) -> Resolution:
    """Staff's decision on an open item: `manual_match` pairs a debit line with a disbursement of the
    allocation the matcher could not (with the reason), `explained` closes any open item with its
    explanation. One decision per item, never changed."""
    reason = _reason(reason)
    if action not in (ResolutionAction.MANUAL_MATCH, ResolutionAction.EXPLAINED):
        raise ApplicationError(_("Choose an action."), fields={"action": [_("Choose a valid action.")]})
    locked = _locked_open(outcome)
    if action == ResolutionAction.EXPLAINED:
        return _resolution(locked, actor, action=action, reason=reason)
    if locked.kind not in MANUALLY_MATCHABLE:
        raise ApplicationError(
            _("Only a bank line can be matched by hand."),
            fields={"action": [_("Explain this item instead.")]},
        )
    if disbursement is None or disbursement.allocation_id != locked.allocation_id:
        raise ApplicationError(
            _("Choose the SP2D the line pays."),
            fields={"disbursement": [_("Choose an SP2D of this allocation.")]},
        )
    return _resolution(locked, actor, action=action, reason=reason, disbursement=disbursement)


@transaction.atomic
def outcome_return_record(*, outcome: Outcome, actor: User) -> Resolution:
    """Record the grant's return that a `returned` credit line shows, through the grants' own return
    service (`grants.services.grant_return`: its rules, its event), with the bank line as reference."""
    locked = _locked_open(outcome)
    if locked.kind != OutcomeKind.RETURNED:
        raise TransitionRefused(_("Only a bank's return (retur) proposes a grant's return."))
    if locked.grant_id is None:
        raise TransitionRefused(
            _("The bank line does not tell which village's grant it returns: record it on the grant's page.")
        )
    line = locked.line
    note = _("Bank statement %(file)s, line %(line)d, %(date)s: %(text)s") % {
        "file": locked.statement.file_name,
        "line": line.line_number,
        "date": line.date.isoformat(),
        "text": line.description,
    }
    grant = Grant.objects.get(pk=locked.grant_id)
    grant_services.grant_return(
        grant=grant,
        actor=actor,
        amount=line.credit,
        reference=line.bank_reference or f"RETUR {line.date.isoformat()}",
        note=note[:REASON_MAX_LENGTH],
    )
    return _resolution(locked, actor, action=ResolutionAction.RETURN_RECORDED, reason=note[:REASON_MAX_LENGTH])
