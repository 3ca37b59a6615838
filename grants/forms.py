"""Page forms for grant actions. They only collect input; grants.services decides."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from grants.models import GrantAction
from grants.services import MAX_AMOUNT
from smartvillage.forms import BootstrapForm

# 6000000, 6.000.000, and the written forms 6.000.000,- and 6.000.000,00; never a decimal such as 1.5.
WHOLE_RUPIAH = re.compile(r"(?P<amount>[0-9]+|[0-9]{1,3}(?:\.[0-9]{3})+)(?:,-|,0{1,2})?", re.ASCII)


class RupiahField(forms.CharField):
    """A whole rupiah amount, typed as 6000000, 6.000.000, Rp 6.000.000 or Rp6.000.000,-."""

    default_error_messages = {
        "invalid": _("Enter a whole number of rupiah, e.g. 6.000.000."),
        "too_large": _("The amount is implausibly large."),
    }

    def __init__(self, *, min_value: int = 1, **kwargs):
        self.min_value = min_value
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        typed = re.sub(r"^rp\.?\s*", "", text.strip().lower()).replace(" ", "")
        # The digits 0-9 only (\d would take Arabic-Indic or full-width digits, which int() reads as an
        # amount), with dots only between groups of three: "1.5" is a decimal, not Rp15.
        whole = WHOLE_RUPIAH.fullmatch(typed)
        if whole is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        digits = whole["amount"].replace(".", "")
        if len(digits) > len(str(MAX_AMOUNT)):  # and too long for int() past 4,300 digits
            raise ValidationError(self.error_messages["too_large"], code="too_large")
        amount = int(digits)
        if amount > MAX_AMOUNT:
            raise ValidationError(self.error_messages["too_large"], code="too_large")
        if amount < self.min_value:
            raise ValidationError(
                _("The amount must be at least Rp%(min)s.") % {"min": self.min_value}, code="min_value"
            )
        return amount


class ConfirmedForm(BootstrapForm):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(
        label=_("I have checked the details and confirm this action."),
        error_messages={"required": _("Tick the box to confirm.")},
    )


class DisburseForm(ConfirmedForm):
    reference = forms.CharField(label=_("Transfer reference (SP2D number)"), max_length=100)
    transfer_date = forms.DateField(label=_("Transfer date"), widget=forms.DateInput(attrs={"type": "date"}))
    field_order = ["reference", "transfer_date", "note", "confirm"]


class AccountForm(ConfirmedForm):
    spent_amount = RupiahField(label=_("Amount spent (Rp)"), min_value=0)
    document_url = forms.URLField(
        label=_("Report document link"), required=False, max_length=200, assume_scheme="https"
    )
    field_order = ["spent_amount", "document_url", "note", "confirm"]


class ReturnForm(ConfirmedForm):
    amount = RupiahField(label=_("Amount returned (Rp)"))
    reference = forms.CharField(label=_("Deposit reference (STS number)"), max_length=100)
    field_order = ["amount", "reference", "note", "confirm"]


# action -> form collecting its input
ACTION_FORMS: dict[str, type[forms.Form]] = {
    GrantAction.APPROVE: ConfirmedForm,
    GrantAction.DISBURSE: DisburseForm,
    GrantAction.ACCOUNT: AccountForm,
    GrantAction.RETURN: ReturnForm,
    GrantAction.CLOSE: ConfirmedForm,
    GrantAction.CANCEL: ConfirmedForm,
}


class BatchForm(ConfirmedForm):
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            (GrantAction.APPROVE, _("Approve all planned grants")),
            (GrantAction.DISBURSE, _("Disburse all approved grants (one SP2D)")),
            (GrantAction.CANCEL, _("Cancel all planned and approved grants")),
        ],
    )
    reference = forms.CharField(label=_("Transfer reference (SP2D number)"), max_length=100, required=False)
    transfer_date = forms.DateField(
        label=_("Transfer date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    field_order = ["action", "reference", "transfer_date", "note", "confirm"]

    def clean(self):
        data = super().clean()
        if data.get("action") == GrantAction.DISBURSE:
            for name in ("reference", "transfer_date"):
                if not data.get(name):
                    self.add_error(name, _("Required to disburse."))
        return data


class AllocationActionForm(forms.Form):
    action = forms.ChoiceField(choices=[("plan", "plan"), ("activate", "activate"), ("close", "close")])
    confirm = forms.BooleanField(error_messages={"required": _("Tick the box to confirm.")})
