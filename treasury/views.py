"""Reconciliation pages: an allocation's reconciliation (counts and amounts per outcome and regency,
confirmed by bank, the open items), the upload with its preview and confirmation, an item with its
resolution, the export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.access import Capability, has_capability, regency_scope, require_capability
from grants import selectors as grant_selectors
from grants.models import Disbursement
from grants.services import reference_key
from smartvillage.errors import ApplicationError
from smartvillage.exports import EXPORT_FORMATS, export_response
from treasury import selectors, services
from treasury.forms import ConfirmForm, ResolveForm, ReturnForm, UploadForm
from treasury.models import OutcomeKind, ResolutionAction

OPEN_ITEMS_PAGE_SIZE = 50


def _allocation(request: HttpRequest, pk: int):
    return get_object_or_404(grant_selectors.allocation_list(user=request.user), pk=pk)


def _page_context(request: HttpRequest, allocation, *, upload_form: UploadForm | None = None) -> dict:
    user = request.user
    can_reconcile = has_capability(user, Capability.RECONCILE)
    items = selectors.outcome_list(allocation=allocation, user=user).filter(is_open=True)
    return {
        "allocation": allocation,
        "summary": selectors.reconciliation_summary(allocation=allocation, user=user),
        "confirmed_rows": selectors.confirmed_ledger(allocation=allocation, user=user),
        "statements": selectors.statement_list(allocation=allocation)[:20],
        "province_wide": regency_scope(user) is None,
        "items": Paginator(items, OPEN_ITEMS_PAGE_SIZE).get_page(request.GET.get("page")),
        "kinds": OutcomeKind.choices,
        "can_reconcile": can_reconcile,
        "upload_form": upload_form or (UploadForm() if can_reconcile else None),
    }


@login_required
def reconciliation(request: HttpRequest, pk: int) -> HttpResponse:
    allocation = _allocation(request, pk)
    return render(request, "treasury/reconciliation.html", _page_context(request, allocation))


@login_required
@require_POST
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    """The preview: the uploaded file reconciled without importing it, kept for the confirmation."""
    require_capability(request.user, Capability.RECONCILE)
    allocation = _allocation(request, pk)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        file = form.cleaned_data["file"]
        try:
            pending, report = services.statement_upload_preview(
                allocation=allocation,
                actor=request.user,
                data=services.upload_read(file=file),
                file_name=file.name,
                columns=form.cleaned_data["columns"],
            )
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            context = {
                "allocation": allocation,
                "report": report,
                "kinds": OutcomeKind.choices,
                "confirm_form": ConfirmForm(initial={"sha256": pending.sha256}),
            }
            return render(request, "treasury/preview.html", context)
    context = _page_context(request, allocation, upload_form=form)
    return render(request, "treasury/reconciliation.html", context, status=400)


@login_required
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    require_capability(request.user, Capability.RECONCILE)
    allocation = _allocation(request, pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The previewed file is no longer kept; upload it again."))
        return redirect("treasury:reconciliation", pk=pk)
    try:
        report = services.statement_upload_confirm(
            allocation=allocation, actor=request.user, sha256=form.cleaned_data["sha256"]
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if report.already_imported:
            messages.warning(request, _("This file was imported before: nothing changed."))
        else:
            messages.success(
                request,
                _("Statement %(file)s imported: %(new)d new line(s), %(known)d already imported.")
                % {"file": report.file_name, "new": report.new_lines, "known": report.known_lines},
            )
    return redirect("treasury:reconciliation", pk=pk)


def _outcome(request: HttpRequest, outcome_id: int):
    """An outcome the reader may see (officers: of their regency), with its allocation the reader sees."""
    outcome = get_object_or_404(
        selectors.outcome_list(user=request.user).prefetch_related("resolutions__actor", "resolutions__disbursement"),
        pk=outcome_id,
    )
    _allocation(request, outcome.allocation_id)
    return outcome


def _item_page(request, outcome, *, resolve_form=None, return_form=None, status=200) -> HttpResponse:
    can_reconcile = has_capability(request.user, Capability.RECONCILE)
    editable = can_reconcile and outcome.is_open
    context = {
        "outcome": outcome,
        "reason": services.reason_from_json(outcome.reason),
        "resolution": next(iter(outcome.resolutions.all()), None),
        "resolve_form": resolve_form or (ResolveForm() if editable else None),
        "return_form": return_form
        or (ReturnForm() if editable and outcome.kind == OutcomeKind.RETURNED and outcome.grant_id else None),
    }
    return render(request, "treasury/outcome.html", context, status=status)


@login_required
def outcome(request: HttpRequest, outcome_id: int) -> HttpResponse:
    return _item_page(request, _outcome(request, outcome_id))


@login_required
@require_POST
def outcome_resolve(request: HttpRequest, outcome_id: int) -> HttpResponse:
    require_capability(request.user, Capability.RECONCILE)
    item = _outcome(request, outcome_id)
    form = ResolveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        disbursement = None
        if data["action"] == ResolutionAction.MANUAL_MATCH and data["sp2d"]:
            disbursement = Disbursement.objects.filter(
                allocation_id=item.allocation_id, reference_key=reference_key(data["sp2d"])
            ).first()
        try:
            services.outcome_resolve(
                outcome=item,
                actor=request.user,
                action=data["action"],
                reason=data["reason"],
                disbursement=disbursement,
            )
        except ApplicationError as error:
            if "disbursement" in error.fields:
                error.fields["sp2d"] = error.fields.pop("disbursement")
            form.add_service_error(error)
        else:
            messages.success(request, _("The item is resolved."))
            return redirect("treasury:reconciliation", pk=item.allocation_id)
    return _item_page(request, item, resolve_form=form, status=400)


@login_required
@require_POST
def outcome_return(request: HttpRequest, outcome_id: int) -> HttpResponse:
    """One click: the grant's return the bank's credit line shows, through the grants' return service."""
    require_capability(request.user, Capability.RECONCILE)
    item = _outcome(request, outcome_id)
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            services.outcome_return_record(outcome=item, actor=request.user)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The return is recorded on the grant."))
            return redirect("treasury:reconciliation", pk=item.allocation_id)
    return _item_page(request, item, return_form=form, status=400)


