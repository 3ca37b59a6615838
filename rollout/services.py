"""Every write to the rollout state, and the programme's definition of an adopted smart village.

- Officers submit progress reports (one, or a district's bulk: all or nothing). A report recorded on a
  device (field capture, offline) carries the device's id for it (`client_uuid`): sent again, it is stored
  once (`report_receive`); and the time it was recorded (`captured_at`), which orders it among the
  village's reports. One captured before the village's latest verified report is `late`.
- Province staff verify or reject them, never their own; only a verified report changes a village's
  status, and only if it describes a later time than the report in place (`ProgressReport.DESCRIBED_AT`).
- Province staff may correct a status directly: recorded as a verified correction report.
- `adoption_recompute` writes the day's AdoptionSnapshot rows from aggregate SQL.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, F, Max, Q, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import Capability, has_capability, regency_scope
from accounts.models import AuditAction, User
from accounts.services import audit_record, changed_fields, field_values
from rollout.models import (
    STATUS_FIELDS,
    AdoptionSnapshot,
    Blocker,
    PillarStatus,
    ProgrammeTarget,
    ProgressReport,
    RecomputeRequest,
    ReportPhoto,
    ReportStatus,
    Signal,
    SnapshotLevel,
    VillageStatus,
)
from rollout.photos import (
    CONTENT_TYPE,
    MAX_PHOTOS,
    PhotoRefused,
    photo_refusal,
    photos_prepare,
    photos_store,
    upload_sha256,
)
from smartvillage.errors import ApplicationError, TransitionRefused
from villages.models import DESA_KINDS, District, Village

logger = logging.getLogger(__name__)

# Bump when `adopted` below changes meaning; every snapshot records the version it used.
ADOPTION_DEFINITION_VERSION = 1

# A unit with no verified report for this long is shown as stale.
STALE_AFTER_DAYS = 90


def adopted(*, prefix: str = "", as_of: datetime.date | None = None) -> Q:
    """An *adopted smart village* ("desa cerdas"): pillar 1, digital administration and public
    services, is live. Pillars 2 and 3 are reported beside it, never part of it.

    `prefix` is the path from the queried model to VillageStatus (e.g. "rollout__").
    `as_of` counts only villages whose pillar 1 was live on that date (for history).
    """
    condition = Q(**{f"{prefix}pillar1": PillarStatus.LIVE})
    if as_of is not None:
        condition &= Q(**{f"{prefix}pillar1_since__lte": as_of})
    return condition


# --- reports ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportInput:
    village: Village
    pillar1: str
    pillar2: str
    pillar3: str
    signal: str
    signal_sufficient: bool
    blocker: str = ""
    blocker_note: str = ""
    note: str = ""
    evidence_url: str = ""
    # Field capture: the device's id of the report, when it recorded it, and where (if the officer shared it).
    client_uuid: uuid.UUID | None = None
    captured_at: datetime.datetime | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None


# A device's clock may run this far ahead of the server's; a capture time further ahead is refused.
CLOCK_SKEW = datetime.timedelta(minutes=5)
# No report of the programme was recorded before this day (local time): an earlier capture time is a wrong clock.
EARLIEST_CAPTURE = datetime.date(2022, 1, 1)

# What a report sent again must repeat to be the same report (with its village, author and photos).
CAPTURED_CONTENT = (*STATUS_FIELDS, "note", "evidence_url", "latitude", "longitude")


class ReportConflict(ApplicationError):
    """A client_uuid already names another report (409): a device sent two different reports under one id."""

    http_status = HTTPStatus.CONFLICT


@dataclass(frozen=True)
class Received:
    """A report as `report_receive` left it: new (`created`), or the original a repeated send named."""

    report: ProgressReport
    created: bool


def _check_scope(user: User, village: Village) -> None:
    """Only a regency officer of the village's own regency may report on it."""
    if not has_capability(user, Capability.SUBMIT_REPORTS) or regency_scope(user) != village.regency_id:
        raise ApplicationError(
            _("You can report only on villages of your own regency."),
            fields={"village": [_("%(code)s is outside your regency.") % {"code": village.code}]},
        )


