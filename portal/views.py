"""The pages that read across apps: the dashboard (province, or an officer's regency, at a glance,
drilling down to a village; its whole lists and exports) and the audit trail.

Figures come from the latest AdoptionSnapshot rows and aggregate queries, so a
page runs a constant number of queries however many villages it covers. The overview
(`/` and a regency) runs nine, ten for an officer (the own reports): session, user (with
the regency), the unit with its allocation and the demo flag, the latest snapshots with
the target, the snapshot history (forecasts and trend), the ledger with the
paid-but-not-live counts, and the three lists, each read with the length of the whole list
(`selectors.excerpt`): the headline's awaiting count is the awaiting list's.
"""

import json
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import FilteredRelation, OuterRef, Q, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_safe

from accounts.access import Capability, has_capability, regency_scope, require_capability, require_in_scope
from grants import selectors as grant_selectors
from grants.models import Allocation
from portal import selectors as portal_selectors
from portal.context_processors import demo_data_flag
from portal.forms import AuditFilterForm
from rollout import selectors
from rollout.models import ReportStatus, SnapshotLevel
from rollout.services import adopted
from smartvillage.exports import EXPORT_FORMATS, export_response
from villages.models import District, Province, Regency

BOUNDARIES_FILE = Path(__file__).resolve().parent.parent / "villages" / "data" / "lampung_regencies.geojson"
# The overview's lists show this many rows and say how many there are in all ("15 of 60").
LIST_LIMIT = 15
LIST_PAGE_SIZE = 100
AUDIT_PAGE_SIZE = 50


@cache
def _boundaries() -> dict:
    return json.loads(BOUNDARIES_FILE.read_text(encoding="utf-8"))


