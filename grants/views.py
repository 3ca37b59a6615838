"""Grant pages: the allocation overview, drill-down, grant timeline, action forms and exports."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import Capability, has_capability, regency_scope, require_capability, require_in_scope
from grants import selectors, services
from grants.filters import GrantFilter
from grants.forms import ACTION_FORMS, AllocationActionForm, BatchForm
from grants.models import GrantAction, GrantStatus
from smartvillage.errors import ApplicationError
from smartvillage.exports import EXPORT_FORMATS, export_response
from villages import selectors as village_selectors
from villages.models import Regency

GRANTS_PAGE_SIZE = 100


def _allocation(request: HttpRequest, pk: int):
    return get_object_or_404(selectors.allocation_list(user=request.user), pk=pk)


def _bank_known(allocation) -> bool:
    """Whether the ledger shows "confirmed by bank": a statement was imported for the allocation."""
    bank = selectors.bank_view()
    return bank is not None and bank.known(allocation=allocation)


@login_required
def allocation_list(request: HttpRequest) -> HttpResponse:
    allocations = selectors.allocation_list(user=request.user)
    return render(request, "grants/allocation_list.html", {"allocations": allocations})


@login_required
def allocation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation(request, pk)
    context = {
        "allocation": allocation,
        "summary": selectors.allocation_summary(allocation=allocation, user=request.user),
        "rows": selectors.ledger(
            allocation=allocation, user=request.user, level="regency", with_confirmed=_bank_known(allocation)
        ),
        "province_wide": regency_scope(request.user) is None,
        "can_manage": has_capability(request.user, Capability.MANAGE_ALLOCATIONS),
        "action_form": AllocationActionForm(),
    }
    return render(request, "grants/allocation_detail.html", context)


@login_required
@require_POST
def allocation_action(request: HttpRequest, pk: int) -> HttpResponse:
    require_capability(request.user, Capability.MANAGE_ALLOCATIONS)
    allocation = _allocation(request, pk)
    form = AllocationActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tick the box to confirm."))
        return redirect("grants:allocation", pk=pk)
    action = form.cleaned_data["action"]
    try:
        if action == "plan":
            result = services.allocation_plan(allocation=allocation, actor=request.user)
            messages.success(request, _("%(count)d grant(s) planned.") % {"count": result.created})
        elif action == "activate":
            services.allocation_activate(allocation=allocation, actor=request.user)
            messages.success(request, _("The allocation is active."))
        else:
            services.allocation_close(allocation=allocation, actor=request.user)
            messages.success(request, _("The allocation is closed."))
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("grants:allocation", pk=pk)


@login_required
def regency_detail(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    allocation = _allocation(request, pk)
    require_in_scope(request.user, regency_code=code)
    regency = get_object_or_404(Regency, code=code, province=allocation.province_id)
    can_move = has_capability(request.user, Capability.MOVE_GRANTS)
    form = BatchForm(request.POST or None) if can_move else None
    if request.method == "POST":
        require_capability(request.user, Capability.MOVE_GRANTS)
        if form.is_valid():
            data = form.cleaned_data
            try:
                grants = _run_batch(allocation, regency, request.user, data)
            except ApplicationError as error:
                form.add_service_error(error)
            else:
                messages.success(request, _("%(count)d grant(s) updated.") % {"count": len(grants)})
                return redirect("grants:regency", pk=pk, code=code)
    rows = selectors.ledger(
        allocation=allocation,
        user=request.user,
        level="district",
        regency_code=code,
        with_confirmed=_bank_known(allocation),
    )
    totals = selectors.ledger(allocation=allocation, user=request.user, level="regency", regency_code=code)
    context = {
        "allocation": allocation,
        "regency": regency,
        "rows": rows,
        "money": selectors.MoneySummary.of_regency(totals=totals[0]) if totals else None,
        "form": form,
    }
    return render(request, "grants/regency_detail.html", context)


def _run_batch(allocation, regency, actor, data):
    common = {"allocation": allocation, "regency": regency, "actor": actor, "note": data["note"]}
    if data["action"] == GrantAction.APPROVE:
        return services.grants_approve_batch(**common)
    if data["action"] == GrantAction.DISBURSE:
        return services.grants_disburse_batch(
            **common, reference=data["reference"], transfer_date=data["transfer_date"]
        )
    return services.grants_cancel_batch(**common)


def _filtered_grants(request: HttpRequest, allocation):
    grant_filter = GrantFilter(request.GET, queryset=selectors.grant_list(user=request.user, allocation=allocation))
    return grant_filter, (grant_filter.qs if grant_filter.is_valid() else grant_filter.queryset.none())


@login_required
def grant_list(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation(request, pk)
    grant_filter, grants = _filtered_grants(request, allocation)
    page = Paginator(grants, GRANTS_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    # Regencies and districts are chosen by name (the filter still takes codes, as the API does).
    regencies = village_selectors.regency_list(user=request.user).values_list("code", "name")
    # A district's code begins with its regency's (18.01.04 lies in 18.01): a district link is enough.
    chosen_regency = request.GET.get("regency") or request.GET.get("district", "").rpartition(".")[0]
    districts = village_selectors.district_list(user=request.user).filter(regency__code=chosen_regency)
    context = {
        "allocation": allocation,
        "filter": grant_filter,
        "page": page,
        "query": query.urlencode(),
        "statuses": GrantStatus.choices,
        "regencies": regencies,
        "districts": districts.values_list("code", "name") if chosen_regency else [],
    }
    return render(request, "grants/grant_list.html", context)


@login_required
def grant_detail(request: HttpRequest, grant_id: int) -> HttpResponse:
    grant = get_object_or_404(selectors.grant_list(user=request.user).prefetch_related("events__actor"), pk=grant_id)
    forms = {}
    if has_capability(request.user, Capability.MOVE_GRANTS):
        forms = {
            action: ACTION_FORMS[action](prefix=action)
            for action, (sources, _target) in services.TRANSITIONS.items()
            if grant.status in sources
        }
    bank = selectors.bank_view()
    context = {"grant": grant, "forms": forms, "bank_lines": bank.lines(grant=grant) if bank is not None else []}
    return render(request, "grants/grant_detail.html", context)


@login_required
@require_POST
def grant_action(request: HttpRequest, grant_id: int, action: str) -> HttpResponse:
    require_capability(request.user, Capability.MOVE_GRANTS)
    if action not in ACTION_FORMS:
        raise Http404
    grant = get_object_or_404(selectors.grant_list(user=request.user), pk=grant_id)
    form = ACTION_FORMS[action](request.POST, prefix=action)
    if form.is_valid():
        data = {name: value for name, value in form.cleaned_data.items() if name != "confirm"}
        try:
            SERVICE_BY_ACTION[action](grant=grant, actor=request.user, **data)
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("Done: %(action)s.") % {"action": GrantAction(action).label})
            return redirect("grants:grant", grant_id=grant.pk)
    grant = selectors.grant_list(user=request.user).prefetch_related("events__actor").get(pk=grant.pk)
    return render(request, "grants/grant_detail.html", {"grant": grant, "forms": {action: form}}, status=400)


SERVICE_BY_ACTION = {
    GrantAction.APPROVE: services.grant_approve,
    GrantAction.DISBURSE: services.grant_disburse,
    GrantAction.ACCOUNT: services.grant_account,
    GrantAction.RETURN: services.grant_return,
    GrantAction.CLOSE: services.grant_close,
    GrantAction.CANCEL: services.grant_cancel,
}


def _export_format(request: HttpRequest) -> str:
    file_format = request.GET.get("file", "csv")
    if file_format not in EXPORT_FORMATS:
        raise Http404
    return file_format


@login_required
def ledger_export(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation(request, pk)
    level = request.GET.get("level", "regency")
    if level not in selectors.LEVELS:
        raise Http404
    known = _bank_known(allocation)
    rows = selectors.ledger(
        allocation=allocation,
        user=request.user,
        level=level,
        regency_code=request.GET.get("regency") or None,
        with_confirmed=known,
    )
    headers = [
        _("Code"),
        _("Region"),
        _("Units"),
        _("Planned (Rp)"),
        _("Approved (Rp)"),
        _("Disbursed (Rp)"),
        _("Returned (Rp)"),
        _("Net disbursed (Rp)"),
        _("Accounted (Rp)"),
        _("Not yet disbursed (Rp)"),
        _("Disbursed (%)"),
        _("Accounted (%)"),
        *([_("Confirmed by bank (Rp)")] if known else []),
    ]
    body = [
        [
            row.code,
            row.name,
            row.units,
            row.committed,
            row.approved,
            row.disbursed,
            row.returned,
            row.net_disbursed,
            row.accounted,
            row.to_disburse,
            row.disbursed_pct,
            row.accounted_pct,
            *([row.confirmed] if known else []),
        ]
        for row in rows
    ]
    name = f"ledger-{allocation.fiscal_year}-{level}"
    return export_response(filename=name, headers=headers, rows=body, file_format=_export_format(request))


@login_required
def grant_export(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation(request, pk)
    _filter, grants = _filtered_grants(request, allocation)
    headers = [
        _("Village code"),
        _("Village"),
        _("Kind"),
        _("District"),
        _("Regency/city"),
        _("Amount (Rp)"),
        _("Status"),
        _("SP2D number"),
        _("Transfer date"),
        _("Returned (Rp)"),
        _("Spent (Rp)"),
    ]
    body = (
        [
            grant.village.code,
            grant.village.name,
            grant.village.get_kind_display(),
            grant.village.district.name,
            grant.village.regency.name,
            grant.amount,
            grant.get_status_display(),
            grant.disbursement.reference if grant.disbursement else "",
            grant.disbursement.transfer_date.isoformat() if grant.disbursement else "",
            grant.returned_amount,
            grant.spent_amount,
        ]
        for grant in grants.iterator(chunk_size=2000)
    )
    name = f"grants-{allocation.fiscal_year}"
    return export_response(filename=name, headers=headers, rows=body, file_format=_export_format(request))