def _check_content(item: ReportInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if item.captured_at is not None:
        if item.captured_at > timezone.now() + CLOCK_SKEW:
            errors["captured_at"] = [_("The capture time is in the future: check the device's clock.")]
        elif timezone.localdate(item.captured_at) < EARLIEST_CAPTURE:
            errors["captured_at"] = [_("The capture time is before 2022: check the device's clock.")]
    if (item.latitude is None) != (item.longitude is None):
        errors["latitude" if item.latitude is None else "longitude"] = [_("Give both coordinates, or neither.")]
    if not item.village.is_active:
        errors["village"] = [_("This village is no longer in the official list.")]
    if item.blocker_note and not item.blocker:
        errors["blocker"] = [_("Choose a blocker category for the note.")]
    if item.blocker == Blocker.NO_SIGNAL and item.signal_sufficient:
        errors["signal_sufficient"] = [_("A village blocked by no signal cannot have sufficient signal.")]
    elif item.signal == Signal.NONE and item.signal_sufficient:
        errors["signal_sufficient"] = [_("With no signal at all, the signal cannot be enough for the services.")]
    return errors


def _new_report(item: ReportInput, actor: User, now: datetime.datetime, **extra) -> ProgressReport:
    return ProgressReport(
        village=item.village,
        pillar1=item.pillar1,
        pillar2=item.pillar2,
        pillar3=item.pillar3,
        signal=item.signal,
        signal_sufficient=item.signal_sufficient,
        blocker=item.blocker,
        blocker_note=item.blocker_note.strip(),
        note=item.note.strip(),
        evidence_url=item.evidence_url,
        submitted_by=actor,
        submitted_at=now,
        captured_at=item.captured_at or now,
        client_uuid=item.client_uuid,
        latitude=item.latitude,
        longitude=item.longitude,
        **extra,
    )


def report_submit(*, actor: User, item: ReportInput) -> ProgressReport:
    """An officer's report on one village of the own regency, awaiting verification."""
    return report_receive(actor=actor, item=item).report


def report_receive(*, actor: User, item: ReportInput, photos: Sequence = ()) -> Received:
    """A report from an officer's device, with its photos (uploaded files, at most 3): stored once per client_uuid.

    The same client_uuid sent again with the same content (the report's fields, its capture time when sent,
    and its photos' bytes) returns the original report, `created` False; with other content it is refused
    (ReportConflict, 409). Concurrent sends of one report create one: the database's unique constraint on
    client_uuid decides, and the loser returns the winner's report.

    Photos are checked and re-encoded (rollout.photos) before anything is written, and their files are
    written before the report's transaction: a refused photo writes nothing, a failed transaction leaves
    no report without its photos.
    """
    _check_scope(actor, item.village)
    errors = _check_content(item)
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = [_("At most %(count)d photos per report.") % {"count": MAX_PHOTOS}]
    elif refused := [photo for photo in photos if photo.size > settings.PHOTO_MAX_UPLOAD_BYTES]:
        errors["photos"] = [photo_refusal(refused[0])]
    if errors:
        raise ApplicationError(_("The report is not valid."), fields=errors)
    if item.client_uuid is not None:
        original = _original(item.client_uuid)
        if original is not None:
            return Received(_same_report(original, item, actor, [upload_sha256(photo) for photo in photos]), False)
    try:
        prepared = photos_prepare(photos)
    except PhotoRefused as refused:
        raise ApplicationError(_("The report is not valid."), fields={"photos": [str(refused)]}) from None
    photos_store(prepared)
    with transaction.atomic():
        report = _new_report(item, actor, timezone.now())
        status = VillageStatus.objects.filter(village=item.village).select_related("last_report").first()
        report.late = status is not None and _superseded(status, report)
        try:
            with transaction.atomic():
                report.save()
        except IntegrityError:
            # Another send of the same report committed first (its INSERT held ours until then).
            original = _original(item.client_uuid) if item.client_uuid is not None else None
            if original is None:
                raise
            return Received(_same_report(original, item, actor, [photo.source_sha256 for photo in prepared]), False)
        ReportPhoto.objects.bulk_create(
            ReportPhoto(
                report=report,
                position=position,
                file=photo.name,
                content_type=CONTENT_TYPE,
                width=photo.width,
                height=photo.height,
                size=len(photo.content),
                sha256=photo.sha256,
                source_sha256=photo.source_sha256,
            )
            for position, photo in enumerate(prepared, start=1)
        )
    return Received(report, True)


def _original(client_uuid: uuid.UUID) -> ProgressReport | None:
    return ProgressReport.objects.filter(client_uuid=client_uuid).prefetch_related("photos").first()


def _differences(original: ProgressReport, item: ReportInput, actor: User, photo_hashes: Sequence[str]) -> list[str]:
    """The fields in which `item` (sent again under the original's client_uuid) is not the original report."""
    candidate = _new_report(item, actor, original.captured_at)
    differs = [name for name in CAPTURED_CONTENT if getattr(candidate, name) != getattr(original, name)]
    if original.village_id != item.village.pk:
        differs.append("village")
    if original.submitted_by_id != actor.pk:
        differs.append("submitted_by")
    # A repeat that leaves the capture time out (an API client) repeats whatever the original recorded.
    if item.captured_at is not None and item.captured_at != original.captured_at:
        differs.append("captured_at")
    if [photo.source_sha256 for photo in original.photos.all()] != list(photo_hashes):
        differs.append("photos")
    return differs


def _same_report(original: ProgressReport, item: ReportInput, actor: User, photo_hashes: Sequence[str]):
    """The original report, if `item` repeats it; ReportConflict naming the differing fields otherwise."""
    differs = _differences(original, item, actor, photo_hashes)
    if differs:
        raise ReportConflict(
            _("This client_uuid was already used for a different report; nothing was stored."),
            fields={"client_uuid": [_("Already used for another report.")], "differs": differs},
        )
    return original


def reports_submit_bulk(*, actor: User, district: District, items: Sequence[ReportInput]) -> list[ProgressReport]:
    """Reports for many villages of one district: all or nothing (see `reports_receive_bulk`)."""
    return reports_receive_bulk(actor=actor, district=district, items=items)[0]


@transaction.atomic
def reports_receive_bulk(
    *, actor: User, district: District, items: Sequence[ReportInput]
) -> tuple[list[ProgressReport], int]:
    """Reports for many villages of one district: all or nothing. Returns the rows' reports, in the rows'
    order, and how many of them are new.

    A row with a client_uuid sent before (the same content) gives the original report; a row reusing one
    for other content refuses the whole bulk (ReportConflict, 409), as does any invalid row (400).
    Errors come as fields["reports"][row index (0-based, as a string)][field] = messages,
    the same shape DRF gives for invalid rows of the request body.
    """
    if not items:
        raise ApplicationError(_("No rows to submit."), fields={"reports": [_("Add at least one village.")]})
    row_errors: dict[str, dict[str, list[str]]] = {}
    seen: set[str] = set()
    uuids_seen: set[uuid.UUID] = set()
    for row, item in enumerate(items):
        errors = _check_content(item)
        if item.village.district_id != district.pk:
            errors.setdefault("village", []).append(
                _("%(code)s is not in district %(district)s.") % {"code": item.village.code, "district": district.code}
            )
        if item.village.code in seen:
            errors.setdefault("village", []).append(_("%(code)s appears twice.") % {"code": item.village.code})
        seen.add(item.village.code)
        try:
            _check_scope(actor, item.village)
        except ApplicationError as error:
            errors.setdefault("village", []).extend(error.fields["village"])
        if item.client_uuid is not None:
            if item.client_uuid in uuids_seen:
                errors.setdefault("client_uuid", []).append(_("This client_uuid appears twice."))
            uuids_seen.add(item.client_uuid)
        if errors:
            row_errors[str(row)] = errors
    if row_errors:
        raise ApplicationError(
            _("%(count)d row(s) are not valid; nothing was submitted.") % {"count": len(row_errors)},
            fields={"reports": row_errors},
        )
    # Twice at most: a concurrent send of some of the same rows that commits first is found the second time.
    for attempt in range(2):
        try:
            return _bulk_insert(actor, items)
        except IntegrityError:
            if attempt or not uuids_seen:
                raise
    raise AssertionError("unreachable")


def _bulk_insert(actor: User, items: Sequence[ReportInput]) -> tuple[list[ProgressReport], int]:
    """The rows of a valid bulk: the originals of rows sent before (by client_uuid), the others inserted."""
    uuids = [item.client_uuid for item in items if item.client_uuid is not None]
    originals = {
        report.client_uuid: report
        for report in ProgressReport.objects.filter(client_uuid__in=uuids).prefetch_related("photos")
    }
    conflicts = {}
    for row, item in enumerate(items):
        original = originals.get(item.client_uuid)
        if original is not None and (differs := _differences(original, item, actor, [])):
            conflicts[str(row)] = {"client_uuid": [_("Already used for another report.")], "differs": differs}
    if conflicts:
        raise ReportConflict(
            _("%(count)d row(s) reuse a client_uuid of another report; nothing was submitted.")
            % {"count": len(conflicts)},
            fields={"reports": conflicts},
        )
    now = timezone.now()
    new = [(row, _new_report(item, actor, now)) for row, item in enumerate(items) if item.client_uuid not in originals]
    statuses = {
        status.village_id: status
        for status in VillageStatus.objects.filter(village__in=[report.village for _row, report in new]).select_related(
            "last_report"
        )
    }
    for _row, report in new:
        status = statuses.get(report.village_id)
        report.late = status is not None and _superseded(status, report)
    with transaction.atomic():
        created = ProgressReport.objects.bulk_create(report for _row, report in new)
    reports = [originals.get(item.client_uuid) for item in items]
    for (row, _report), report in zip(new, created, strict=True):
        reports[row] = report
    return reports, len(created)


def _lock_status(village_id: int) -> VillageStatus:
    """The village's status row, locked: its reports are then decided and applied one at a time."""
    status, _created = VillageStatus.objects.select_for_update().get_or_create(village_id=village_id)
    return status


def _superseded(status: VillageStatus, report: ProgressReport) -> bool:
    """Whether the report in place describes a later time than `report`, which then must not replace it."""
    in_place = status.last_report
    return in_place is not None and in_place.recency > report.recency


def _apply(report: ProgressReport, status: VillageStatus, today: datetime.date) -> None:
    """Make a verified report the village's current status; each pillar keeps the date it last changed."""
    for pillar in ("pillar1", "pillar2", "pillar3"):
        new = getattr(report, pillar)
        if getattr(status, pillar) != new or getattr(status, f"{pillar}_since") is None:
            setattr(status, pillar, new)
            setattr(status, f"{pillar}_since", timezone.localdate(report.described_at))
    for name in ("signal", "signal_sufficient", "blocker", "blocker_note"):
        setattr(status, name, getattr(report, name))
    status.last_report = report
    status.last_verified_on = today
    status.save()


class ReviewRefused(ApplicationError):
    """The actor may not review this report (403), whatever their role."""

    http_status = HTTPStatus.FORBIDDEN


def _decide(
    report: ProgressReport, actor: User, to_status: str, *, reason: str = "", superseded: bool = False
) -> ProgressReport:
    # Four eyes: a report is reviewed by someone other than its author. Decided by identity, not by
    # role, so it holds for an officer later made province staff.
    if report.submitted_by_id == actor.pk:
        raise ReviewRefused(_("You submitted this report; another reviewer must verify or reject it."))
    now = timezone.now()
    # Guarded update: only an awaiting report is decided, once, whoever clicks first.
    decided = ProgressReport.objects.filter(pk=report.pk, status=ReportStatus.AWAITING).update(
        status=to_status,
        reviewed_by=actor,
        reviewed_at=now,
        rejection_reason=reason,
        superseded=superseded,
        # Late: captured before the report in place when it arrived, or found so now (a newer one verified since).
        late=report.late or superseded,
    )
    if not decided:
        raise TransitionRefused(_("This report was already verified or rejected."))
    report.refresh_from_db()
    return report


@transaction.atomic
def report_verify(*, report: ProgressReport, actor: User) -> ProgressReport:
    """Accept a report: it becomes the village's current status, unless a report describing a later
    time is already in place; then it is recorded as verified and superseded, and the status stays.
    Adoption is recomputed soon after.
    """
    # The status is locked before the report is decided, so each verification compares with the
    # report really in place, whatever the order in which staff verify.
    status = _lock_status(report.village_id)
    superseded = _superseded(status, report)
    report = _decide(report, actor, ReportStatus.VERIFIED, superseded=superseded)
    if not superseded:
        _apply(report, status, timezone.localdate())
    transaction.on_commit(adoption_recompute_request)
    return report


@transaction.atomic
def report_reject(*, report: ProgressReport, actor: User, reason: str) -> ProgressReport:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("A reason is required."), fields={"reason": [_("Say why the report is rejected.")]})
    return _decide(report, actor, ReportStatus.REJECTED, reason=reason)


