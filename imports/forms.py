from __future__ import annotations

from django import forms

from imports.formats import FORMAT_CHOICES


class ImportForm(forms.Form):
    file = forms.FileField(
        label="File", help_text="The export to import (CSV). Importing it again changes nothing."
    )
    format = forms.ChoiceField(label="Format", choices=FORMAT_CHOICES)
    time_zone = forms.CharField(
        label="Time zone of the file's times",
        max_length=64,
        help_text="The export says no zone; by default the desk's own.",
    )
    adopt_matrix = forms.BooleanField(
        label="Adopt the file's priority scale and matrix",
        required=False,
        help_text="Set this desk's priority levels and impact x urgency matrix to the ones the "
        "file shows, so every imported incident keeps its priority.",
    )
