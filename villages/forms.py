"""Forms of the province administrators' page for loading a newer region list (issue 14)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from smartvillage.forms import BootstrapForm
from villages.region_files import MAX_FILE_BYTES
from villages.region_plan import CHANGES, Change


class RegionListUploadForm(BootstrapForm):
    file = forms.FileField(
        label=_("Region list (.csv or .csv.gz)"),
        help_text=_("The official Kemendagri list, in the format of villages/data/lampung_regions.csv."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(_("The file is larger than %(mb)d MB.") % {"mb": MAX_FILE_BYTES // 2**20})
        return upload


class PlanRowForm(BootstrapForm):
    """A person's decision on one row of the change set: which unit of the new list it is, and how."""

    line = forms.IntegerField(min_value=2, max_value=10**7, widget=forms.HiddenInput)
    change = forms.ChoiceField(
        label=_("Change"), choices=[(change, Change(change).label) for change in CHANGES if change != Change.UNRESOLVED]
    )
    new_code = forms.CharField(label=_("New code"), max_length=13, required=False)


class ApplyForm(BootstrapForm):
    decree = forms.CharField(label=_("Decree"), max_length=200, help_text=_("E.g. Kepmendagri 300.2.2-2138/2025"))
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))
    confirm = forms.BooleanField(label=_("I have reviewed every change"), required=True)