@transaction.atomic
def status_correct(*, actor: User, item: ReportInput) -> ProgressReport:
    """A province staff correction: recorded as a report verified at once by its author (audited)."""
    errors = _check_content(item)
    if errors:
        raise ApplicationError(_("The correction is not valid."), fields=errors)
    now = timezone.now()
    status = _lock_status(item.village.pk)
    report = _new_report(
        item, actor, now, is_correction=True, status=ReportStatus.VERIFIED, reviewed_by=actor, reviewed_at=now
    )
    report.superseded = report.late = _superseded(status, report)
    report.save()
    if not report.superseded:
        _apply(report, status, timezone.localdate())
    transaction.on_commit(adoption_recompute_request)
    return report


@transaction.atomic
def statuses_import(*, actor: User, items: Sequence[tuple[ReportInput, datetime.datetime]]) -> list[ProgressReport]:
    """Record villages' known state in bulk, each as of its time (a first load, e.g. the demo): a verified
    correction report by `actor` at that time, and the village's status from it, each pillar since that
    day and verified that day. Refused for a village that already has a status (that one changes through
    reports)."""
    village_ids = [item.village.pk for item, _at in items]
    if VillageStatus.objects.filter(village_id__in=village_ids).exists():
        raise TransitionRefused(_("Some of these villages already have a status; report on them instead."))
    reports = ProgressReport.objects.bulk_create(
        (
            _new_report(
                item, actor, at, is_correction=True, status=ReportStatus.VERIFIED, reviewed_by=actor, reviewed_at=at
            )
            for item, at in items
        ),
        batch_size=1000,
    )
    statuses = []
    for report in reports:
        day = timezone.localdate(report.described_at)
        status = VillageStatus(village_id=report.village_id, last_report=report, last_verified_on=day)
        for pillar in ("pillar1", "pillar2", "pillar3"):
            setattr(status, pillar, getattr(report, pillar))
            setattr(status, f"{pillar}_since", day)
        for name in ("signal", "signal_sufficient", "blocker", "blocker_note"):
            setattr(status, name, getattr(report, name))
        statuses.append(status)
    VillageStatus.objects.bulk_create(statuses, batch_size=1000)
    return reports


