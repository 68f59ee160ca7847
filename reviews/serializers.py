"""What the reviews API reads and answers. Writes are checked here for their shape and carried
out by reviews.services, whose own checks (who may edit, required texts, the owner) still hold."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from reviews.models import Review
from reviews.services import TIMELINE_TEXT_MAX

TEXT_MAX = 20_000
# A review tells of the desk's own days: a time outside these is a typing slip.
FIRST_DAY, LAST_DAY = datetime.date(1970, 1, 1), datetime.date(2999, 12, 31)
DAY_RANGE = "Give a date between 1970-01-01 and 2999-12-31."


def _text(**kwargs) -> serializers.CharField:
    return serializers.CharField(allow_blank=True, max_length=TEXT_MAX, **kwargs)


def _in_range(day: datetime.date) -> None:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise serializers.ValidationError(DAY_RANGE)


class TimelineEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    text = serializers.CharField()
    internal = serializers.BooleanField(help_text="Copied from an internal event or note.")


class ActionItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    owner = serializers.EmailField(source="owner.email", allow_null=True, default=None)
    owner_name = serializers.CharField(source="owner.display_name", allow_null=True, default=None)
    due_date = serializers.DateField()
    done = serializers.BooleanField()
    done_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField(source="is_overdue")
    created_at = serializers.DateTimeField()


class ReviewItemSerializer(serializers.Serializer):
    incident = serializers.CharField(source="incident.reference")
    incident_title = serializers.CharField(source="incident.title")
    state = serializers.CharField(help_text="draft or published.")
    author = serializers.CharField(source="author_name")
    summary = serializers.CharField()
    customer_impact = serializers.CharField()
    root_cause = serializers.CharField()
    went_well = serializers.CharField()
    went_badly = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    published_at = serializers.DateTimeField(allow_null=True)
    url = serializers.SerializerMethodField()

    def get_url(self, review: Review) -> str:
        # The tenant's slug from the view: review.tenant would be one more query per row.
        kwargs = {"tenant_slug": self.context["tenant_slug"], "number": review.incident.number}
        return settings.SITE_URL + reverse("reviews-review-detail", kwargs=kwargs)


class ReviewDetailSerializer(ReviewItemSerializer):
    timeline = TimelineEntrySerializer(many=True)
    actions = ActionItemSerializer(many=True)


class ReviewStartSerializer(serializers.Serializer):
    incident = serializers.CharField(max_length=20, help_text="INC-000042 or 42.")


class ReviewTextsSerializer(serializers.Serializer):
    """Only the texts sent change."""

    summary = _text(required=False)
    customer_impact = _text(required=False)
    root_cause = _text(required=False)
    went_well = _text(required=False)
    went_badly = _text(required=False)


ENTRY_TEXT_ERRORS = {
    "required": "Write the entry's text.",
    "blank": "Write the entry's text.",
    "max_length": f"Keep the entry's text under {TIMELINE_TEXT_MAX} characters.",
}
AT_ERRORS = {
    "required": "Give the time it happened, like 2026-03-01T14:30:00Z.",
    "invalid": "Give the time it happened, like 2026-03-01T14:30:00Z.",
}


class TimelineEntryWriteSerializer(serializers.Serializer):
    at = serializers.DateTimeField(error_messages=AT_ERRORS)
    text = serializers.CharField(max_length=TIMELINE_TEXT_MAX, error_messages=ENTRY_TEXT_ERRORS)

    def validate_at(self, value: datetime.datetime) -> datetime.datetime:
        _in_range(value.date())  # DRF gave it in the desk's time zone
        return value


class TimelineEntryUpdateSerializer(TimelineEntryWriteSerializer):
    """Only the fields sent change."""

    at = serializers.DateTimeField(required=False, error_messages=AT_ERRORS)
    text = serializers.CharField(
        max_length=TIMELINE_TEXT_MAX, required=False, error_messages=ENTRY_TEXT_ERRORS
    )


class ActionItemCreateSerializer(serializers.Serializer):
    title = serializers.CharField(
        max_length=200,
        error_messages={
            "required": "Say what is to be done.",
            "blank": "Say what is to be done.",
            "max_length": "Keep the action under 200 characters.",
        },
    )
    owner = serializers.EmailField(
        max_length=254,
        help_text="One of the desk's agents.",
        error_messages={"required": "Name the action's owner: one of the desk's agents."},
    )
    due_date = serializers.DateField(
        error_messages={
            "required": "Give the action a due date.",
            "invalid": "Give a date, like 2026-03-31.",
        }
    )

    def validate_due_date(self, value: datetime.date) -> datetime.date:
        _in_range(value)
        return value


class ActionItemDoneSerializer(serializers.Serializer):
    done = serializers.BooleanField(default=True, help_text="false: not done after all.")
