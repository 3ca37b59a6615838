"""The pages that read across apps: the dashboard (province, or an officer's regency, at a glance, drilling
down to a village; its whole lists) and the audit trail. The dashboard's exports are in portal/exports.py.

Figures come from the latest AdoptionSnapshot rows and aggregate queries, so a
page runs a constant number of queries however many villages it covers. The overview
(`/` and a regency) runs nine, ten for an officer (the own reports): session, user (with
the regency), the unit with its allocation and the demo flag, the latest snapshots with
the target, the snapshot history (forecasts and trend), the ledger with the
paid-but-not-live counts, and the three lists, each read with the length of the whole list
(`rollout.selectors.excerpt`): the headline's awaiting count is the awaiting list's.
"""

import json
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_safe

from accounts.access import Capability, has_capability, regency_scope, require_capability, require_in_scope
from grants import selectors as grant_selectors
from grants.selectors import MoneySummary
from portal import selectors
from portal.forms import AuditFilterForm
from rollout import selectors as rollout_selectors
from rollout.models import SnapshotLevel
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
    return headline.target_pct if headline else rollout_selectors.DEFAULT_TARGET_PCT


def _trend(histories: dict[str, list], codes: list[str]) -> dict:
    """Chart data: the adoption % shown (AdoptionSnapshot.shown_pct) per snapshot for each code."""
    series = {}
    for code in codes:
        history = histories.get(code, [])
        points = [(row.date, row.shown_pct) for row in history]
        forecast = rollout_selectors.forecast_completion(points=points)
        series[code] = {
            "name": history[-1].name if history else code,
            "points": [[day.isoformat(), value] for day, value in points],
            "forecast": {"status": forecast.status, "date": forecast.date.isoformat() if forecast.date else None},
        }
    return series