# --- programme targets --------------------------------------------------------------------------

# Target fields whose changes the audit trail records.
TARGET_FIELDS = ("year", "adopted_pct")


@transaction.atomic
def target_save(*, actor: User, target: ProgrammeTarget) -> ProgrammeTarget:
    """Create or change a year's adoption target (what the dashboard compares adoption with); audited."""
    before = None
    if target.pk is not None:
        locked = ProgrammeTarget.objects.select_for_update().get(pk=target.pk)
        before = field_values(obj=locked, fields=TARGET_FIELDS)
    target.save()
    after = field_values(obj=target, fields=TARGET_FIELDS)
    changes = (
        {name: [None, value] for name, value in after.items()}
        if before is None
        else changed_fields(before=before, after=after)
    )
    if changes:
        audit_record(actor=actor, action=AuditAction.TARGET_CHANGED, obj=target, changes=changes)
    return target


@transaction.atomic
def target_delete(*, actor: User, target: ProgrammeTarget) -> None:
    """Remove a year's target (the dashboard then compares with the default); audited."""
    audit_record(
        actor=actor, action=AuditAction.TARGET_CHANGED, obj=target, changes={"adopted_pct": [target.adopted_pct, None]}
    )
    target.delete()


# --- recompute ----------------------------------------------------------------------------------


