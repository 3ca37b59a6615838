"""Page forms of the reconciliation. They only collect input; treasury.services decides."""

from django import forms
from django.utils.translation import gettext_lazy as _

from smartvillage.forms import BootstrapForm
from treasury.models import ResolutionAction
from treasury.parsers import FORMATS
from treasury.services import REASON_MAX_LENGTH


class UploadForm(BootstrapForm):
    file = forms.FileField(
        label=_("Bank statement (rekening koran)"),
        help_text=_("CSV, XLSX or MT940 (%(suffixes)s); the format is recognised from the file's name.")
        % {"suffixes": ", ".join(FORMATS)},
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(FORMATS)}),
    )
    columns = forms.CharField(
        label=_("Column mapping (another layout)"),
        required=False,
        max_length=1000,
        help_text=_("Only for a CSV/XLSX not in the default layout: e.g. tanggal=Tgl,debet=Mutasi Debet."),
    )


class ConfirmForm(forms.Form):
    sha256 = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)


class ResolveForm(BootstrapForm):
    action = forms.ChoiceField(
        label=_("Resolution"),
        choices=[
            (ResolutionAction.EXPLAINED, _("Mark as explained")),
            (ResolutionAction.MANUAL_MATCH, _("Match by hand to an SP2D")),
        ],
    )
    sp2d = forms.CharField(
        label=_("SP2D number (for a match by hand)"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2}))


class ReturnForm(forms.Form):
    confirm = forms.BooleanField(error_messages={"required": _("Tick the box to confirm.")})