def _lists(user, *, province: str | None = None, regency: str | None = None, with_own: bool = False) -> dict:
    """The overview's lists: each an Excerpt (its first rows and the length of the whole list), and the
    query string of their whole-list pages."""
    names = ["lagging", "paid-not-live", "awaiting", *(["my-reports"] if with_own else [])]
    lists = {
        name.replace("-", "_"): rollout_selectors.excerpt(
            queryset=selectors.whole_list(user=user, name=name, province=province, regency=regency), limit=LIST_LIMIT
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


def _overview(
    request: HttpRequest,
    *,
    unit: Province | Regency,
    regency: Regency | None,
    headline,
    rows: list,
    histories: dict,
    trend_codes: list[str],
    map_rows: list,
    **extra,
) -> HttpResponse:
    """The overview page of a province (`regency` None: its regencies' rows) or of a regency (its districts'):
    one context for both, `extra` adding what only one of them shows."""
    allocation = selectors.joined_allocation(unit=unit)
    ledger = selectors.ledger_by_code(
        user=request.user,
        allocation=allocation,
        level="district" if regency else "regency",
        regency_code=regency.code if regency else None,
    )
    money = None
    if allocation is not None:
        # The unit's totals are the sum of its rows (every grant is in one regency and one district).
        totals = grant_selectors.ledger_total(rows=list(ledger.values()), code=unit.code, name=unit.name)
        money = (
            MoneySummary.of_regency(totals=totals)
            if regency
            else MoneySummary.of_allocation(totals=totals, allocation=allocation)
        )
    forecasts = rollout_selectors.forecasts_of(histories=histories)
    can_report = regency is not None and has_capability(request.user, Capability.SUBMIT_REPORTS)
    context = {
        "regency": regency,
        "scope_name": unit.name,
        "headline": headline,
        "table": _table(rows, forecasts, ledger),
        "row_level": "district" if regency else "regency",
        "export_table": "districts" if regency else "regencies",
        "allocation": allocation,
        "money": money,
        "map": _map_features(map_rows),
        "trend": _trend(histories, trend_codes),
        "target": _target(headline),
        **_lists(
            request.user,
            province=None if regency else unit.code,
            regency=regency.code if regency else None,
            with_own=can_report,
        ),
        "can_verify": has_capability(request.user, Capability.VERIFY_REPORTS),
        "can_report": can_report,
        "export_query": f"regency={regency.code}" if regency else "",
        "demo_data": unit.demo_data,
        **extra,
    }
    if regency is not None:
        context["regency_forecast"] = forecasts.get(regency.code)
    return render(request, "dashboard/overview.html", context)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Province roles: the province. Regency officers: their own regency, same layout."""
    scope = regency_scope(request.user)
    if scope is not None:
        return _regency_page(request, scope, home=True)
    provinces = Province.objects.filter(is_active=True).order_by("code")
    province = selectors.with_latest_allocation(
        queryset=provinces, relation="allocations", province_field="code"
    ).first()
    if province is None:
        return render(request, "dashboard/empty.html")
    headlines, rows = rollout_selectors.latest_snapshot_groups(
        user=request.user,
        groups=[(SnapshotLevel.PROVINCE, None), (SnapshotLevel.REGENCY, province.code)],
        with_target=True,
    )
    chosen = request.GET.get("regency") or (rows[0].code if rows else None)
    trend_codes = [province.code, *([chosen] if chosen else [])]
    histories = rollout_selectors.snapshot_histories(
        user=request.user, level=SnapshotLevel.REGENCY, parent=province.code, codes=trend_codes
    )
    return _overview(
        request,
        unit=province,
        regency=None,
        headline=(headlines or [None])[0],
        rows=rows,
        histories=histories,
        trend_codes=trend_codes,
        map_rows=rows,
        chosen=chosen,
        regency_choices=[(row.code, row.name) for row in rows],
    )


def _regency_page(request: HttpRequest, code: str, *, home: bool = False) -> HttpResponse:
    regencies = selectors.with_latest_allocation(
        queryset=Regency.objects.select_related("province"),
        relation="province__allocations",
        province_field="province_id",
    )
    regency = get_object_or_404(regencies, code=code)
    require_in_scope(request.user, regency_code=regency.code)
    regency_rows, rows = rollout_selectors.latest_snapshot_groups(
        user=request.user,
        groups=[(SnapshotLevel.REGENCY, regency.province_id), (SnapshotLevel.DISTRICT, regency.code)],
        with_target=True,
    )
    headline = next((row for row in regency_rows if row.code == regency.code), None)
    histories = rollout_selectors.snapshot_histories(
        user=request.user, level=SnapshotLevel.DISTRICT, parent=regency.code, codes=[regency.code]
    )
    return _overview(
        request,
        unit=regency,
        regency=regency,
        headline=headline,
        rows=rows,
        histories=histories,
        trend_codes=[regency.code],
        map_rows=[headline] if headline else [],
        chosen=regency.code,
        home=home,
    )


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
    if name not in selectors.LISTS:
        raise Http404
    regency_code = request.GET.get("regency") or None
    province_code = None if regency_code else request.GET.get("province") or None
    if regency_code:
        require_in_scope(request.user, regency_code=regency_code)
    rows = selectors.whole_list(user=request.user, name=name, province=province_code, regency=regency_code)
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
    villages = rollout_selectors.village_rollout_list(user=request.user).filter(district=district)
    allocation = selectors.latest_allocation(province_code=district.regency.province_id)
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
    village = get_object_or_404(rollout_selectors.village_rollout_list(user=request.user), code=code)
    reports = rollout_selectors.report_list(user=request.user).filter(village=village)
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


# --- the audit trail (auditors and province administrators; read only) ----------------------------


@login_required
@require_safe
def audit(request: HttpRequest) -> HttpResponse:
    require_capability(request.user, Capability.VIEW_AUDIT)
    form = AuditFilterForm(request.GET)
    query = form.query()
    page = Paginator(selectors.audit_trail(query=query), AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    params = {name: value for name, value in request.GET.items() if name != "page" and value}
    context = {
        "form": form,
        "trail": query.trail,
        "page": page,
        "rows": list(selectors.audit_rows(trail=query.trail, rows=page)),
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
        rows=selectors.audit_rows(trail=query.trail, rows=selectors.audit_trail(query=query).iterator()),
        file_format=file_format,
    )
