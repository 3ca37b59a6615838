from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.access import Capability, has_capability
from villages import selectors
from villages.models import RegionLevel, RegionVersion

SEARCH_PAGE_SIZE = 50


def _search(villages: QuerySet, query: str) -> QuerySet:
    """By code prefix, or by a part of the current or a former name (a village renamed by a newer list)."""
    former = RegionVersion.objects.filter(level=RegionLevel.VILLAGE, name__icontains=query).values("village_id")
    return villages.filter(Q(name__icontains=query) | Q(code__startswith=query) | Q(pk__in=former))


class Moved(Exception):
    def __init__(self, response: HttpResponse):
        self.response = response


def unit_or_moved(queryset: QuerySet, code: str, url_name: str):
    """The unit of `queryset` whose code is `code`; a former code of a unit: Moved (a 301 to its current
    code's page, to be returned); neither: Http404."""
    unit, current = selectors.unit_by_code(model=queryset.model, code=code, queryset=queryset)
    if unit is None:
        raise Http404
    if not current:
        raise Moved(redirect(url_name, code=unit.code, permanent=True))
    return unit


@login_required
def registry(request: HttpRequest) -> HttpResponse:
    regencies = list(selectors.regency_list(user=request.user).filter(is_active=True))
    totals = {
        name: sum(getattr(regency, name) for regency in regencies)
        for name in ("district_count", "desa_count", "kelurahan_count")
    }
    query = request.GET.get("q", "").strip()
    results = None
    if query:
        found = _search(selectors.village_list(user=request.user), query)
        results = Paginator(found, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "villages/registry.html",
        {
            "regencies": regencies,
            "totals": totals,
            "query": query,
            "query_encoded": urlencode({"q": query})[2:],
            "results": results,
        },
    )


@login_required
def regency_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        regency = unit_or_moved(selectors.regency_list(user=request.user), code, "villages:regency")
    except Moved as moved:
        return moved.response
    districts = selectors.district_list(user=request.user).filter(regency=regency, is_active=True)
    return render(request, "villages/regency_detail.html", {"regency": regency, "districts": districts})


@login_required
def district_detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        district = unit_or_moved(selectors.district_list(user=request.user), code, "villages:district")
    except Moved as moved:
        return moved.response
    villages = selectors.village_list(user=request.user).filter(district=district)
    query = request.GET.get("q", "").strip()
    if query:
        villages = _search(villages, query)
    context = {
        "district": district,
        "villages": villages,
        "query": query,
        "can_report": has_capability(request.user, Capability.SUBMIT_REPORTS),
        "history": selectors.unit_history(unit=district),
    }
    return render(request, "villages/district_detail.html", context)