# The task that runs `adoption_recompute_run`, named rather than imported: rollout.tasks calls this module
# (tasks are thin), never the reverse. Registered in every process (RolloutConfig.ready imports it).
RECOMPUTE_TASK = "rollout.tasks.recompute_adoption"


def adoption_recompute_request() -> bool:
    """Ask for a recompute soon; a burst of requests coalesces into one scheduled run.

    Returns True when this call scheduled the run. A request older than the
    stale limit is re-claimed, so a lost task never blocks recomputes for good.

    Called once a verification has committed, so a broker outage must neither fail
    nor hold it: the publish is bounded by the broker timeouts in settings, and on a
    failure the claim is released and the request kept in the row (`missed`). The
    next request tries again; without one, `adoption_recompute_catch_up` (beat, every
    few minutes) queues it once the broker is back; the nightly run is the last resort.
    """
    now = timezone.now()
    RecomputeRequest.objects.get_or_create(pk=1)
    stale = now - datetime.timedelta(seconds=settings.ROLLOUT_RECOMPUTE_STALE_SECONDS)
    claimed = RecomputeRequest.objects.filter(Q(pending=False) | Q(requested_at__lt=stale), pk=1).update(
        pending=True, requested_at=now, schedules=F("schedules") + 1
    )
    if not claimed:
        return False
    try:
        current_app.tasks[RECOMPUTE_TASK].apply_async(countdown=settings.ROLLOUT_RECOMPUTE_DELAY_SECONDS)
    except Exception:  # any broker failure (kombu/redis errors vary): remembered below, never raised
        logger.warning("Adoption recompute not queued (broker unreachable); the catch-up run will.", exc_info=True)
        # Released, so the next request tries again; `missed` stays until a recompute task starts.
        RecomputeRequest.objects.filter(pk=1).update(pending=False, missed=True)
        return False
    return True


