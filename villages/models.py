"""The Kemendagri region registry: province > regency > district > village.

Each unit is named by its dotted Kemendagri code (`18`, `18.01`, `18.01.04`,
`18.01.04.2001`): URLs, the API, imports and exports all speak the code. The
code is not the unit's identity: Kemendagri renumbers and moves units between
lists, so a unit has a surrogate primary key (`id`) that every foreign key
points at, and `code` is its unique current code (issue 14). Units are never
deleted: one that disappears from a newer official list is deactivated,
because grants and rollout history keep pointing at it.
"""

import operator
import re
from functools import reduce

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

# Code shapes per level (Kepmendagri 300.2.2-2138/2025): 2, 2.2, 2.2.2, 2.2.2.4 digits. The one source of
# each: the model constraints, the loader (villages.services) and the API's input fields use these.
PROVINCE_CODE_RE = r"^[0-9]{2}$"
REGENCY_CODE_RE = r"^[0-9]{2}\.[0-9]{2}$"
DISTRICT_CODE_RE = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}$"
VILLAGE_CODE_RE = r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$"


class RegionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Region(models.Model):
    # The current code; never read a foreign key's `*_id` as a code, it is the unit's surrogate key.
    code = models.CharField(_("code"), max_length=13, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Cleared when the unit disappears from a newer official list.")
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Province(Region):
    class Meta(Region.Meta):
        verbose_name = _("province")
        verbose_name_plural = _("provinces")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=PROVINCE_CODE_RE), name="province_code_format"),
        ]


class RegencyKind(models.TextChoices):
    # Regency part 01-69.
    KABUPATEN = "kabupaten", _("Kabupaten")
    # Regency part 71-99.
    KOTA = "kota", _("Kota")


# The kind a regency's code gives it (Kemendagri numbering): regency part 01-69 a kabupaten, 71-99 a kota;
# 00 and 70 are neither. Held by the database (Regency's constraint) and read by the loader.
REGENCY_CODE_RE_BY_KIND = {
    RegencyKind.KABUPATEN: r"^[0-9]{2}\.(0[1-9]|[1-6][0-9])$",
    RegencyKind.KOTA: r"^[0-9]{2}\.(7[1-9]|[89][0-9])$",
}


def regency_kind_for_code(code: str) -> str | None:
    """Kabupaten for regency part 01-69, kota for 71-99; None for a code that gives no kind."""
    return next((kind for kind, pattern in REGENCY_CODE_RE_BY_KIND.items() if re.match(pattern, code)), None)


class Regency(Region):
    kind = models.CharField(_("kind"), max_length=10, choices=RegencyKind.choices)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="regencies", verbose_name=_("province")
    )

    class Meta(Region.Meta):
        verbose_name = _("regency/city")
        verbose_name_plural = _("regencies/cities")
        constraints = [
            models.CheckConstraint(
                condition=reduce(
                    operator.or_,
                    (Q(kind=kind, code__regex=pattern) for kind, pattern in REGENCY_CODE_RE_BY_KIND.items()),
                ),
                name="regency_kind_matches_code",
            ),
        ]


class District(Region):
    regency = models.ForeignKey(
        Regency, on_delete=models.PROTECT, related_name="districts", verbose_name=_("regency/city")
    )

    class Meta(Region.Meta):
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=DISTRICT_CODE_RE), name="district_code_format"),
        ]


class VillageKind(models.TextChoices):
    # Village part 1xxx (Permendagri 58/2021).
    KELURAHAN = "kelurahan", _("Kelurahan")
    # Village part 2xxx.
    DESA = "desa", _("Desa")
    # Village part 3xxx; in law a kind of desa (14 nationally, all in Kab. Jayapura).
    DESA_ADAT = "desa_adat", _("Desa adat")


# The kinds counted as "desa" wherever the programme reports desa-only figures.
DESA_KINDS = (VillageKind.DESA, VillageKind.DESA_ADAT)

# The kind a village's code gives it: the first digit of its village part (Permendagri 58/2021). Held by
# the database (Village's constraint) and read by the loader.
VILLAGE_KIND_BY_DIGIT = {"1": VillageKind.KELURAHAN, "2": VillageKind.DESA, "3": VillageKind.DESA_ADAT}


def village_kind_for_code(code: str) -> str | None:
    """Kelurahan for 1xxx, desa for 2xxx, desa adat for 3xxx; None for any other village part."""
    return VILLAGE_KIND_BY_DIGIT.get(code[9])