@login_required
def export(request: HttpRequest, pk: int) -> HttpResponse:
    """Every outcome the reader may see, with its line, reason and resolution: CSV or XLSX."""
    allocation = _allocation(request, pk)
    file_format = request.GET.get("file", "csv")
    if file_format not in EXPORT_FORMATS:
        raise Http404
    outcomes = selectors.outcome_list(allocation=allocation, user=request.user).prefetch_related("resolutions")
    headers = [
        _("Outcome"),
        _("Statement"),
        _("Line in the file"),
        _("Date"),
        _("Bank's text"),
        _("Bank reference"),
        _("Debit (Rp)"),
        _("Credit (Rp)"),
        _("Amount (Rp)"),
        _("SP2D number"),
        _("Village code"),
        _("Regency/city code"),
        _("Reason"),
        _("Open"),
        _("Resolution"),
        _("Resolution reason"),
    ]

    def rows():
        for item in outcomes:
            line = item.line
            resolution = next(iter(item.resolutions.all()), None)
            yield [
                item.get_kind_display(),
                item.statement.file_name,
                line.line_number if line else None,
                line.date if line else None,
                line.description if line else "",
                line.bank_reference if line else "",
                line.debit if line else None,
                line.credit if line else None,
                item.amount,
                item.disbursement.reference if item.disbursement else "",
                item.grant.village.code if item.grant else "",
                item.regency.code if item.regency else "",
                str(services.reason_from_json(item.reason)),
                _("yes") if item.is_open else _("no"),
                resolution.get_action_display() if resolution else "",
                resolution.reason if resolution else "",
            ]

    name = f"reconciliation-{allocation.fiscal_year}"
    return export_response(filename=name, headers=headers, rows=rows(), file_format=file_format)
