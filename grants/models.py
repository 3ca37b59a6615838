"""Smart-village grants: an APBD allocation, one grant per village, and their audit trail.

Money is integer rupiah everywhere (the rupiah has no minor unit in use).
Only `grants.services` changes these rows; every state change writes a
`GrantEvent`, which is append-only.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from smartvillage.db import AppendOnlyModel


class AllocationStatus(models.TextChoices):
    # Being prepared: grants may be planned, no money moves.
    DRAFT = "draft", _("Draft")
    # In execution: grants are approved, disbursed and accounted.
    ACTIVE = "active", _("Active")
    # The fiscal year is over: nothing changes any more.
    CLOSED = "closed", _("Closed")


class Allocation(models.Model):
    province = models.ForeignKey(
        "villages.Province", on_delete=models.PROTECT, related_name="allocations", verbose_name=_("province")
    )
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    funding_source = models.CharField(_("funding source"), max_length=100, default="APBD Provinsi Lampung")
    legal_basis = models.CharField(
        _("legal basis"), max_length=200, help_text=_("E.g. the governor's decree that sets the allocation.")
    )
    total_amount = models.BigIntegerField(_("total amount (Rp)"))
    unit_amount = models.BigIntegerField(_("default amount per unit (Rp)"))
    # Sum of the amounts of all non-cancelled grants, kept by grants.services in
    # the same transaction as the grants, so that the database itself refuses
    # an over-committed allocation (see the constraint below) even under races.
    committed_amount = models.BigIntegerField(_("committed amount (Rp)"), default=0, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=AllocationStatus.choices, default=AllocationStatus.DRAFT
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["-fiscal_year", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["province", "fiscal_year", "funding_source"], name="allocation_unique_per_year_and_source"
            ),
            models.CheckConstraint(condition=Q(total_amount__gt=0), name="allocation_total_positive"),
            models.CheckConstraint(condition=Q(unit_amount__gt=0), name="allocation_unit_amount_positive"),
            models.CheckConstraint(
                condition=Q(committed_amount__gte=0, committed_amount__lte=F("total_amount")),
                name="allocation_never_overcommitted",
                violation_error_message=_("The allocation would be exceeded."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.funding_source} {self.fiscal_year}"


class GrantStatus(models.TextChoices):
    # Counted against the allocation, not yet approved.
    PLANNED = "planned", _("Planned")
    # Approved for payment.
    APPROVED = "approved", _("Approved")
    # Paid to the village (SP2D issued).
    DISBURSED = "disbursed", _("Disbursed")
    # The village's accountability report (LPJ) is recorded.
    ACCOUNTED = "accounted", _("Accounted")
    # Spent and returned money add up to the payment: the file is closed.
    CLOSED = "closed", _("Closed")
    # Withdrawn before payment; frees its amount in the allocation.
    CANCELLED = "cancelled", _("Cancelled")
    # Paid, then returned in full to the regional treasury.
    RETURNED = "returned", _("Returned")


# States in which money has left the treasury for the village.
PAID_STATUSES = (GrantStatus.DISBURSED, GrantStatus.ACCOUNTED, GrantStatus.CLOSED, GrantStatus.RETURNED)
APPROVED_OR_LATER = (GrantStatus.APPROVED, *PAID_STATUSES)


class Disbursement(models.Model):
    """One transfer (SP2D): pays one grant, or a regency's batch of grants."""

    allocation = models.ForeignKey(
        Allocation, on_delete=models.PROTECT, related_name="disbursements", verbose_name=_("allocation")
    )
    # As typed, for display; `reference_key` is its canonical form (grants.services.reference_key),
    # unique within the allocation, so a reference written another way is not a second transfer.
    reference = models.CharField(_("transfer reference (SP2D)"), max_length=100)
    reference_key = models.CharField(_("transfer reference, canonical form"), max_length=100, editable=False)
    transfer_date = models.DateField(_("transfer date"))
    amount = models.BigIntegerField(_("amount (Rp)"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        constraints = [
            models.UniqueConstraint(fields=["allocation", "reference_key"], name="disbursement_reference_key_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="disbursement_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.reference


class Grant(models.Model):
    allocation = models.ForeignKey(
        Allocation, on_delete=models.PROTECT, related_name="grants", verbose_name=_("allocation")
    )
    village = models.ForeignKey(
        "villages.Village", on_delete=models.PROTECT, related_name="grants", verbose_name=_("village")
    )
    amount = models.BigIntegerField(_("amount (Rp)"))
    status = models.CharField(_("status"), max_length=10, choices=GrantStatus.choices, default=GrantStatus.PLANNED)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    disbursement = models.ForeignKey(
        Disbursement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grants",
        verbose_name=_("disbursement"),
    )
    returned_amount = models.BigIntegerField(_("returned amount (Rp)"), default=0)
    spent_amount = models.BigIntegerField(_("spent amount (Rp)"), null=True, blank=True)
    report_note = models.TextField(_("accountability report note"), blank=True)
    report_url = models.URLField(_("accountability report document"), blank=True)
    accounted_at = models.DateTimeField(_("accounted at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        ordering = ["village__code"]
        indexes = [models.Index(fields=["allocation", "status"], name="grant_allocation_status")]
        constraints = [
            models.UniqueConstraint(fields=["allocation", "village"], name="grant_one_per_village"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="grant_amount_positive"),
            # Paid exactly when it has a disbursement: a grant cannot be paid twice or lose its payment.
            models.CheckConstraint(
                condition=Q(status__in=PAID_STATUSES, disbursement__isnull=False)
                | (~Q(status__in=PAID_STATUSES) & Q(disbursement__isnull=True)),
                name="grant_paid_iff_disbursed",
            ),
            models.CheckConstraint(
                condition=Q(returned_amount__gte=0, returned_amount__lte=F("amount")),
                name="grant_returned_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(spent_amount__isnull=True)
                | Q(spent_amount__gte=0, spent_amount__lte=F("amount") - F("returned_amount")),
                name="grant_spent_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village.code} {self.allocation}"


class GrantAction(models.TextChoices):
    PLAN = "plan", _("Plan")
    APPROVE = "approve", _("Approve")
    DISBURSE = "disburse", _("Disburse")
    ACCOUNT = "account", _("Record accountability report")
    RETURN = "return", _("Return")
    CLOSE = "close", _("Close")
    CANCEL = "cancel", _("Cancel")


class GrantEvent(AppendOnlyModel):
    """One state change of a grant: the audit trail. Never updated or deleted
    (refused here and, on PostgreSQL, by a trigger)."""

    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="events", verbose_name=_("grant"))
    action = models.CharField(_("action"), max_length=10, choices=GrantAction.choices)
    from_status = models.CharField(_("from"), max_length=10, choices=GrantStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=10, choices=GrantStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("actor")
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    amount = models.BigIntegerField(_("amount (Rp)"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("grant event")
        verbose_name_plural = _("grant events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.grant_id} {self.action} {self.from_status}->{self.to_status}"
