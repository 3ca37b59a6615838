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

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_safe

from accounts.access import Capability, has_capability, regency_scope, require_capability, require_in_scope
from grants import selectors as grant_selectors
from portal import selectors
from portal.forms import AuditFilterForm
from rollout import overview
from rollout import selectors as rollout_selectors
from rollout.views import kept_on_device
from smartvillage.exports import EXPORT_FORMATS, export_response
from villages.models import District
from villages.views import Moved, unit_or_moved

# The overview's lists show this many rows and say how many there are in all ("15 of 60").
LIST_LIMIT = 15
LIST_PAGE_SIZE = 100
AUDIT_PAGE_SIZE = 50


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


def _overview(request: HttpRequest, figures: overview.Overview, **extra) -> HttpResponse:
    """The overview page of a province or of a regency (rollout.overview builds the figures the public pages
    show too), with what only the dashboard has: the lists, the reader's actions and the exports."""
    regency = figures.regency
    can_report = regency is not None and has_capability(request.user, Capability.SUBMIT_REPORTS)
    context = {
        "regency": regency,
        "scope_name": figures.unit.name,
        "headline": figures.headline,
        "table": figures.table,
        "row_level": figures.row_level,
        "export_table": "districts" if regency else "regencies",
        "allocation": figures.allocation,
        "money": figures.money,
        "map": figures.map,
        "trend": figures.trend,
        "target": figures.target,
        **_lists(
            request.user,
            province=None if regency else figures.unit.code,
            regency=regency.code if regency else None,
            with_own=can_report,
        ),
        "can_verify": has_capability(request.user, Capability.VERIFY_REPORTS),
        "can_report": can_report,
        "export_query": f"regency={regency.code}" if regency else "",
        "demo_data": figures.unit.demo_data,
        "chosen": figures.chosen,
        **extra,
    }
    if regency is None:
        context["regency_choices"] = figures.regency_choices
    else:
        context["regency_forecast"] = figures.unit_forecast
    return render(request, "dashboard/overview.html", context)


# The officer's home: how many villages to do it lists before "and N more".
WORKLIST_LIMIT = 40


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Province roles: the province. Regency officers: their work in the field (their regency's figures are
    at /dashboard/regencies/<code>/). Other regency-scoped readers: their regency, the province's layout."""
    scope = regency_scope(request.user)
    if scope is not None and has_capability(request.user, Capability.SUBMIT_REPORTS):
        return _officer_home(request, request.user.regency.code)
    if scope is not None:
        return _regency_page(request, request.user.regency.code, home=True)
    province = overview.provinces_with_allocation().first()
    if province is None:
        return render(request, "dashboard/empty.html")
    figures = overview.province_overview(user=request.user, province=province, chosen=request.GET.get("regency"))
    return _overview(request, figures)


def _officer_home(request: HttpRequest, regency_code: str) -> HttpResponse:
    """What needs doing in the officer's regency, one tap from each village's report form; the officer's own
    reports. The service worker keeps this page for use with no connection (portal/pwa.py). Six queries:
    session, user, the work list, the rejected reports, the villages, the own reports (+ the demo flag)."""
    user = request.user
    villages = list(
        rollout_selectors.field_villages(user=user).values("code", "name", "district__code", "district__name")
    )
    districts: dict[str, dict] = {}
    for village in villages:
        district = districts.setdefault(
            village["district__code"],
            {"code": village["district__code"], "name": village["district__name"], "villages": []},
        )
        district["villages"].append(village)
    context = {
        "regency_code": regency_code,
        "regency_name": user.regency.name,
        "worklist": rollout_selectors.excerpt(
            queryset=rollout_selectors.field_worklist(user=user, today=timezone.localdate()), limit=WORKLIST_LIMIT
        ),
        "rejected": rollout_selectors.excerpt(
            queryset=rollout_selectors.own_rejected_reports(user=user), limit=LIST_LIMIT
        ),
        "districts": sorted(districts.values(), key=lambda district: district["name"]),
        "village_count": len(villages),
        "my_reports": rollout_selectors.excerpt(
            queryset=selectors.whole_list(user=user, name="my-reports"), limit=LIST_LIMIT
        ),
    }
    return kept_on_device(render(request, "dashboard/officer_home.html", context))


def _regency_page(request: HttpRequest, code: str, *, home: bool = False) -> HttpResponse:
    try:
        regency = unit_or_moved(overview.regencies_with_allocation(), code, "dashboard:regency")
    except Moved as moved:
        return moved.response
    require_in_scope(request.user, regency_code=regency.code)
    return _overview(request, overview.regency_overview(user=request.user, regency=regency), home=home)


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
    response = render(request, "dashboard/list.html", context)
    # The officer's own reports, kept on the phone with the officer's other pages.
    own = name == "my-reports" and not query and has_capability(request.user, Capability.SUBMIT_REPORTS)
    return kept_on_device(response) if own else response


@login_required
def district(request: HttpRequest, code: str) -> HttpResponse:
    try:
        district = unit_or_moved(District.objects.select_related("regency__province"), code, "dashboard:district")
    except Moved as moved:
        return moved.response
    require_in_scope(request.user, regency_code=district.regency.code)
    villages = rollout_selectors.village_rollout_list(user=request.user).filter(district=district)
    allocation = grant_selectors.latest_allocation(province_code=district.regency.province.code)
    grants = {}
    if allocation is not None:
        grants = {
            grant.village_id: grant
            for grant in grant_selectors.grant_list(user=request.user, allocation=allocation).filter(
                village__district=district
            )
        }
    rows = [(village, grants.get(village.pk)) for village in villages]
    context = {
        "district": district,
        "rows": rows,
        "can_report": has_capability(request.user, Capability.SUBMIT_REPORTS),
        "export_query": f"district={district.code}",
    }
    return render(request, "dashboard/district.html", context)


@login_required
def village(request: HttpRequest, code: str) -> HttpResponse:
    try:
        village = unit_or_moved(rollout_selectors.village_rollout_list(user=request.user), code, "dashboard:village")
    except Moved as moved:
        return moved.response
    reports = rollout_selectors.report_list(user=request.user).filter(village=village).prefetch_related("photos")
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