def adoption_recompute_catch_up() -> bool:
    """Queue the recompute owed by a request the broker refused, or by one whose message was lost
    (pending past the stale limit). Beat runs it every few minutes: it reaches a worker only when
    the broker is up again, so it queues soon after an outage ends. Returns True when it queued one.
    """
    stale = timezone.now() - datetime.timedelta(seconds=settings.ROLLOUT_RECOMPUTE_STALE_SECONDS)
    owed = Q(missed=True) | Q(pending=True, requested_at__lt=stale)
    if not RecomputeRequest.objects.filter(owed, pk=1).exists():
        return False
    # The request's own claim: a missed request is released, a lost one stale, so both are claimable,
    # while a missed request re-queued since (pending, recent) is left to its queued task.
    return adoption_recompute_request()


def adoption_recompute_run() -> int:
    """The queued recompute (the task's body): clear the request, then recompute today's snapshots.

    Cleared before computing: a verification committed during this run asks for another one. This run
    also covers any request the broker refused earlier (`missed`). Returns the snapshot rows written.
    """
    RecomputeRequest.objects.filter(pk=1).update(pending=False, missed=False)
    return adoption_recompute()


def adoption_recompute_nightly() -> int | None:
    """The nightly recompute (beat, 01:00), once per day however many beats send it.

    One Celery beat is the deployment rule (README), but a second one started by mistake, or a beat restarted
    around its tick, must not recompute twice: the day is claimed on the request row by a guarded UPDATE in the
    recompute's own transaction, so a concurrent tick waits for the row and then finds the day taken, and a
    run that fails leaves the day unclaimed for its retry. Returns the snapshot rows written, None when the
    day's nightly run had already happened.
    """
    today = timezone.localdate()
    RecomputeRequest.objects.get_or_create(pk=1)
    with transaction.atomic():
        claimed = RecomputeRequest.objects.filter(Q(nightly_on__isnull=True) | Q(nightly_on__lt=today), pk=1).update(
            nightly_on=today
        )
        if not claimed:
            logger.info("Nightly adoption recompute of %s already ran: this tick does nothing.", today)
            return None
        return adoption_recompute_run()


def _verified(as_of: datetime.date | None) -> Q:
    """The village has a verified report (by `as_of`, for a past date)."""
    verified = Q(rollout__last_verified_on__isnull=False)
    if as_of is not None:
        verified &= Q(rollout__last_verified_on__lte=as_of)
    return verified


def _counted(*, as_of: datetime.date | None, stale_before: datetime.date) -> dict[str, Q]:
    """Each counted figure of a snapshot: the condition an active village meets to be counted in it.

    Both ways of writing the snapshots count with these conditions, so they cannot drift apart.
    """
    desa = Q(kind__in=DESA_KINDS)
    return {
        "desa": desa,
        "kelurahan": ~desa,
        "adopted_units": adopted(prefix="rollout__", as_of=as_of),
        "adopted_desa": adopted(prefix="rollout__", as_of=as_of) & desa,
        "pillar1_live": Q(rollout__pillar1=PillarStatus.LIVE),
        "pillar2_live": Q(rollout__pillar2=PillarStatus.LIVE),
        "pillar3_live": Q(rollout__pillar3=PillarStatus.LIVE),
        "blocked_no_signal": Q(rollout__blocker=Blocker.NO_SIGNAL) & ~adopted(prefix="rollout__"),
        "stale_units": ~_verified(as_of) | Q(rollout__last_verified_on__lt=stale_before),
    }


