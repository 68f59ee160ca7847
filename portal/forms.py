"""The portal's forms. Impact and urgency are asked in plain words and stored high/medium/low."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.files.uploadedfile import UploadedFile

from incidents.models import Category, Level
from incidents.services.comments import COMMENT_MAX, check_attachment
from incidents.services.report import DESCRIPTION_MAX, TITLE_MAX
from tenancy.errors import InvalidInput
from tenancy.models import Tenant

IMPACT_CHOICES: list[tuple[str, str]] = [
    (Level.LOW, "Only me"),
    (Level.MEDIUM, "My team or department"),
    (Level.HIGH, "The whole organisation or our customers"),
]
URGENCY_CHOICES: list[tuple[str, str]] = [
    (Level.LOW, "I can work around it"),
    (Level.MEDIUM, "My work is slowed down"),
    (Level.HIGH, "I cannot work at all"),
]
MAX_FILES = 10
FILES_HELP = "Screenshots or documents that show the problem (up to {n} files)."


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one label, each checked against the desk's size and type limits."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list[UploadedFile]:
        uploads = [d for d in (data if isinstance(data, list | tuple) else [data]) if d]
        files = [super(MultipleFileField, self).clean(d, initial) for d in uploads]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(f"Attach at most {MAX_FILES} files at a time.")
        problems = []
        for upload in files:
            try:
                check_attachment(upload)
            except InvalidInput as exc:
                problems.append(exc.message)
        if problems:
            raise forms.ValidationError(problems)
        return files


class ReportForm(forms.Form):
    title = forms.CharField(
        label="Title",
        max_length=TITLE_MAX,
        help_text="In a few words, what is not working? For example: “Printer on floor 3 jams”.",
        error_messages={
            "required": "Give the incident a short title.",
            "max_length": f"The title is limited to {TITLE_MAX} characters.",
        },
    )
    description = forms.CharField(
        label="Description",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What happened, since when, and what you already tried. Error messages help.",
    )
    category = forms.ModelChoiceField(
        label="Category",
        queryset=Category.objects.none(),
        required=False,
        empty_label="I don't know",
        error_messages={"invalid_choice": "Choose one of the categories offered."},
    )
    impact = forms.ChoiceField(
        label="Who is affected?",
        choices=IMPACT_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Tell us who is affected."},
    )
    urgency = forms.ChoiceField(
        label="How much does it stop your work?",
        choices=URGENCY_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Tell us how much it stops your work."},
    )
    attachments = MultipleFileField(
        label="Attachments", required=False, help_text=FILES_HELP.format(n=MAX_FILES)
    )
    form_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, tenant: Tenant, similar_url: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        category = cast(forms.ModelChoiceField, self.fields["category"])
        category.queryset = Category.objects.for_tenant(tenant).filter(is_active=True)
        # As the title is typed, htmx asks for similar open incidents.
        self.fields["title"].widget.attrs.update(
            {
                "hx-get": similar_url,
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#similar",
                "hx-sync": "this:replace",
                "autocomplete": "off",
            }
        )

    def clean_description(self) -> str:
        description = self.cleaned_data["description"].strip()
        if len(description) > DESCRIPTION_MAX:
            raise forms.ValidationError(
                f"The description is limited to {DESCRIPTION_MAX:,} characters "
                f"(this one has {len(description):,}). Shorten it, or attach the rest as a file."
            )
        return description


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Your message",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=COMMENT_MAX,
    )
    attachments = MultipleFileField(label="Attach files", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("body") or "").strip() and not data.get("attachments") and not self.errors:
            self.add_error("body", "Write a message or attach a file.")
        return data


RATING_CHOICES = [
    (5, "5 – Excellent"),
    (4, "4 – Good"),
    (3, "3 – OK"),
    (2, "2 – Poor"),
    (1, "1 – Very poor"),
]


class FixedForm(forms.Form):
    """The reporter confirms: closes the incident with a 1-5 rating and an optional comment."""

    rating = forms.TypedChoiceField(
        label="How happy are you with the help you got?",
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a rating from 1 to 5."},
    )
    comment = forms.CharField(
        label="Anything to add? (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=COMMENT_MAX,
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class BrokenForm(forms.Form):
    """The reporter says it is not fixed: reopens the incident with their reason."""

    reason = forms.CharField(
        label="What is still wrong?",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=COMMENT_MAX,
        error_messages={"required": "Say what is still wrong, so the agent knows where to look."},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
