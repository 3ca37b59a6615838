"""Reads of the rollout: village statuses, reports, snapshots, trend forecast, paid-but-not-live."""

from __future__ import annotations

import datetime
import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, ExtractYear

from accounts.access import Capability, has_capability, restrict_to_scope, restrict_units_to_scope
from accounts.models import User
from grants.models import Grant, GrantStatus
from rollout.models import (
    STATUS_FIELDS,
    AdoptionSnapshot,
    DemoDataset,
    ProgrammeTarget,
    ProgressReport,
    ReportPhoto,
    ReportStatus,
    shown_share,
)
from rollout.services import STALE_AFTER_DAYS, adopted
from villages.models import RegionVersion, Village

# Paid and still with the village: a returned grant is money back, not money without result.
HELD_STATUSES = (GrantStatus.DISBURSED, GrantStatus.ACCOUNTED, GrantStatus.CLOSED)

# The trend used for a forecast: the most recent snapshots, one per month at most.
FORECAST_POINTS = 6
# Below this slope (percentage points per day, about 0.3 per month) the trend counts as flat.
FLAT_SLOPE = 0.01
# A finish further away than this is no forecast at all.
FORECAST_HORIZON_DAYS = 10 * 365


def demo_data_flag() -> Exists:
    """Whether seed_demo's data is in the database, as an expression: a page that runs a query anyway
    annotates it with this and puts `demo_data` in its context, saving the context processor's query."""
    return Exists(DemoDataset.objects.all())


def village_rollout_list(*, user: User) -> QuerySet[Village]:
    """Active villages visible to `user` with their current status and whether they are adopted."""
    queryset = (
        Village.objects.filter(is_active=True)
        .select_related("district", "regency", "rollout")
        .annotate(
            is_adopted=Case(
                When(adopted(prefix="rollout__"), then=Value(True)), default=Value(False), output_field=BooleanField()
            )
        )
        .order_by("code")
    )
    return restrict_to_scope(queryset, user, regency_field="regency")


@dataclass(frozen=True)
class Excerpt:
    """The first rows of a list and the length of the whole list, so a page can say "15 of 60"."""

    rows: list
    total: int

    @property
    def is_cut(self) -> bool:
        return self.total > len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def excerpt(*, queryset: QuerySet, limit: int) -> Excerpt:
    """The first `limit` rows of `queryset` and its whole length, in one query: COUNT(*) OVER () is
    counted before the LIMIT, from the same rows, so the two always agree."""
    rows = list(queryset.annotate(whole_list_total=Window(Count("pk")))[:limit])
    return Excerpt(rows=rows, total=rows[0].whole_list_total if rows else 0)


def report_list(*, user: User) -> QuerySet[ProgressReport]:
    queryset = ProgressReport.objects.select_related(
        "village", "village__district", "village__regency", "submitted_by", "reviewed_by"
    ).order_by("-submitted_at", "-id")
    return restrict_to_scope(queryset, user, regency_field="village__regency")


def report_photo(*, user: User, report_id: int, position: int) -> ReportPhoto | None:
    """A report's photo, if `user` may read the report's village (the access policy's regency scope)."""
    photos = restrict_to_scope(
        ReportPhoto.objects.filter(report_id=report_id, position=position),
        user,
        regency_field="report__village__regency",
    )
    return photos.first() if has_capability(user, Capability.READ) else None


def _scoped_snapshots(user: User) -> QuerySet[AdoptionSnapshot]:
    """Snapshots a user may see: an officer sees the own regency and its districts, no wider aggregate."""
    return restrict_units_to_scope(AdoptionSnapshot.objects.all(), user, code_field="code")


def _snapshot_group(level: str, parent: str | None) -> Q:
    return Q(level=level, parent_code=parent) if parent else Q(level=level)


def latest_snapshot_groups(
    *, user: User, groups: Sequence[tuple[str, str | None]], with_target: bool = False
) -> list[list[AdoptionSnapshot]]:
    """For each (level, parent) of `groups`, what `latest_snapshots` gives, all in one query.

    Each group's latest date is a scalar subquery of the same statement, so a page needs no
    separate MAX(date) lookups. `with_target`: every row carries `target_pct`, the programme
    target (percent) of its snapshot's year.
    """
    scoped = _scoped_snapshots(user)
    condition = reduce(
        operator.or_,
        (
            _snapshot_group(level, parent)
            & Q(date=Subquery(scoped.filter(_snapshot_group(level, parent)).order_by("-date").values("date")[:1]))
            for level, parent in groups
        ),
    )
    rows = scoped.filter(condition).order_by("code")
    if with_target:
        target = ProgrammeTarget.objects.filter(year=ExtractYear(OuterRef("date"))).values("adopted_pct")[:1]
        rows = rows.annotate(target_pct=Coalesce(Subquery(target), Value(DEFAULT_TARGET_PCT)))
    rows = list(rows)
    return [
        [row for row in rows if row.level == level and (not parent or row.parent_code == parent)]
        for level, parent in groups
    ]