def _level_rows(group: dict[str, str], *, as_of: datetime.date | None, stale_before: datetime.date) -> list[dict]:
    """One GROUP BY over the active villages (left-joined to their status) per level."""
    return list(
        Village.objects.filter(is_active=True)
        .values(**group)
        .annotate(
            units=Count("pk"),
            **{
                name: Count("pk", filter=condition)
                for name, condition in _counted(as_of=as_of, stale_before=stale_before).items()
            },
            latest_verified_on=Max("rollout__last_verified_on", filter=_verified(as_of)),
        )
        .order_by()
    )


LEVEL_GROUPS = {
    SnapshotLevel.PROVINCE: {"unit_code": F("regency__province__code"), "unit_name": F("regency__province__name")},
    SnapshotLevel.REGENCY: {
        "unit_code": F("regency__code"),
        "unit_name": F("regency__name"),
        "unit_parent": F("regency__province__code"),
    },
    SnapshotLevel.DISTRICT: {
        "unit_code": F("district__code"),
        "unit_name": F("district__name"),
        "unit_parent": F("regency__code"),
    },
}
AWAITING_PATHS = {
    SnapshotLevel.PROVINCE: "village__regency__province__code",
    SnapshotLevel.REGENCY: "village__regency__code",
    SnapshotLevel.DISTRICT: "village__district__code",
}
SNAPSHOT_FIGURES = (
    "name",
    "parent_code",
    "units",
    "desa",
    "kelurahan",
    "adopted_units",
    "adopted_desa",
    "pillar1_live",
    "pillar2_live",
    "pillar3_live",
    "blocked_no_signal",
    "awaiting_verification",
    "stale_units",
    "latest_verified_on",
    "definition_version",
    "computed_at",
)


