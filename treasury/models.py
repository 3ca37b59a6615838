"""Staged statements and their outcomes, written by the import service (`treasury.services`) and read by
the pages and the API. The matching core (`treasury.matching`) does not use these models: it works on
plain values, and the import stores what it returns.

Money is integer rupiah. A statement file is imported once per allocation (its SHA-256); a line is
identified across statements by its bank reference, date, amount and occurrence in its file
(`StatementLine.identity`), so an overlapping statement adds only its new lines.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from smartvillage.db import AppendOnlyModel

# A bank's reference of a booking is short (MT940: 16 characters); a longer cell is not one.
BANK_REFERENCE_MAX_LENGTH = 100


class OutcomeKind(models.TextChoices):
    # The line pays the disbursement's SP2D with its amount (or one village's transfer of a batch).
    MATCHED = "matched", _("Matched")
    # The line pays the disbursement's SP2D with another amount; its amount is the bank's.
    AMOUNT_MISMATCH = "amount_mismatch", _("Amount differs")
    # A further line paying an SP2D already paid: the bank paid twice.
    DUPLICATE = "duplicate", _("Paid twice")
    # Money left the account for no SP2D of the allocation.
    UNMATCHED_LINE = "unmatched_line", _("Not in the portal")
    # The portal says disbursed; no line of the statement pays it.
    UNMATCHED_DISBURSEMENT = "unmatched_disbursement", _("Not on the statement")
    # A credit line bringing an SP2D's transfer back (retur): proposes the grant's return.
    RETURNED = "returned", _("Returned")


class StatementFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"
    MT940 = "mt940", "MT940"


class Statement(models.Model):
    """One imported statement file of the RKUD account."""

    allocation = models.ForeignKey(
        "grants.Allocation", on_delete=models.PROTECT, related_name="statements", verbose_name=_("allocation")
    )
    file_name = models.CharField(_("file name"), max_length=255)
    format = models.CharField(_("format"), max_length=5, choices=StatementFormat.choices)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    account = models.CharField(_("account"), max_length=35, blank=True)
    period_from = models.DateField(_("period from"), null=True)
    period_to = models.DateField(_("period to"), null=True)
    opening_balance = models.BigIntegerField(_("opening balance (Rp)"), null=True)
    closing_balance = models.BigIntegerField(_("closing balance (Rp)"), null=True)
    debit_total = models.BigIntegerField(_("debit total (Rp)"))
    credit_total = models.BigIntegerField(_("credit total (Rp)"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("imported by")
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    # What the import found in this file, as `treasury.services.ImportReport.as_dict()`: the counts and
    # amounts per outcome of its new lines, and the lines an earlier statement had already brought.
    summary = models.JSONField(_("summary"), default=dict)

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-imported_at", "-id"]
        constraints = [
            # Importing the same file again changes nothing.
            models.UniqueConstraint(fields=["allocation", "sha256"], name="statement_file_imported_once"),
            models.CheckConstraint(condition=Q(debit_total__gte=0, credit_total__gte=0), name="statement_totals"),
        ]

    def __str__(self) -> str:
        return self.file_name


class StatementLine(models.Model):
    """One booking, staged once per allocation whichever statements hold it."""

    allocation = models.ForeignKey(
        "grants.Allocation", on_delete=models.PROTECT, related_name="+", verbose_name=_("allocation")
    )
    # The statement that first brought the line; an overlapping one finds it by its identity.
    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, related_name="lines", verbose_name=_("statement")
    )
    line_number = models.PositiveIntegerField(_("line in the file"))
    date = models.DateField(_("date"))
    description = models.TextField(_("description"))
    bank_reference = models.CharField(_("bank reference"), max_length=BANK_REFERENCE_MAX_LENGTH, blank=True)
    # Case-folded (grants.services.reference_key): part of the line's identity.
    bank_reference_key = models.CharField(
        _("bank reference, canonical form"), max_length=BANK_REFERENCE_MAX_LENGTH, blank=True
    )
    debit = models.BigIntegerField(_("debit (Rp)"), default=0)
    credit = models.BigIntegerField(_("credit (Rp)"), default=0)
    balance = models.BigIntegerField(_("balance (Rp)"), null=True)
    occurrence = models.PositiveSmallIntegerField(_("occurrence"), default=1)

    class Meta:
        verbose_name = _("statement line")
        verbose_name_plural = _("statement lines")
        ordering = ["date", "statement_id", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["allocation", "bank_reference_key", "date", "debit", "credit", "occurrence"],
                name="statement_line_identity",
            ),
            models.CheckConstraint(
                condition=(Q(debit__gt=0, credit=0) | Q(debit=0, credit__gt=0)), name="statement_line_debit_or_credit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.bank_reference}"


class Outcome(models.Model):
    """What the reconciliation found for a line or a disbursement (treasury.matching.Outcome)."""

    allocation = models.ForeignKey(
        "grants.Allocation", on_delete=models.PROTECT, related_name="+", verbose_name=_("allocation")
    )
    statement = models.ForeignKey(
        Statement, on_delete=models.PROTECT, related_name="outcomes", verbose_name=_("statement")
    )
    kind = models.CharField(_("outcome"), max_length=25, choices=OutcomeKind.choices)
    line = models.OneToOneField(
        StatementLine, on_delete=models.PROTECT, null=True, related_name="outcome", verbose_name=_("line")
    )
    disbursement = models.ForeignKey(
        "grants.Disbursement",
        on_delete=models.PROTECT,
        null=True,
        related_name="bank_outcomes",
        verbose_name=_("disbursement"),
    )
    grant = models.ForeignKey(
        "grants.Grant", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("grant")
    )
    # The regency of the grant or disbursement the outcome is about (a batch pays one regency); none for a
    # line naming no SP2D. Kept from the import so that an officer's scope is one condition.
    regency = models.ForeignKey(
        "villages.Regency", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("regency/city")
    )
    amount = models.BigIntegerField(_("amount (Rp)"))
    # treasury.matching.Reason as {"code", "params", "notes"}: shown in the reader's language.
    reason = models.JSONField(_("reason"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reconciliation outcome")
        verbose_name_plural = _("reconciliation outcomes")
        ordering = ["statement_id", "id"]
        indexes = [models.Index(fields=["allocation", "kind"], name="outcome_allocation_kind")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=OutcomeKind.UNMATCHED_DISBURSEMENT, line__isnull=True, disbursement__isnull=False)
                | (~Q(kind=OutcomeKind.UNMATCHED_DISBURSEMENT) & Q(line__isnull=False)),
                name="outcome_line_or_missing_disbursement",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.line_id or self.disbursement_id}"


class ResolutionAction(models.TextChoices):
    # Staff pair the line with a disbursement the matcher could not (with their reason).
    MANUAL_MATCH = "manual_match", _("Matched by hand")
    # Staff explain the item (e.g. a bank fee, a transfer of another programme).
    EXPLAINED = "explained", _("Explained")
    # Staff recorded the grant's return the bank's credit line shows (grants.services.grant_return).
    RETURN_RECORDED = "return_recorded", _("Return recorded")


class Resolution(AppendOnlyModel):
    """Staff's decision on an open outcome, one per outcome: never changed or deleted (database triggers),
    never touched by a later import, and written to the audit trail."""

    outcome = models.ForeignKey(
        Outcome, on_delete=models.PROTECT, related_name="resolutions", verbose_name=_("outcome")
    )
    action = models.CharField(_("action"), max_length=15, choices=ResolutionAction.choices)
    disbursement = models.ForeignKey(
        "grants.Disbursement", on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("disbursement")
    )
    reason = models.TextField(_("reason"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("actor")
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action="manual_match", disbursement__isnull=False)
                | Q(action__in=["explained", "return_recorded"], disbursement__isnull=True),
                name="resolution_manual_match_names_a_disbursement",
            ),
            # A decision stands: a second one (a double click, a colleague at the same time) is refused.
            models.UniqueConstraint(fields=["outcome"], name="resolution_one_per_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.outcome_id}"


class StatementUpload(models.Model):
    """A statement file uploaded in the browser and previewed (a dry run), kept until staff confirm its
    import (found again by its SHA-256: no second upload) or a day has passed. In the database rather than
    on a server's disk, so that the confirmation may reach any of the portal's servers."""

    allocation = models.ForeignKey(
        "grants.Allocation", on_delete=models.CASCADE, related_name="+", verbose_name=_("allocation")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("uploaded by")
    )
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    columns = models.CharField(_("column mapping"), max_length=1000, blank=True)
    data = models.BinaryField(_("file"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("uploaded statement awaiting confirmation")
        verbose_name_plural = _("uploaded statements awaiting confirmation")
        constraints = [
            models.UniqueConstraint(fields=["allocation", "uploaded_by", "sha256"], name="statement_upload_once")
        ]

    def __str__(self) -> str:
        return self.file_name