def latest_snapshots(*, user: User, level: str, parent: str | None = None) -> list[AdoptionSnapshot]:
    """The most recent snapshot rows of `level` (optionally the children of `parent`)."""
    return latest_snapshot_groups(user=user, groups=[(level, parent)])[0]


def snapshot_history(
    *, user: User, code: str, date_from: datetime.date | None = None, date_to: datetime.date | None = None
) -> list[AdoptionSnapshot]:
    snapshots = _scoped_snapshots(user).filter(code=code)
    if date_from:
        snapshots = snapshots.filter(date__gte=date_from)
    if date_to:
        snapshots = snapshots.filter(date__lte=date_to)
    return list(snapshots.order_by("date"))


# What a trend or a forecast reads of each snapshot.
SERIES_FIELDS = ("code", "date", "name", "units", "desa", "adopted_units", "adopted_desa")


def snapshot_histories(
    *, user: User, level: str, parent: str, codes: Iterable[str] = ()
) -> dict[str, list[AdoptionSnapshot]]:
    """The snapshot history (oldest first) of every child of `parent` at `level` and of `codes`,
    in one query: what a page needs for its table's forecasts and its trend chart.

    A unit whose code changed with a newer list (a regency moved to a new province, a renumbered district)
    keeps its history: the snapshots taken under its former code, while that code was its, are filed under
    its current code (still the same query). The rows carry only SERIES_FIELDS (the others are deferred).
    """
    codes = list(codes)
    formers = _former_codes().values("code")
    rows = (
        _scoped_snapshots(user)
        .filter(
            Q(level=level, parent_code=parent)
            | Q(code__in=codes)
            | Q(level=level, code__in=formers.filter(now__startswith=f"{parent}."))
            | Q(code__in=formers.filter(now__in=codes))
        )
        .annotate(
            now_code=Subquery(
                _former_codes(at=OuterRef("date"))
                .filter(level=OuterRef("level"), code=OuterRef("code"))
                .values("now")[:1]
            )
        )
        .only(*SERIES_FIELDS)
        .order_by("code", "date")
    )
    histories: dict[str, list[AdoptionSnapshot]] = defaultdict(list)
    for row in rows:
        histories[row.now_code or row.code].append(row)
    for history in histories.values():
        history.sort(key=lambda row: row.date)
    return dict(histories)


def _former_codes(at=None) -> QuerySet[RegionVersion]:
    """Closed versions of units (province, regency, district: the snapshot levels) under a code that is no
    longer theirs, each with `now`, the unit's current code; `at` (a date): only versions valid on it."""
    versions = (
        RegionVersion.objects.filter(level__in=("province", "regency", "district"), valid_to__isnull=False)
        .annotate(now=Coalesce(F("province__code"), F("regency__code"), F("district__code")))
        .exclude(now=F("code"))
    )
    if at is not None:
        versions = versions.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=at), valid_to__gt=at)
    return versions


# The programme aims at every village: 100 % unless a ProgrammeTarget says otherwise for a year.
DEFAULT_TARGET_PCT = 100


def targets() -> dict[int, int]:
    """The configured adoption target (percent) per year."""
    return dict(ProgrammeTarget.objects.values_list("year", "adopted_pct"))


# --- forecast -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """An *estimate* of when a unit reaches the target, from its snapshot trend."""

    status: str  # "reached", "on_track", "not_on_track", "no_data"
    date: datetime.date | None = None
    slope_per_month: float | None = None


