"""Where every desa and kelurahan stands on the smart-village programme.

`VillageStatus` is the current state (changed only by a verified report);
`ProgressReport` is the append-only history officers submit and province
staff verify; `AdoptionSnapshot` holds the recomputed figures per day and unit.
"""

import datetime
import sys

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from smartvillage.db import AppendOnlyModel


class PillarStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    LIVE = "live", _("Live")


class Signal(models.TextChoices):
    NONE = "none", _("No signal")
    G2 = "2g", _("2G")
    G3 = "3g", _("3G")
    G4 = "4g", _("4G")
    BROADBAND = "broadband", _("Fixed broadband")
    SATELLITE = "satellite", _("Satellite")


class Blocker(models.TextChoices):
    # The 61 desa not live at the end of 2023 were all blocked by this.
    NO_SIGNAL = "no_signal", _("No internet signal")
    NO_DEVICES = "no_devices", _("No devices")
    NO_OPERATOR = "no_operator", _("No trained operator")
    BUDGET = "budget", _("Budget")
    OTHER = "other", _("Other")


# The three pillars of the programme, in order.
PILLARS = {
    "pillar1": _("Digital administration and public services"),
    "pillar2": _("Creative economy"),
    "pillar3": _("New economic centres (UMKM, BUMDes, koperasi)"),
}


class RolloutFields(models.Model):
    """What a report states and what a village's current status holds."""

    pillar1 = models.CharField(
        _("pillar 1: digital administration and public services"),
        max_length=12,
        choices=PillarStatus.choices,
        default=PillarStatus.NOT_STARTED,
    )
    pillar2 = models.CharField(
        _("pillar 2: creative economy"), max_length=12, choices=PillarStatus.choices, default=PillarStatus.NOT_STARTED
    )
    pillar3 = models.CharField(
        _("pillar 3: UMKM, BUMDes and koperasi online"),
        max_length=12,
        choices=PillarStatus.choices,
        default=PillarStatus.NOT_STARTED,
    )
    signal = models.CharField(_("best signal"), max_length=10, choices=Signal.choices, default=Signal.NONE)
    signal_sufficient = models.BooleanField(_("signal enough for the services"), default=False)
    blocker = models.CharField(_("blocker"), max_length=12, choices=Blocker.choices, blank=True)
    blocker_note = models.CharField(_("blocker note"), max_length=500, blank=True)

    class Meta:
        abstract = True


# The fields a report states and a village's status holds, in display order.
STATUS_FIELDS = ["pillar1", "pillar2", "pillar3", "signal", "signal_sufficient", "blocker", "blocker_note"]


