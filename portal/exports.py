"""The dashboard's exports (`/dashboard/export/<table>/`), declared as a table: each export names its rows
(read within the user's scope and the request's filters), its headers and the cells of a row. A new export
is a row of EXPORTS."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts.access import require_in_scope
from grants import selectors as grant_selectors
from portal import selectors
from rollout import overview
from rollout import selectors as rollout_selectors
from rollout.models import ReportStatus, SnapshotLevel
from smartvillage.exports import EXPORT_FORMATS, export_response


@dataclass(frozen=True)
class Filters:
    """What an export may be narrowed to, from its query string (the regency already checked in scope)."""

    request: HttpRequest
    regency: str | None
    district: str | None


@dataclass(frozen=True)
class Export:
    rows: Callable[[Filters], Iterable]
    headers: Sequence[str]
    cells: Callable[[object], list]


# --- snapshot tables (regencies, districts) with the ledger's money columns -----------------------


def _snapshot_rows(level: str, *, by_regency: bool) -> Callable[[Filters], list]:
    """The latest snapshot rows of `level` (the districts of the filtered regency), each with its ledger row
    (paid-but-not-live counted) from the latest allocation of its province: the overview table's figures."""

    def rows(filters: Filters) -> list:
        user, parent = filters.request.user, filters.regency if by_regency else None
        snapshots = rollout_selectors.latest_snapshots(user=user, level=level, parent=parent)
        ledger = {}
        for province in sorted({row.code.split(".")[0] for row in snapshots}):
            allocation = grant_selectors.latest_allocation(province_code=province)
            ledger.update(overview.ledger_by_code(user=user, allocation=allocation, level=level, regency_code=parent))
        return [(row, ledger.get(row.code)) for row in snapshots]

    return rows


SNAPSHOT_HEADERS = (
    _lazy("Code"),
    _lazy("Region"),
    _lazy("Units"),
    _lazy("Desa"),
    _lazy("Kelurahan"),
    _lazy("Adopted units"),
    _lazy("Adopted desa"),
    _lazy("Adopted desa (%)"),
    _lazy("Adopted units (%)"),
    _lazy("Pillar 1 live"),
    _lazy("Pillar 2 live"),
    _lazy("Pillar 3 live"),
    _lazy("Blocked by no signal"),
    _lazy("Awaiting verification"),
    _lazy("Snapshot date"),
    # The money columns have the grant ledger export's names and figures.
    _lazy("Disbursed (Rp)"),
    _lazy("Returned (Rp)"),
    _lazy("Net disbursed (Rp)"),
    _lazy("Paid, not live"),
)


def _snapshot_cells(entry) -> list:
    row, ledger_row = entry
    money = (
        [ledger_row.disbursed, ledger_row.returned, ledger_row.net_disbursed, ledger_row.counts["paid_not_live"]]
        if ledger_row is not None
        else [0, 0, 0, 0]
    )
    return [
        row.code,
        row.name,
        row.units,
        row.desa,
        row.kelurahan,
        row.adopted_units,
        row.adopted_desa,
        row.adopted_desa_pct,
        row.adopted_pct,
        row.pillar1_live,
        row.pillar2_live,
        row.pillar3_live,
        row.blocked_no_signal,
        row.awaiting_verification,
        row.date.isoformat(),
        *money,
    ]


# --- villages ---------------------------------------------------------------------------------------


def _villages(filters: Filters):
    villages = rollout_selectors.village_rollout_list(user=filters.request.user)
    if filters.regency:
        villages = villages.filter(regency__code=filters.regency)
    return _in_district(villages, filters)


def _lagging(filters: Filters):
    villages = selectors.whole_list(user=filters.request.user, name="lagging", regency=filters.regency)
    return _in_district(villages, filters)


def _in_district(villages, filters: Filters):
    return villages.filter(district__code=filters.district) if filters.district else villages


