"""The article editor's form: it validates what was typed; the services decide the rest."""

from __future__ import annotations

from django import forms

from incidents.models import Category
from knowledge.models import Audience
from knowledge.services import BODY_MAX, TITLE_MAX, ArticleText
from tenancy.forms import PlainLabels
from tenancy.models import Tenant


class ArticleForm(PlainLabels, forms.Form):
    title = forms.CharField(
        label="Title",
        max_length=TITLE_MAX,
        error_messages={
            "required": "Give the article a title.",
            "max_length": f"A title is limited to {TITLE_MAX} characters.",
        },
    )
    body = forms.CharField(
        label="Article (Markdown)",
        required=False,
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="**bold**, _italic_, [a link](https://…), lists with - or 1., `code`. "
        "HTML is shown as text.",
    )
    category = forms.ModelChoiceField(
        label="Category",
        queryset=Category.objects.none(),
        required=False,
        empty_label="None",
        error_messages={"invalid_choice": "Choose one of the categories offered."},
    )
    audience = forms.ChoiceField(
        label="Who may read it", choices=Audience.choices, initial=Audience.AGENTS
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    incident = forms.IntegerField(widget=forms.HiddenInput, required=False)
    problem = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, tenant: Tenant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Category.objects.for_tenant(tenant).filter(is_active=True)

    def text(self) -> ArticleText:
        data = self.cleaned_data
        return ArticleText(
            title=data["title"],
            body=data["body"],
            category=data["category"],
            audience=data["audience"],
        )


class VoteForm(forms.Form):
    helpful = forms.TypedChoiceField(
        choices=[("yes", "Yes"), ("no", "No")], coerce=lambda value: value == "yes"
    )