def _village_code_of_kind(digit: str) -> str:
    """VILLAGE_CODE_RE with the village part's first digit fixed."""
    return VILLAGE_CODE_RE.replace(r"[0-9]{4}$", rf"{digit}[0-9]{{3}}$")


class Village(Region):
    kind = models.CharField(_("kind"), max_length=10, choices=VillageKind.choices)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="villages", verbose_name=_("district")
    )
    # Denormalised from the code (its first five characters): the regency is
    # the unit of access scope and of every report, and filtering 84k villages
    # by it must not need a join through districts.
    regency = models.ForeignKey(
        Regency, on_delete=models.PROTECT, related_name="villages", verbose_name=_("regency/city")
    )

    class Meta(Region.Meta):
        verbose_name = _("village")
        verbose_name_plural = _("villages")
        indexes = [models.Index(fields=["regency", "kind"], name="village_regency_kind")]
        constraints = [
            models.CheckConstraint(
                condition=reduce(
                    operator.or_,
                    (
                        Q(kind=kind, code__regex=_village_code_of_kind(digit))
                        for digit, kind in VILLAGE_KIND_BY_DIGIT.items()
                    ),
                ),
                name="village_kind_matches_code",
            ),
        ]


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    REGENCY = "regency", _("Regency/city")
    DISTRICT = "district", _("District")
    VILLAGE = "village", _("Village")


class VersionCause(models.TextChoices):
    # The unit as a list showed it when the registry first recorded it (a plain load, or before versions).
    LISTED = "listed", _("Listed")
    # The changes of an applied plan (villages.region_plan.Change), the reason a new version began.
    RENAME = "rename", _("Renamed")
    RECODE = "recode", _("New code")
    KIND_CHANGE = "kind_change", _("Desa/kelurahan change")
    NEW = "new", _("New unit")


class RegionVersion(models.Model):
    """One state of a unit over time: its code, name, parent and kind as one official list (decree) gave
    them, valid from `valid_from` until `valid_to` (exclusive; empty while current). A unit's versions never
    overlap and are never rewritten: a change closes the current one (sets `valid_to`, once) and adds the
    next; a unit that leaves the lists keeps its last version, closed."""

    level = models.CharField(_("level"), max_length=10, choices=RegionLevel.choices)
    # The unit, in the foreign key of its level (the others empty): a unit is one row of its level's table.
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, null=True, blank=True, related_name="versions", verbose_name=_("province")
    )
    regency = models.ForeignKey(
        Regency, on_delete=models.PROTECT, null=True, blank=True, related_name="versions", verbose_name=_("regency")
    )
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="versions", verbose_name=_("district")
    )
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="versions", verbose_name=_("village")
    )
    code = models.CharField(_("code"), max_length=13, db_index=True)
    name = models.CharField(_("name"), max_length=100)
    parent_code = models.CharField(_("parent code"), max_length=13, blank=True)
    kind = models.CharField(_("kind"), max_length=10, blank=True)
    decree = models.CharField(
        _("decree"), max_length=200, blank=True, help_text=_("The list that gave this version; empty if unknown.")
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    cause = models.CharField(_("cause"), max_length=12, choices=VersionCause.choices)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("region version")
        verbose_name_plural = _("region versions")
        ordering = ["level", "code", "valid_from", "id"]
        constraints = [
            models.CheckConstraint(
                condition=reduce(
                    operator.or_,
                    (
                        Q(level=level, **{f"{name}__isnull": name != level for name in RegionLevel.values})
                        for level in RegionLevel.values
                    ),
                ),
                name="region_version_unit_of_its_level",
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_from__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="region_version_ends_after_it_begins",
            ),
            *(
                models.UniqueConstraint(
                    fields=[level], condition=Q(valid_to__isnull=True), name=f"region_version_one_current_{level}"
                )
                for level in RegionLevel.values
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name} ({self.decree or '?'})"

    @property
    def unit_id(self) -> int:
        return getattr(self, f"{self.level}_id")


class RegionListUpload(models.Model):
    """A newer region list a province administrator uploaded, and its change set under review (the plan CSV,
    as planned and then edited), until it is applied by `villages.services.regions_apply`."""

    file_name = models.CharField(_("file name"), max_length=200)
    text = models.TextField(_("region list"))
    plan = models.TextField(_("plan"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("applied by"),
    )
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    decree = models.CharField(_("decree"), max_length=200, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)

    class Meta:
        verbose_name = _("region list upload")
        verbose_name_plural = _("region list uploads")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} {self.uploaded_at:%Y-%m-%d %H:%M}"
