"""Page forms for progress reports. They only collect input; rollout.services decides."""

from django import forms
from django.utils.translation import gettext_lazy as _

from rollout.models import Blocker, PillarStatus, Signal
from smartvillage.forms import BootstrapForm


class NoteFollowsBlocker:
    """A blocker note describes its blocker: choosing no blocker drops the note of the former one (the form
    starts from the village's status, so it carries the note of the blocker being ended)."""

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("blocker"):
            cleaned["blocker_note"] = ""
        return cleaned


class ReportForm(NoteFollowsBlocker, BootstrapForm):
    pillar1 = forms.ChoiceField(label=_("Pillar 1: digital administration and services"), choices=PillarStatus.choices)
    pillar2 = forms.ChoiceField(label=_("Pillar 2: creative economy"), choices=PillarStatus.choices)
    pillar3 = forms.ChoiceField(label=_("Pillar 3: UMKM, BUMDes, koperasi online"), choices=PillarStatus.choices)
    signal = forms.ChoiceField(label=_("Best signal"), choices=Signal.choices)
    signal_sufficient = forms.BooleanField(label=_("Signal is enough for the services"), required=False)
    blocker = forms.ChoiceField(label=_("Blocker"), choices=[("", _("None")), *Blocker.choices], required=False)
    blocker_note = forms.CharField(label=_("Blocker note"), max_length=500, required=False)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    evidence_url = forms.URLField(label=_("Evidence link"), required=False, max_length=200, assume_scheme="https")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Filled in on a phone: full-size controls (16 px text, which phones do not zoom into).
        for field in self.fields.values():
            classes = field.widget.attrs["class"]
            field.widget.attrs["class"] = classes.replace(" form-select-sm", "").replace(" form-control-sm", "")


class BulkRowForm(NoteFollowsBlocker, BootstrapForm):
    """One village's row in the district grid; unticked rows are not reported."""

    village = forms.CharField(widget=forms.HiddenInput)
    include = forms.BooleanField(label=_("Report"), required=False)
    pillar1 = forms.ChoiceField(label=_("Pillar 1"), choices=PillarStatus.choices)
    pillar2 = forms.ChoiceField(label=_("Pillar 2"), choices=PillarStatus.choices)
    pillar3 = forms.ChoiceField(label=_("Pillar 3"), choices=PillarStatus.choices)
    signal = forms.ChoiceField(label=_("Signal"), choices=Signal.choices)
    signal_sufficient = forms.BooleanField(label=_("Enough"), required=False)
    blocker = forms.ChoiceField(label=_("Blocker"), choices=[("", "–"), *Blocker.choices], required=False)  # noqa: RUF001
    blocker_note = forms.CharField(label=_("Blocker note"), max_length=500, required=False)


BulkFormSet = forms.formset_factory(BulkRowForm, extra=0, max_num=1000, absolute_max=1000)


class RejectForm(BootstrapForm):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