VILLAGE_HEADERS = (
    _lazy("Code"),
    _lazy("Village"),
    _lazy("Kind"),
    _lazy("District"),
    _lazy("Regency/city"),
    _lazy("Adopted"),
    _lazy("Pillar 1"),
    _lazy("Pillar 2"),
    _lazy("Pillar 3"),
    _lazy("Signal"),
    _lazy("Blocker"),
    _lazy("Blocker note"),
)


def _village_cells(village) -> list:
    status = getattr(village, "rollout", None)
    return [
        village.code,
        village.name,
        village.get_kind_display(),
        village.district.name,
        village.regency.name,
        _("yes") if village.is_adopted else _("no"),
        status.get_pillar1_display() if status else "",
        status.get_pillar2_display() if status else "",
        status.get_pillar3_display() if status else "",
        status.get_signal_display() if status else "",
        status.get_blocker_display() if status else "",
        status.blocker_note if status else "",
    ]


# --- grants paid to villages not live, reports ------------------------------------------------------


def _paid_not_live(filters: Filters):
    return selectors.whole_list(user=filters.request.user, name="paid-not-live", regency=filters.regency)


def _paid_not_live_cells(grant) -> list:
    village = grant.village
    return [
        village.code,
        village.name,
        village.district.name,
        village.regency.name,
        grant.amount,
        grant.get_status_display(),
    ]


def _reports(filters: Filters):
    status = filters.request.GET.get("status") or ReportStatus.AWAITING
    reports = rollout_selectors.report_list(user=filters.request.user).filter(status=status)
    if filters.regency:
        reports = reports.filter(village__regency__code=filters.regency)
    return reports


REPORT_HEADERS = (
    _lazy("Submitted"),
    _lazy("Village code"),
    _lazy("Village"),
    _lazy("Regency/city"),
    _lazy("Pillar 1"),
    _lazy("Pillar 2"),
    _lazy("Pillar 3"),
    _lazy("Signal"),
    _lazy("Blocker"),
    _lazy("By"),
    _lazy("Status"),
    _lazy("rejection reason"),
)


def _report_cells(report) -> list:
    return [
        timezone.localtime(report.submitted_at).strftime("%Y-%m-%d %H:%M"),
        report.village.code,
        report.village.name,
        report.village.regency.name,
        report.get_pillar1_display(),
        report.get_pillar2_display(),
        report.get_pillar3_display(),
        report.get_signal_display(),
        report.get_blocker_display(),
        report.submitted_by.username,
        report.get_outcome_display(),
        report.rejection_reason,
    ]


# name -> the export; the file is named after it.
EXPORTS = {
    "regencies": Export(_snapshot_rows(SnapshotLevel.REGENCY, by_regency=False), SNAPSHOT_HEADERS, _snapshot_cells),
    "districts": Export(_snapshot_rows(SnapshotLevel.DISTRICT, by_regency=True), SNAPSHOT_HEADERS, _snapshot_cells),
    "villages": Export(_villages, VILLAGE_HEADERS, _village_cells),
    "lagging": Export(_lagging, VILLAGE_HEADERS, _village_cells),
    "paid-not-live": Export(
        _paid_not_live,
        (
            _lazy("Village code"),
            _lazy("Village"),
            _lazy("District"),
            _lazy("Regency/city"),
            _lazy("Amount (Rp)"),
            _lazy("Status"),
        ),
        _paid_not_live_cells,
    ),
    "reports": Export(_reports, REPORT_HEADERS, _report_cells),
}


@login_required
def export(request: HttpRequest, table: str) -> HttpResponse:
    file_format = request.GET.get("file", "csv")
    if file_format not in EXPORT_FORMATS:
        raise Http404
    filters = Filters(
        request=request, regency=request.GET.get("regency") or None, district=request.GET.get("district") or None
    )
    if filters.regency:
        require_in_scope(request.user, regency_code=filters.regency)
    if table not in EXPORTS:
        raise Http404
    chosen = EXPORTS[table]
    return export_response(
        filename=table,
        headers=[str(header) for header in chosen.headers],
        rows=(chosen.cells(row) for row in chosen.rows(filters)),
        file_format=file_format,
    )
