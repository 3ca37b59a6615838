"""The audit trail's filter."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.selectors import AUDIT_TRAILS, AuditQuery
from smartvillage.forms import BootstrapForm


class AuditFilterForm(BootstrapForm):
    trail = forms.ChoiceField(
        choices=[("changes", _("Accounts and allocations")), ("grants", _("Grants")), ("reports", _("Reports"))],
        required=False,
    )
    actor = forms.CharField(label=_("By (username)"), max_length=150, required=False)
    q = forms.CharField(label=_("Object (code, name or reference)"), max_length=100, required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def query(self) -> AuditQuery:
        """The filter as entered, or no filter at all if the input is invalid (the form shows why)."""
        if not self.is_valid():
            return AuditQuery(trail=self.data.get("trail") if self.data.get("trail") in AUDIT_TRAILS else "changes")
        data = self.cleaned_data
        return AuditQuery(
            trail=data["trail"] or "changes",
            actor=data["actor"].strip(),
            q=data["q"].strip(),
            date_from=data["date_from"],
            date_to=data["date_to"],
        )