def _snapshots_write_levels(
    *, date: datetime.date, as_of: datetime.date | None, stale_before: datetime.date, now: datetime.datetime
) -> int:
    """The portable way (SQLite): one GROUP BY per level, the rows built here and upserted in batches."""
    snapshots = []
    for level, group in LEVEL_GROUPS.items():
        awaiting = dict(
            ProgressReport.objects.filter(status=ReportStatus.AWAITING, village__is_active=True)
            .values_list(AWAITING_PATHS[level])
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in _level_rows(group, as_of=as_of, stale_before=stale_before):
            code = row.pop("unit_code")
            snapshots.append(
                AdoptionSnapshot(
                    date=date,
                    level=level,
                    code=code,
                    name=row.pop("unit_name"),
                    parent_code=row.pop("unit_parent", ""),
                    awaiting_verification=awaiting.get(code, 0),
                    definition_version=ADOPTION_DEFINITION_VERSION,
                    computed_at=now,
                    **row,
                )
            )
    snapshots.sort(key=lambda snapshot: (snapshot.level, snapshot.code))
    AdoptionSnapshot.objects.bulk_create(
        snapshots,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["date", "level", "code"],
        update_fields=list(SNAPSHOT_FIGURES),
    )
    return len(snapshots)


# The per-village rows (`villages`, `awaiting`) are SQL the ORM writes from the conditions above;
# only the ROLLUP over them and the upsert, which the ORM cannot say, are written here.
# GROUPING(...) tells the levels apart: 0 a district, 1 a regency, 3 a province (7, the grand total, is left out).
# Rows are written in (level, code) order, as the level-by-level way writes them (same lock order, new ids alike).
ROLLUP_UPSERT_SQL = """
WITH village AS ({villages}),
awaiting AS ({awaiting}),
figures AS (
    SELECT v.province_code, v.regency_code, v.district_code,
        GROUPING(v.province_code, v.regency_code, v.district_code) AS grp,
        count(*) AS units,
        {sums},
        coalesce(sum(a.n), 0) AS awaiting_verification,
        max(v.verified_on) AS latest_verified_on
    FROM village v
    LEFT JOIN awaiting a ON a.village_id = v.id
    GROUP BY ROLLUP (v.province_code, v.regency_code, v.district_code)
)
INSERT INTO rollout_adoptionsnapshot (
    date, level, code, name, parent_code, units, {counted},
    awaiting_verification, latest_verified_on, definition_version, computed_at)
SELECT %s,
    CASE f.grp WHEN 0 THEN %s WHEN 1 THEN %s ELSE %s END AS level,
    CASE f.grp WHEN 0 THEN f.district_code WHEN 1 THEN f.regency_code ELSE f.province_code END AS code,
    CASE f.grp WHEN 0 THEN d.name WHEN 1 THEN r.name ELSE p.name END,
    CASE f.grp WHEN 0 THEN f.regency_code WHEN 1 THEN f.province_code ELSE '' END,
    f.units, {figures},
    f.awaiting_verification, f.latest_verified_on, %s, %s
FROM figures f
JOIN villages_province p ON p.code = f.province_code
LEFT JOIN villages_regency r ON r.code = f.regency_code
LEFT JOIN villages_district d ON d.code = f.district_code
WHERE f.grp IN (0, 1, 3)
ORDER BY level, code
ON CONFLICT (date, level, code) DO UPDATE SET {updates}
"""


def _snapshots_write_rollup(
    *, date: datetime.date, as_of: datetime.date | None, stale_before: datetime.date, now: datetime.datetime
) -> int:
    """PostgreSQL: every level in one INSERT ... SELECT ... GROUP BY ROLLUP, nothing held in Python.

    Returns the number of rows written (inserted or updated).
    """
    counted = _counted(as_of=as_of, stale_before=stale_before)
    villages = (
        Village.objects.filter(is_active=True)
        .annotate(
            province_code=F("regency__province__code"),
            regency_code=F("regency__code"),
            district_code=F("district__code"),
            # 1 when the village counts in the figure: the ROLLUP sums them.
            **{name: Case(When(condition, then=1), default=0) for name, condition in counted.items()},
            verified_on=Case(When(_verified(as_of), then=F("rollout__last_verified_on"))),
        )
        .values("id", "code", "province_code", "regency_code", "district_code", *counted, "verified_on")
        .order_by()
    )
    # Joined to the active villages only, so an inactive village's reports drop out there.
    awaiting = (
        ProgressReport.objects.filter(status=ReportStatus.AWAITING)
        .values("village_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    villages_sql, villages_params = villages.query.sql_with_params()
    awaiting_sql, awaiting_params = awaiting.query.sql_with_params()
    sql = ROLLUP_UPSERT_SQL.format(
        villages=villages_sql,
        awaiting=awaiting_sql,
        sums=", ".join(f"sum(v.{name}) AS {name}" for name in counted),
        counted=", ".join(counted),
        figures=", ".join(f"f.{name}" for name in counted),
        updates=", ".join(f"{name} = EXCLUDED.{name}" for name in SNAPSHOT_FIGURES),
    )
    params = [
        *villages_params,
        *awaiting_params,
        date,
        SnapshotLevel.DISTRICT.value,
        SnapshotLevel.REGENCY.value,
        SnapshotLevel.PROVINCE.value,
        ADOPTION_DEFINITION_VERSION,
        now,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@transaction.atomic
def adoption_recompute(*, on_date: datetime.date | None = None) -> int:
    """Write the AdoptionSnapshot rows of `on_date` (default today) for every province, regency and district.

    Upsert: running twice a day leaves one row per unit per day. For a past
    date, adoption counts the villages whose pillar 1 went live by then (the
    other figures are today's). Runs in one transaction under a lock, so
    overlapping runs never interleave and a killed run leaves the previous rows.
    On PostgreSQL one statement writes every level; SQLite writes them level by level.
    Returns the number of snapshot rows written.
    """
    today = timezone.localdate()
    as_of = on_date if on_date is not None and on_date < today else None
    date = on_date or today
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('rollout.adoption_recompute'))")
        write = _snapshots_write_rollup
    else:
        write = _snapshots_write_levels
    now = timezone.now()
    written = write(date=date, as_of=as_of, stale_before=date - datetime.timedelta(days=STALE_AFTER_DAYS), now=now)
    RecomputeRequest.objects.filter(pk=1).update(last_finished_at=now)
    return written