def _map_features(rows) -> dict:
    """The regency boundaries of the shown rows, each carrying its adoption figures."""
    figures = {row.code: row for row in rows}
    features = []
    for feature in _boundaries()["features"]:
        row = figures.get(feature["properties"]["code"])
        if row is None:
            continue
        properties = {
            **feature["properties"],
            "adopted_desa_pct": row.adopted_desa_pct,
            "shade_pct": row.shown_pct,
            "adopted_pct": row.adopted_pct,
            "units": row.units,
            "adopted_units": row.adopted_units,
            "blocked": row.blocked_no_signal,
        }
        features.append({**feature, "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def _target(headline) -> int:
    return headline.target_pct if headline else selectors.DEFAULT_TARGET_PCT


def _allocation(province_code: str) -> Allocation | None:
    return Allocation.objects.filter(province_id=province_code).order_by("-fiscal_year").first()


def _with_allocation(queryset, *, relation: str, province_field: str):
    """`queryset` (provinces or regencies) with the province's allocation of the latest fiscal year
    (as `_allocation`) joined in the same query through `relation` (read it with `_joined_allocation`),
    and `demo_data`, the flag of base.html's demo label."""
    latest = Allocation.objects.filter(province=OuterRef(province_field)).order_by("-fiscal_year").values("pk")[:1]
    return queryset.annotate(
        latest_allocation=FilteredRelation(relation, condition=Q(**{f"{relation}__pk": Subquery(latest)})),
        demo_data=demo_data_flag(),
    ).select_related("latest_allocation")


def _joined_allocation(unit) -> Allocation | None:
    # Django sets a FilteredRelation's select_related attribute only where the join found a row.
    return getattr(unit, "latest_allocation", None)


def _trend(histories: dict[str, list], codes: list[str]) -> dict:
    """Chart data: the adoption % shown (AdoptionSnapshot.shown_pct) per snapshot for each code."""
    series = {}
    for code in codes:
        history = histories.get(code, [])
        points = [(row.date, row.shown_pct) for row in history]
        forecast = selectors.forecast_completion(points=points)
        series[code] = {
            "name": history[-1].name if history else code,
            "points": [[day.isoformat(), value] for day, value in points],
            "forecast": {"status": forecast.status, "date": forecast.date.isoformat() if forecast.date else None},
        }
    return series


def _ledger_by_code(user, allocation, level: str, regency_code: str | None = None) -> dict:
    """The ledger rows by unit code, each counting its paid-but-not-live grants in `counts`."""
    if allocation is None:
        return {}
    rows = grant_selectors.ledger(
        allocation=allocation,
        user=user,
        level=level,
        regency_code=regency_code,
        counts={"paid_not_live": selectors.paid_not_live_condition()},
    )
    return {row.code: row for row in rows}


# --- the lists under the overview --------------------------------------------------------------


def _lagging(user):
    return selectors.village_rollout_list(user=user).exclude(adopted(prefix="rollout__")).order_by("regency_id", "code")


def _awaiting(user):
    return selectors.report_list(user=user).filter(status=ReportStatus.AWAITING)


def _my_reports(user):
    return selectors.report_list(user=user).filter(submitted_by=user)


# name -> (the whole list visible to a user, the path from a row to its regency code)
LISTS = {
    "lagging": (_lagging, "regency_id"),
    "paid-not-live": (lambda user: selectors.paid_not_live(user=user), "village__regency_id"),
    "awaiting": (_awaiting, "village__regency_id"),
    "my-reports": (_my_reports, "village__regency_id"),
}


def _whole_list(user, name: str, *, province: str | None = None, regency: str | None = None):
    """The whole of a list the overview shows the first LIST_LIMIT rows of, within a province or a regency:
    the overview's excerpt and its "show all" page read this same query."""
    rows, regency_path = LISTS[name]
    queryset = rows(user)
    if regency:
        queryset = queryset.filter(**{regency_path: regency})
    if province:
        queryset = queryset.filter(**{regency_path.removesuffix("_id") + "__province_id": province})
    return queryset


def _lists(user, *, province: str | None = None, regency: str | None = None, with_own: bool = False) -> dict:
    """The overview's lists: each an Excerpt (its first rows and the length of the whole list), and the
    query string of their whole-list pages."""
    names = ["lagging", "paid-not-live", "awaiting", *(["my-reports"] if with_own else [])]
    lists = {
        name.replace("-", "_"): selectors.excerpt(
            queryset=_whole_list(user, name, province=province, regency=regency), limit=LIST_LIMIT
        )
        for name in names
    }
    return {**lists, "list_query": f"regency={regency}" if regency else f"province={province}"}


def _table(rows, forecasts: dict, ledger: dict) -> list[dict]:
    """One entry per snapshot row with its forecast, ledger row and paid-but-not-live count."""
    table = []
    for row in rows:
        ledger_row = ledger.get(row.code)
        table.append(
            {
                "row": row,
                "forecast": forecasts.get(row.code),
                "ledger": ledger_row,
                "paid_not_live": ledger_row.counts["paid_not_live"] if ledger_row else 0,
            }
        )
    return table


def _money(money_of, totals) -> dict:
    """Headline money (grants.selectors.MoneySummary: disbursed, returned, net, remaining) of `totals`."""
    if totals is None:
        return {"money": None}
    return {"money": money_of(totals=totals)}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Province roles: the province. Regency officers: their own regency, same layout."""
    scope = regency_scope(request.user)
    if scope is not None:
        return _regency_page(request, scope, home=True)
    provinces = Province.objects.filter(is_active=True).order_by("code")
    province = _with_allocation(provinces, relation="allocations", province_field="code").first()
    if province is None:
        return render(request, "dashboard/empty.html")
    allocation = _joined_allocation(province)
    headlines, rows = selectors.latest_snapshot_groups(
        user=request.user,
        groups=[(SnapshotLevel.PROVINCE, None), (SnapshotLevel.REGENCY, province.code)],
        with_target=True,
    )
    headline = (headlines or [None])[0]
    chosen = request.GET.get("regency") or (rows[0].code if rows else None)
    trend_codes = [province.code, *([chosen] if chosen else [])]
    histories = selectors.snapshot_histories(
        user=request.user, level=SnapshotLevel.REGENCY, parent=province.code, codes=trend_codes
    )
    ledger = _ledger_by_code(request.user, allocation, "regency")
    # The allocation's totals are the sum of its regency rows (every grant is in one regency).
    totals = (
        grant_selectors.ledger_total(rows=list(ledger.values()), code=allocation.province_id, name=province.name)
        if allocation
        else None
    )
    context = {
        "scope_name": province.name,
        "headline": headline,
        "table": _table(rows, selectors.forecasts_of(histories=histories), ledger),
        "row_level": "regency",
        "export_table": "regencies",
        "regency_choices": [(row.code, row.name) for row in rows],
        "allocation": allocation,
        **_money(
            lambda totals: grant_selectors.MoneySummary.of_allocation(totals=totals, allocation=allocation), totals
        ),
        "map": _map_features(rows),
        "trend": _trend(histories, trend_codes),
        "chosen": chosen,
        "target": _target(headline),
        **_lists(request.user, province=province.code),
        "can_verify": has_capability(request.user, Capability.VERIFY_REPORTS),
        "export_query": "",
        "demo_data": province.demo_data,
    }
    return render(request, "dashboard/overview.html", context)


def _regency_page(request: HttpRequest, code: str, *, home: bool = False) -> HttpResponse:
    regencies = _with_allocation(
        Regency.objects.select_related("province"), relation="province__allocations", province_field="province_id"
    )
    regency = get_object_or_404(regencies, code=code)
    require_in_scope(request.user, regency_code=regency.code)
    allocation = _joined_allocation(regency)
    regency_rows, rows = selectors.latest_snapshot_groups(
        user=request.user,
        groups=[(SnapshotLevel.REGENCY, regency.province_id), (SnapshotLevel.DISTRICT, regency.code)],
        with_target=True,
    )
    headline = next((row for row in regency_rows if row.code == regency.code), None)
    histories = selectors.snapshot_histories(
        user=request.user, level=SnapshotLevel.DISTRICT, parent=regency.code, codes=[regency.code]
    )
    forecasts = selectors.forecasts_of(histories=histories)
    ledger = _ledger_by_code(request.user, allocation, "district", regency.code)
    # The regency's totals are the sum of its district rows (zero without a grant in the regency).
    totals = (
        grant_selectors.ledger_total(rows=list(ledger.values()), code=regency.code, name=regency.name)
        if allocation
        else None
    )
    can_report = has_capability(request.user, Capability.SUBMIT_REPORTS)
    context = {
        "regency": regency,
        "scope_name": regency.name,
        "home": home,
        "headline": headline,
        "table": _table(rows, forecasts, ledger),
        "row_level": "district",
        "export_table": "districts",
        "regency_forecast": forecasts.get(regency.code),
        "allocation": allocation,
        **_money(grant_selectors.MoneySummary.of_regency, totals),
        "map": _map_features([headline] if headline else []),
        "trend": _trend(histories, [regency.code]),
        "chosen": regency.code,
        "target": _target(headline),
        **_lists(request.user, regency=regency.code, with_own=can_report),
        "can_verify": has_capability(request.user, Capability.VERIFY_REPORTS),
        "can_report": can_report,
        "export_query": f"regency={regency.code}",
        "demo_data": regency.demo_data,
    }
    return render(request, "dashboard/overview.html", context)


@login_required
def regency(request: HttpRequest, code: str) -> HttpResponse:
    return _regency_page(request, code)


LIST_TITLES = {
    "lagging": _lazy("Villages not adopted yet"),
    "paid-not-live": _lazy("Paid, not live"),
    "awaiting": _lazy("Reports awaiting verification"),
    "my-reports": _lazy("My reports"),
}
# The export of each list (dashboard:export), where it has one.
LIST_EXPORTS = {"lagging": "lagging", "paid-not-live": "paid-not-live", "awaiting": "reports"}


@login_required
def whole_list(request: HttpRequest, name: str) -> HttpResponse:
    """All the rows of an overview list (the overview shows the first LIST_LIMIT), page by page."""
    if name not in LISTS:
        raise Http404
    regency_code = request.GET.get("regency") or None
    province_code = None if regency_code else request.GET.get("province") or None
    if regency_code:
        require_in_scope(request.user, regency_code=regency_code)
    rows = _whole_list(request.user, name, province=province_code, regency=regency_code)
    page = Paginator(rows, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    query = f"regency={regency_code}" if regency_code else f"province={province_code}" if province_code else ""
    context = {
        "name": name,
        "title": LIST_TITLES[name],
        "page": page,
        "rows": page.object_list,
        "query": query,
        "export_table": LIST_EXPORTS.get(name),
        "export_query": f"regency={regency_code}" if regency_code else "",
        "can_verify": has_capability(request.user, Capability.VERIFY_REPORTS),
    }
    return render(request, "dashboard/list.html", context)


@login_required
def district(request: HttpRequest, code: str) -> HttpResponse:
    district = get_object_or_404(District.objects.select_related("regency"), code=code)
    require_in_scope(request.user, regency_code=district.regency_id)
    villages = selectors.village_rollout_list(user=request.user).filter(district=district)
    allocation = _allocation(district.regency.province_id)
    grants = {}
    if allocation is not None:
        grants = {
            grant.village_id: grant
            for grant in grant_selectors.grant_list(user=request.user, allocation=allocation).filter(
                village__district=district
            )
        }
    rows = [(village, grants.get(village.code)) for village in villages]
    context = {
        "district": district,
        "rows": rows,
        "can_report": has_capability(request.user, Capability.SUBMIT_REPORTS),
        "export_query": f"district={district.code}",
    }
    return render(request, "dashboard/district.html", context)


@login_required
def village(request: HttpRequest, code: str) -> HttpResponse:
    village = get_object_or_404(selectors.village_rollout_list(user=request.user), code=code)
    reports = selectors.report_list(user=request.user).filter(village=village)
    grants = (
        grant_selectors.grant_list(user=request.user)
        .filter(village=village)
        .prefetch_related("events__actor")
        .order_by("-allocation__fiscal_year")
    )
    context = {
        "village": village,
        "status": getattr(village, "rollout", None),
        "reports": reports,
        "grants": grants,
        "can_report": has_capability(request.user, Capability.SUBMIT_REPORTS),
    }
    return render(request, "dashboard/village.html", context)


# --- exports ------------------------------------------------------------------------------------


def _snapshot_money(request, level: str, parent: str | None, rows) -> dict:
    """The ledger rows (with paid-but-not-live counts) of the snapshot rows, from the latest allocation of
    each province among them: the money columns of the overview's table, for its export."""
    ledger = {}
    for province in sorted({row.code.split(".")[0] for row in rows}):
        ledger.update(_ledger_by_code(request.user, _allocation(province), level, parent))
    return ledger


def _snapshot_table(request, level: str, parent: str | None):
    rows = selectors.latest_snapshots(user=request.user, level=level, parent=parent)
    ledger = _snapshot_money(request, level, parent, rows)
    headers = [
        _("Code"),
        _("Region"),
        _("Units"),
        _("Desa"),
        _("Kelurahan"),
        _("Adopted units"),
        _("Adopted desa"),
        _("Adopted desa (%)"),
        _("Adopted units (%)"),
        _("Pillar 1 live"),
        _("Pillar 2 live"),
        _("Pillar 3 live"),
        _("Blocked by no signal"),
        _("Awaiting verification"),
        _("Snapshot date"),
        # The money columns have the grant ledger export's names and figures.
        _("Disbursed (Rp)"),
        _("Returned (Rp)"),
        _("Net disbursed (Rp)"),
        _("Paid, not live"),
    ]
    body = [
        [
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
            *_money_cells(ledger.get(row.code)),
        ]
        for row in rows
    ]
    return headers, body


def _money_cells(ledger_row) -> list[int]:
    if ledger_row is None:
        return [0, 0, 0, 0]
    return [ledger_row.disbursed, ledger_row.returned, ledger_row.net_disbursed, ledger_row.counts["paid_not_live"]]


def _village_table(villages):
    headers = [
        _("Code"),
        _("Village"),
        _("Kind"),
        _("District"),
        _("Regency/city"),
        _("Adopted"),
        _("Pillar 1"),
        _("Pillar 2"),
        _("Pillar 3"),
        _("Signal"),
        _("Blocker"),
        _("Blocker note"),
    ]
    body = []
    for village in villages:
        status = getattr(village, "rollout", None)
        body.append(
            [
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
        )
    return headers, body


@login_required
def export(request: HttpRequest, table: str) -> HttpResponse:
    file_format = request.GET.get("file", "csv")
    if file_format not in EXPORT_FORMATS:
        raise Http404
    regency_code = request.GET.get("regency") or None
    district_code = request.GET.get("district") or None
    if regency_code:
        require_in_scope(request.user, regency_code=regency_code)
    if table == "regencies":
        headers, body = _snapshot_table(request, SnapshotLevel.REGENCY, None)
    elif table == "districts":
        headers, body = _snapshot_table(request, SnapshotLevel.DISTRICT, regency_code)
    elif table in ("villages", "lagging"):
        if table == "lagging":
            villages = _whole_list(request.user, "lagging", regency=regency_code)
        else:
            villages = selectors.village_rollout_list(user=request.user)
            if regency_code:
                villages = villages.filter(regency_id=regency_code)
        if district_code:
            villages = villages.filter(district_id=district_code)
        headers, body = _village_table(villages)
    elif table == "paid-not-live":
        grants = _whole_list(request.user, "paid-not-live", regency=regency_code)
        headers = [_("Village code"), _("Village"), _("District"), _("Regency/city"), _("Amount (Rp)"), _("Status")]
        body = [
            [
                g.village_id,
                g.village.name,
                g.village.district.name,
                g.village.regency.name,
                g.amount,
                g.get_status_display(),
            ]
            for g in grants
        ]
    elif table == "reports":
        reports = selectors.report_list(user=request.user)
        status = request.GET.get("status") or ReportStatus.AWAITING
        reports = reports.filter(status=status)
        if regency_code:
            reports = reports.filter(village__regency_id=regency_code)
        headers = [
            _("Submitted"),
            _("Village code"),
            _("Village"),
            _("Regency/city"),
            _("Pillar 1"),
            _("Pillar 2"),
            _("Pillar 3"),
            _("Signal"),
            _("Blocker"),
            _("By"),
            _("Status"),
            _("rejection reason"),
        ]
        body = [
            [
                timezone.localtime(r.submitted_at).strftime("%Y-%m-%d %H:%M"),
                r.village_id,
                r.village.name,
                r.village.regency.name,
                r.get_pillar1_display(),
                r.get_pillar2_display(),
                r.get_pillar3_display(),
                r.get_signal_display(),
                r.get_blocker_display(),
                r.submitted_by.username,
                r.get_outcome_display(),
                r.rejection_reason,
            ]
            for r in reports
        ]
    else:
        raise Http404
    return export_response(filename=f"{table}", headers=headers, rows=body, file_format=file_format)


# --- the audit trail (auditors and province administrators; read only) ----------------------------


@login_required
@require_safe
def audit(request: HttpRequest) -> HttpResponse:
    require_capability(request.user, Capability.VIEW_AUDIT)
    form = AuditFilterForm(request.GET)
    query = form.query()
    page = Paginator(portal_selectors.audit_trail(query=query), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    params = {name: value for name, value in request.GET.items() if name != "page" and value}
    context = {
        "form": form,
        "trail": query.trail,
        "page": page,
        "rows": list(portal_selectors.audit_rows(trail=query.trail, rows=page)),
        "query": urlencode(params),
    }
    return render(request, "portal/audit.html", context)


@login_required
@require_safe
def audit_export(request: HttpRequest) -> HttpResponse:
    require_capability(request.user, Capability.VIEW_AUDIT)
    file_format = request.GET.get("format", "csv")
    if file_format not in EXPORT_FORMATS:
        raise Http404
    query = AuditFilterForm(request.GET).query()
    return export_response(
        filename=f"audit-{query.trail}",
        headers=[_("Time"), _("By"), _("Action"), _("Object"), _("Details")],
        rows=portal_selectors.audit_rows(trail=query.trail, rows=portal_selectors.audit_trail(query=query).iterator()),
        file_format=file_format,
    )
