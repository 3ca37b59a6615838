"""Form building blocks shared by the apps' pages."""

from django import forms

from smartvillage.errors import ApplicationError


class BootstrapForm(forms.Form):
    """Bootstrap 5 classes on every widget, and is-invalid on fields with errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select form-select-sm"
            else:
                widget.attrs["class"] = "form-control form-control-sm"

    def add_error(self, field, error):
        super().add_error(field, error)
        # Mark every field with an error, whether from validation or from a service's refusal.
        for name in self.errors:
            if name in self.fields and "is-invalid" not in self.fields[name].widget.attrs["class"]:
                self.fields[name].widget.attrs["class"] += " is-invalid"

    def add_service_error(self, error: ApplicationError) -> None:
        """Show a service's refusal: its message at the top, field messages on their fields where they exist."""
        self.add_error(None, error.message)
        for field, messages in error.fields.items():
            if not isinstance(messages, list):
                continue  # nested errors (bulk rows) are placed by the caller
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