def forecast_completion(*, points: list[tuple[datetime.date, float]], target: float = 100.0) -> Forecast:
    """Fit a straight line to the recent (date, adoption %) points and extend it to `target`."""
    if not points:
        return Forecast("no_data")
    points = sorted(points)
    reached = [day for day, pct in points if pct >= target]
    if points[-1][1] >= target:
        return Forecast("reached", date=reached[0] if reached else points[-1][0])
    # One point per month (its last), so daily nightly snapshots do not shrink the trend to a week.
    monthly = list({(day.year, day.month): (day, pct) for day, pct in points}.values())
    recent = monthly[-FORECAST_POINTS:]
    if len(recent) < 2:
        return Forecast("not_on_track")
    origin = recent[0][0]
    xs = [(day - origin).days for day, _pct in recent]
    ys = [pct for _day, pct in recent]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0
    if slope <= FLAT_SLOPE:
        return Forecast("not_on_track", slope_per_month=round(slope * 30, 2))
    last_day, last_pct = recent[-1]
    days = (target - last_pct) / slope
    if days > FORECAST_HORIZON_DAYS:
        return Forecast("not_on_track", slope_per_month=round(slope * 30, 2))
    return Forecast(
        "on_track", date=last_day + datetime.timedelta(days=round(days)), slope_per_month=round(slope * 30, 2)
    )


def forecasts(*, user: User, level: str) -> dict[str, Forecast]:
    """A forecast per unit of `level`, from one query over its snapshot history."""
    history: dict[str, list[tuple[datetime.date, float]]] = defaultdict(list)
    rows = (
        _scoped_snapshots(user)
        .filter(level=level)
        .order_by("code", "date")
        .values_list("code", "date", "adopted_desa", "desa", "adopted_units", "units")
    )
    for code, day, *counts in rows:
        history[code].append((day, shown_share(*counts)))
    return {code: forecast_completion(points=points) for code, points in history.items()}


def forecasts_of(*, histories: dict[str, list[AdoptionSnapshot]]) -> dict[str, Forecast]:
    """What `forecasts` gives, for histories already read (`snapshot_histories`)."""
    return {
        code: forecast_completion(
            points=[(row.date, shown_share(row.adopted_desa, row.desa, row.adopted_units, row.units)) for row in rows]
        )
        for code, rows in histories.items()
    }


# --- money without result -----------------------------------------------------------------------


def paid_not_live_condition() -> Q:
    """A grant paid and held by an active village that is not adopted (a condition on Grant)."""
    return Q(status__in=HELD_STATUSES, village__is_active=True) & ~adopted(prefix="village__rollout__")


def paid_not_live(*, user: User, regency_code: str | None = None) -> QuerySet[Grant]:
    """Grants disbursed to villages that are not adopted: where money went without a result."""
    grants = (
        Grant.objects.filter(paid_not_live_condition())
        .select_related("village", "village__district", "village__regency", "village__rollout", "disbursement")
        .order_by("village__code")
    )
    if regency_code:
        grants = grants.filter(village__regency__code=regency_code)
    return restrict_to_scope(grants, user, regency_field="village__regency")


# --- the officer's field workspace ----------------------------------------------------------------


def field_worklist(*, user: User, today: datetime.date) -> QuerySet[Village]:
    """What needs doing in the officer's villages: not adopted, blocked, or no verified report for
    STALE_AFTER_DAYS days (each row says which: `needs_live`, `needs_unblock`, `needs_report`). Blocked
    villages first, then those not live, then the stale ones."""
    stale_before = today - datetime.timedelta(days=STALE_AFTER_DAYS)
    needs_live = ~adopted(prefix="rollout__")
    needs_unblock = Q(rollout__blocker__gt="")
    needs_report = Q(rollout__isnull=True) | Q(rollout__last_verified_on__isnull=True)
    needs_report |= Q(rollout__last_verified_on__lt=stale_before)

    def flag(condition: Q) -> Case:
        return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())

    return (
        village_rollout_list(user=user)
        .filter(needs_live | needs_unblock | needs_report)
        .annotate(needs_live=flag(needs_live), needs_unblock=flag(needs_unblock), needs_report=flag(needs_report))
        .order_by("-needs_unblock", "-needs_live", "code")
    )


def own_rejected_reports(*, user: User) -> QuerySet[ProgressReport]:
    """The user's own rejected reports on villages nobody has reported on since: each still to be redone."""
    newer = ProgressReport.objects.filter(village=OuterRef("village"), submitted_at__gt=OuterRef("submitted_at"))
    return report_list(user=user).filter(submitted_by=user, status=ReportStatus.REJECTED).exclude(Exists(newer))


def field_villages(*, user: User) -> QuerySet:
    """The villages an officer reports on with their current status, as plain values: the report form's
    data on the device (it opens any of them offline) and the home page's village picker."""
    return (
        village_rollout_list(user=user)
        .order_by("district__code", "name")
        .values(
            "code",
            "name",
            "kind",
            "district__code",
            "district__name",
            "regency__code",
            "regency__name",
            *(f"rollout__{name}" for name in STATUS_FIELDS),
        )
    )
