"""Rollout pages: an officer's report form and district grid, and the province's verification queue."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.access import Capability, has_capability, require_capability
from rollout import selectors, services
from rollout.forms import BulkFormSet, RejectForm, ReportForm
from rollout.models import STATUS_FIELDS, ReportStatus
from rollout.photos import photo_storage
from smartvillage.errors import ApplicationError
from villages.selectors import district_list

REPORTS_PAGE_SIZE = 50

# The officer's pages the service worker may keep on the device (templates/pwa/sw.js keeps only answers that
# carry it): one user's pages, deleted at logout. Another role's page is never kept.
KEEP_ON_DEVICE = ("X-Field-Capture", "keep")


def kept_on_device(response: HttpResponse) -> HttpResponse:
    response[KEEP_ON_DEVICE[0]] = KEEP_ON_DEVICE[1]
    return response


def _current(village) -> dict:
    status = getattr(village, "rollout", None)
    return {name: getattr(status, name) for name in STATUS_FIELDS} if status else {}


def _report_input(village, data: dict) -> services.ReportInput:
    fields = {name: value for name, value in data.items() if name not in ("village", "include")}
    return services.ReportInput(village=village, **fields)


@login_required
def report_new(request: HttpRequest, code: str) -> HttpResponse:
    require_capability(request.user, Capability.SUBMIT_REPORTS)
    village = get_object_or_404(selectors.village_rollout_list(user=request.user), code=code)
    form = ReportForm(request.POST or None, initial=_current(village))
    if request.method == "POST" and form.is_valid():
        try:
            services.report_submit(actor=request.user, item=_report_input(village, form.cleaned_data))
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Report submitted; it awaits verification by the province."))
            return redirect("rollout:reports")
    if request.method == "POST":
        return render(request, "rollout/report_form.html", {"village": village, "form": form}, status=400)
    return kept_on_device(render(request, "rollout/report_form.html", {"village": village, "form": form}))


@login_required
@require_safe
def offline_form(request: HttpRequest) -> HttpResponse:
    """The report form with no village: the page the service worker opens for any village's form when there
    is no connection (static/js/field.js fills in the village from `offline_villages`)."""
    require_capability(request.user, Capability.SUBMIT_REPORTS)
    return kept_on_device(render(request, "rollout/report_form.html", {"village": None, "form": ReportForm()}))


@login_required
@require_safe
def offline_villages(request: HttpRequest) -> HttpResponse:
    """The officer's villages with their current status, for the report form on the device."""
    require_capability(request.user, Capability.SUBMIT_REPORTS)
    villages = [
        {
            "code": row["code"],
            "name": row["name"],
            "kind": row["kind"],
            "district": {"code": row["district__code"], "name": row["district__name"]},
            "regency": {"code": row["regency__code"], "name": row["regency__name"]},
            "status": {name: row[f"rollout__{name}"] for name in STATUS_FIELDS if row[f"rollout__{name}"] is not None},
        }
        for row in selectors.field_villages(user=request.user)
    ]
    return kept_on_device(JsonResponse({"villages": villages}))


@login_required
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    """The reports this device keeps until they are sent (the list itself is on the device: field.js)."""
    require_capability(request.user, Capability.SUBMIT_REPORTS)
    return kept_on_device(render(request, "rollout/queue.html"))


@login_required
def district_bulk(request: HttpRequest, code: str) -> HttpResponse:
    """The district grid: one row per village, the ticked rows are reported together (all or nothing)."""
    require_capability(request.user, Capability.SUBMIT_REPORTS)
    district = get_object_or_404(district_list(user=request.user), code=code)
    villages = list(selectors.village_rollout_list(user=request.user).filter(district=district))
    initial = [{"village": village.code, **_current(village)} for village in villages]
    formset = BulkFormSet(request.POST or None, initial=initial)
    if request.method == "POST" and formset.is_valid():
        by_code = {village.code: village for village in villages}
        chosen = [(form, form.cleaned_data) for form in formset if form.cleaned_data.get("include")]
        unknown = [form for form, data in chosen if data["village"] not in by_code]
        for form in unknown:
            form.add_error(None, _("This village is not in the district."))
        if not chosen:
            messages.error(request, _("Tick at least one village to report."))
        elif not unknown:
            items = [_report_input(by_code[data["village"]], data) for _form, data in chosen]
            try:
                reports = services.reports_submit_bulk(actor=request.user, district=district, items=items)
            except ApplicationError as error:
                messages.error(request, error.message)
                for index, row_errors in error.fields.get("reports", {}).items():
                    form = chosen[int(index)][0]
                    form.add_service_error(ApplicationError(error.message, fields=row_errors))
            else:
                messages.success(request, _("%(count)d report(s) submitted.") % {"count": len(reports)})
                return redirect("rollout:reports")
    rows = list(zip(villages, formset.forms, strict=False))
    status = 400 if request.method == "POST" else 200
    ticked = sum(1 for form in formset.forms if form["include"].value())
    context = {"district": district, "formset": formset, "rows": rows, "ticked": ticked}
    return render(request, "rollout/district_bulk.html", context, status=status)


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    reports = selectors.report_list(user=request.user).prefetch_related("photos")
    status = request.GET.get("status", ReportStatus.AWAITING)
    if status in ReportStatus.values:
        reports = reports.filter(status=status)
    page = Paginator(reports, REPORTS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": ReportStatus.choices,
        "can_verify": has_capability(request.user, Capability.VERIFY_REPORTS),
        "reject_form": RejectForm(),
    }
    return render(request, "rollout/report_list.html", context)


@login_required
@require_POST
def report_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    require_capability(request.user, Capability.VERIFY_REPORTS)
    if decision not in ("verify", "reject"):
        raise Http404
    report = get_object_or_404(selectors.report_list(user=request.user), pk=pk)
    error = None
    try:
        if decision == "verify":
            services.report_verify(report=report, actor=request.user)
            outcome = _("Report on %(village)s verified.") % {"village": report.village.name}
        else:
            form = RejectForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            services.report_reject(report=report, actor=request.user, reason=reason)
            outcome = _("Report on %(village)s rejected.") % {"village": report.village.name}
    except ApplicationError as refused:
        error = refused.message
    if request.headers.get("HX-Request"):
        # htmx swaps the report's row with the outcome, a refusal included (htmx swaps only 2xx answers).
        context = {"report": report, "outcome": outcome if error is None else None, "error": error}
        return render(request, "rollout/_decided_row.html", context)
    if error is None:
        messages.success(request, outcome)
    else:
        messages.error(request, error)
    return redirect("rollout:reports")


@login_required
@require_safe
def report_photo(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    """A report's photo, to those who may read its village (404 to anyone else: nothing is learnt of it).

    Never cached by a browser or a proxy; the file's name in the storage is never shown.
    """
    photo = selectors.report_photo(user=request.user, report_id=pk, position=position)
    if photo is None:
        raise Http404
    try:
        file = photo_storage().open(photo.file, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(file, content_type=photo.content_type)
    response["Content-Disposition"] = f'inline; filename="laporan-{photo.report_id}-{photo.position}.jpg"'
    response["Cache-Control"] = "private, no-store"
    return response
