from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.access import Capability, has_capability, require_capability
from villages import selectors, services
from villages.forms import ApplyForm, PlanRowForm, RegionListUploadForm
from villages.models import RegionLevel, RegionListUpload, RegionVersion
from villages.region_files import RegionFileError
from villages.region_plan import CHANGES, Change

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
        "history": selectors.unit_history(unit=district),
    }
    return render(request, "villages/district_detail.html", context)


# --- loading a newer region list (province administrators) -------------------------------------------------

PLAN_PAGE_SIZE = 100


@login_required
def region_lists(request: HttpRequest) -> HttpResponse:
    """Upload a newer region list; it is planned against the registry and kept for review."""
    require_capability(request.user, Capability.MANAGE_REGIONS)
    form = RegionListUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            kept = services.region_list_upload(actor=request.user, file_name=upload.name, data=upload.read())
        except RegionFileError as error:
            for message in error.errors[:50]:
                form.add_error("file", message)
        else:
            return redirect("villages:region-list", pk=kept.pk)
    uploads = RegionListUpload.objects.select_related("uploaded_by", "applied_by").defer("text", "plan")[:20]
    return render(request, "villages/region_lists.html", {"form": form, "uploads": uploads})


@login_required
def region_list(request: HttpRequest, pk: int) -> HttpResponse:
    """Review an uploaded list's change set: filter by change and regency, decide a row by hand."""
    require_capability(request.user, Capability.MANAGE_REGIONS)
    upload = get_object_or_404(RegionListUpload.objects.select_related("uploaded_by", "applied_by"), pk=pk)
    edit = PlanRowForm(request.POST or None)
    if request.method == "POST" and edit.is_valid():
        try:
            services.region_list_row_edit(upload=upload, actor=request.user, **edit.cleaned_data)
        except RegionFileError as error:
            for message in error.errors:
                edit.add_error(None, message)
        else:
            return redirect(f"{request.path}?{request.GET.urlencode()}#line-{edit.cleaned_data['line']}")
    return _review(request, upload, edit=edit, apply=ApplyForm(), status=400 if edit.errors else 200)


@login_required
@require_POST
def region_list_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply the reviewed change set: the service `load_regions --apply` calls; refused whole, with lines."""
    require_capability(request.user, Capability.MANAGE_REGIONS)
    upload = get_object_or_404(RegionListUpload, pk=pk)
    form = ApplyForm(request.POST)
    if form.is_valid():
        try:
            services.region_list_apply(
                upload=upload,
                actor=request.user,
                decree=form.cleaned_data["decree"],
                valid_from=form.cleaned_data["valid_from"],
            )
        except RegionFileError as error:
            for message in error.errors[:50]:
                form.add_error(None, message)
        else:
            return redirect("villages:region-list", pk=upload.pk)
    return _review(request, upload, edit=PlanRowForm(), apply=form, status=400)


def _review(request: HttpRequest, upload: RegionListUpload, *, edit, apply, status: int) -> HttpResponse:
    rows = services.region_list_rows(upload=upload)
    counts = {change: sum(row.change == change for row in rows) for change in CHANGES}
    change = request.GET.get("change", "")
    regency = request.GET.get("regency", "").strip()
    shown = [
        row
        for row in rows
        if (not change or row.change == change)
        and (not regency or (row.new_code or row.old_code).startswith(regency) or row.old_code.startswith(regency))
    ]
    page = Paginator(shown, PLAN_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "upload": upload,
        "page": page,
        "counts": counts,
        "changes": [(value, Change(value).label) for value in CHANGES],
        "change": change,
        "regency": regency,
        "query": urlencode({name: value for name, value in (("change", change), ("regency", regency)) if value}),
        "edit": edit,
        "apply": apply,
    }
    return render(request, "villages/region_list.html", context, status=status)
