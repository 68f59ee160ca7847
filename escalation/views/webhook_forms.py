from django import forms

from escalation.models import WebhookEvent


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    description = forms.CharField(
        label="Description",
        max_length=200,
        required=False,
        help_text="What receives it, e.g. “Ops chat” or “Monitoring bridge”.",
    )
    events = forms.MultipleChoiceField(
        label="Events",
        choices=WebhookEvent.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event to send."},
    )
    slack_format = forms.BooleanField(
        label='Slack-compatible body ({"text": "…"}) for Slack, Mattermost and similar chats',
        required=False,
    )


class WebhookEndpointEditForm(WebhookEndpointForm):
    is_active = forms.BooleanField(label="Active (send deliveries)", required=False)