class VillageStatus(RolloutFields):
    village = models.OneToOneField(
        "villages.Village",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="rollout",
        verbose_name=_("village"),
    )
    pillar1_since = models.DateField(_("pillar 1 status since"), null=True, blank=True)
    pillar2_since = models.DateField(_("pillar 2 status since"), null=True, blank=True)
    pillar3_since = models.DateField(_("pillar 3 status since"), null=True, blank=True)
    last_report = models.ForeignKey(
        "ProgressReport",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last report"),
    )
    last_verified_on = models.DateField(_("last verified report"), null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("village status")
        verbose_name_plural = _("village statuses")
        indexes = [models.Index(fields=["pillar1"], name="status_pillar1")]

    def __str__(self) -> str:
        return f"{self.village.code} {self.pillar1}"


class ReportStatus(models.TextChoices):
    AWAITING = "awaiting", _("Awaiting verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


class ProgressReport(RolloutFields, AppendOnlyModel):
    """An officer's statement of a village's progress. Its content never changes; only its review is set, once
    (refused otherwise here and, on PostgreSQL, by triggers)."""

    settable_once = ("status", "reviewed_by", "reviewed_at", "rejection_reason", "superseded", "late")

    village = models.ForeignKey(
        "villages.Village", on_delete=models.PROTECT, related_name="reports", verbose_name=_("village")
    )
    note = models.TextField(_("note"), blank=True)
    evidence_url = models.URLField(_("evidence link"), blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("submitted by")
    )
    # The server's receive time (the report's arrival, whatever its device recorded).
    submitted_at = models.DateTimeField(_("submitted at"), db_index=True)
    # The time the officer recorded the report, from the device (offline capture sends it later);
    # the time the report describes (DESCRIBED_AT). Reports older than this field were set to submitted_at.
    captured_at = models.DateTimeField(_("captured at"))
    # The device's id of the report (field capture): the same report sent twice is stored once.
    client_uuid = models.UUIDField(_("client id"), null=True, blank=True, editable=False)
    # Where the officer stood, only when the officer chose to share the device's location.
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    # Province staff corrections are recorded as reports too, verified at once.
    is_correction = models.BooleanField(_("correction by province staff"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.AWAITING, db_index=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    # Set with the review, once: verified while a report describing a later time was already the
    # village's status, so this one is recorded but the newer one stays in place.
    superseded = models.BooleanField(
        _("a newer report was already in place"),
        default=False,
        help_text=_(
            "Verified while a report describing a later time was already the village's status: "
            "recorded, and the newer report stays in place."
        ),
    )

    # Captured before the report then in place (the village's latest verified report): decided when the
    # report arrives, and again when it is verified (then with `superseded`). A late report is kept and
    # may be verified, but never changes the village's status.
    late = models.BooleanField(
        _("late"),
        default=False,
        help_text=_("Captured before the village's latest verified report: recorded, the status stays."),
    )

    # The time a report describes: its state held then. A village's status follows the report
    # describing the latest time (ties: the later submission), never the order of review; each
    # pillar's "since" date is this time's day. One name, so that the time can change in one place.
    # The device's capture time: a report recorded offline and sent days later describes its day.
    DESCRIBED_AT = "captured_at"

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["village", "-submitted_at"], name="report_village_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ReportStatus.AWAITING, reviewed_by__isnull=True)
                | (~Q(status=ReportStatus.AWAITING) & Q(reviewed_by__isnull=False, reviewed_at__isnull=False)),
                name="report_reviewed_iff_decided",
            ),
            models.CheckConstraint(
                condition=~Q(status=ReportStatus.REJECTED) | ~Q(rejection_reason=""),
                name="report_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(superseded=False) | Q(status=ReportStatus.VERIFIED),
                name="report_superseded_only_if_verified",
            ),
            models.UniqueConstraint(fields=["client_uuid"], name="report_client_uuid_unique"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="report_location_both_or_none",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village.code} {self.submitted_at:%Y-%m-%d} {self.status}"

    @property
    def described_at(self) -> datetime.datetime:
        return getattr(self, self.DESCRIBED_AT)

    @property
    def recency(self) -> tuple[datetime.datetime, int]:
        """How a village's reports order in time: the time described, then the submission (one not yet saved last)."""
        return (self.described_at, self.pk if self.pk is not None else sys.maxsize)

    def get_outcome_display(self) -> str:
        """The review as shown in a report's history: the status, and whether a newer report stayed in place."""
        if self.superseded:
            return gettext("Verified; a newer report is in place")
        return self.get_status_display()


class ReportPhoto(AppendOnlyModel):
    """An evidence photo of a report, as stored: re-encoded as JPEG (longest side at most 1600 px), no metadata.
    Part of the report's record: written with it, never changed or deleted.

    The file is kept through the "photos" storage (`settings.STORAGES`: the file system, or S3-compatible
    storage) under a name made of its content's hash, and served only through a view that checks who may
    read the village (never a public URL).
    """

    report = models.ForeignKey(ProgressReport, on_delete=models.PROTECT, related_name="photos")
    position = models.PositiveSmallIntegerField(_("position"))  # 1, 2, 3: the order the officer sent them in
    file = models.CharField(_("stored file"), max_length=200)  # the name in the "photos" storage
    content_type = models.CharField(_("content type"), max_length=40)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256 of the stored file"), max_length=64)
    # What the device sent: a report sent again is the same report when its photos hash the same.
    source_sha256 = models.CharField(_("SHA-256 of the uploaded file"), max_length=64)

    class Meta:
        verbose_name = _("report photo")
        verbose_name_plural = _("report photos")
        ordering = ["report", "position"]
        constraints = [
            models.UniqueConstraint(fields=["report", "position"], name="photo_one_per_position"),
            models.CheckConstraint(condition=Q(position__gte=1, position__lte=3), name="photo_position_1_to_3"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} #{self.position}"


class SnapshotLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    REGENCY = "regency", _("Regency/city")
    DISTRICT = "district", _("District")


class AdoptionSnapshot(models.Model):
    """Adoption figures of one unit (province, regency or district) on one day.

    Carries its denominators and the version of the adoption definition, so an
    old figure can be reproduced after the registry or the rule changes.
    """

    date = models.DateField(_("date"))
    level = models.CharField(_("level"), max_length=10, choices=SnapshotLevel.choices)
    code = models.CharField(_("code"), max_length=13)
    name = models.CharField(_("name"), max_length=100)
    parent_code = models.CharField(_("parent code"), max_length=13, blank=True)
    units = models.PositiveIntegerField(_("units"))
    desa = models.PositiveIntegerField(_("desa"))
    kelurahan = models.PositiveIntegerField(_("kelurahan"))
    adopted_units = models.PositiveIntegerField(_("adopted units"))
    adopted_desa = models.PositiveIntegerField(_("adopted desa"))
    pillar1_live = models.PositiveIntegerField(_("pillar 1 live"))
    pillar2_live = models.PositiveIntegerField(_("pillar 2 live"))
    pillar3_live = models.PositiveIntegerField(_("pillar 3 live"))
    blocked_no_signal = models.PositiveIntegerField(_("blocked by no signal"))
    awaiting_verification = models.PositiveIntegerField(_("reports awaiting verification"))
    stale_units = models.PositiveIntegerField(_("units without a verified report for 90 days"))
    latest_verified_on = models.DateField(_("latest verified report"), null=True, blank=True)
    definition_version = models.PositiveSmallIntegerField(_("adoption definition version"))
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("adoption snapshot")
        verbose_name_plural = _("adoption snapshots")
        ordering = ["date", "level", "code"]
        constraints = [
            models.UniqueConstraint(fields=["date", "level", "code"], name="snapshot_one_per_unit_per_day"),
            models.CheckConstraint(
                condition=Q(adopted_units__lte=models.F("units"), adopted_desa__lte=models.F("desa")),
                name="snapshot_adopted_within_units",
            ),
        ]
        indexes = [models.Index(fields=["level", "code", "date"], name="snapshot_history")]

    def __str__(self) -> str:
        return f"{self.date} {self.level} {self.code}"

    @property
    def adopted_pct(self) -> float:
        return round(100 * self.adopted_units / self.units, 1) if self.units else 0.0

    @property
    def adopted_desa_pct(self) -> float | None:
        """None where there is no desa (a kota of kelurahan only): the desa share means nothing there."""
        return round(100 * self.adopted_desa / self.desa, 1) if self.desa else None

    @property
    def shown_pct(self) -> float:
        """The adoption % shown for the unit (map shade, trend), rounded as the table shows it (`shown_share`)."""
        return round(shown_share(self.adopted_desa, self.desa, self.adopted_units, self.units), 1)


def shown_share(adopted_desa: int, desa: int, adopted_units: int, units: int) -> float:
    """The rule for which adoption percentage a unit is shown with (and forecast by): the share of its desa
    adopted, the programme's figure; where it has no desa (a kota of kelurahan only), the share of all its
    units. Unrounded; 0.0 for a unit without villages."""
    part, whole = (adopted_desa, desa) if desa else (adopted_units, units)
    return 100 * part / whole if whole else 0.0


class ProgrammeTarget(models.Model):
    """The adoption target of a year, e.g. 100 % of desa by the end of 2024."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    adopted_pct = models.PositiveSmallIntegerField(_("target adoption (%)"), default=100)

    class Meta:
        verbose_name = _("programme target")
        verbose_name_plural = _("programme targets")
        ordering = ["year"]
        constraints = [models.CheckConstraint(condition=Q(adopted_pct__lte=100), name="target_at_most_100")]

    def __str__(self) -> str:
        return f"{self.year}: {self.adopted_pct} %"


class RecomputeRequest(models.Model):
    """The single row that coalesces recompute requests: one pending run absorbs a burst."""

    pending = models.BooleanField(default=False)
    requested_at = models.DateTimeField(null=True, blank=True)
    schedules = models.PositiveIntegerField(default=0, help_text="How many recomputes were scheduled in all.")
    missed = models.BooleanField(
        default=False, help_text="The broker refused a request's task: the catch-up run owes a recompute."
    )
    last_finished_at = models.DateTimeField(null=True, blank=True)
    nightly_on = models.DateField(
        null=True,
        blank=True,
        help_text="The day whose nightly recompute has run: another tick that day (a second beat) does nothing.",
    )

    def __str__(self) -> str:
        return f"pending={self.pending}"


class DemoDataset(models.Model):
    """Present when seed_demo filled the database: the UI then labels its figures as demo data."""

    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"demo data {self.created_at:%Y-%m-%d}"
