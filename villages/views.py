from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from accounts.access import Capability, has_capability
from villages import selectors

SEARCH_PAGE_SIZE = 50


def _search(villages: QuerySet, query: str) -> QuerySet:
    return villages.filter(Q(name__icontains=query) | Q(code__startswith=query))


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
    regency = get_object_or_404(selectors.regency_list(user=request.user), code=code)
    districts = selectors.district_list(user=request.user).filter(regency=regency, is_active=True)
    return render(request, "villages/regency_detail.html", {"regency": regency, "districts": districts})


@login_required
def district_detail(request: HttpRequest, code: str) -> HttpResponse:
    district = get_object_or_404(selectors.district_list(user=request.user), code=code)
    # Where each village stands on the programme (the rollout app's status row, read by its relation name:
    # this layer does not import the rollout app).
    villages = selectors.village_list(user=request.user).filter(district=district).select_related("rollout")
    query = request.GET.get("q", "").strip()
    if query:
        villages = _search(villages, query)
    context = {
        "district": district,
        "villages": villages,
        "query": query,
        "can_report": has_capability(request.user, Capability.SUBMIT_REPORTS),
    }
    return render(request, "villages/district_detail.html", context)
