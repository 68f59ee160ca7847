import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from escalation.calendars import WEEKDAYS
from escalation.models import (
    BusinessCalendar,
    EscalationPolicy,
    Notification,
    NotifyKind,
    SlaPolicy,
    WebhookEndpoint,
    WebhookEvent,
)
from escalation.models.sla import default_pause_on, default_warn_percents
from escalation.services.config import MAX_LEVELS, MAX_REPEATS, MAX_SECONDS, MAX_WARNINGS
from incidents.models import HoldReason


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "slack_format",
            "is_active",
            "secret",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "secret", "created_at", "updated_at"]


class WebhookEndpointWriteSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1
    )
    slack_format = serializers.BooleanField(default=False)
    is_active = serializers.BooleanField(default=True)


class WebhookEndpointPatchSerializer(WebhookEndpointWriteSerializer):
    url = serializers.URLField(max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, required=False
    )
    slack_format = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    delivery_id = serializers.UUIDField(read_only=True)
    event = serializers.CharField(source="kind")

    class Meta:
        model = Notification
        fields = [
            "id",
            "delivery_id",
            "event",
            "status",
            "attempts",
            "max_attempts",
            "last_error",
            "created_at",
            "sent_at",
            "next_attempt_at",
        ]


# --- SLA configuration: calendars, targets, escalation policies ---------------------------------

DAY_NAMES = [name.lower() for name in WEEKDAYS]  # "monday" .. "sunday"; stored as "0" .. "6"
SPAN_PATTERN = r"^\d{2}:\d{2}-\d{2}:\d{2}$"
MAX_ID = 2**31 - 1


def _seconds(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_SECONDS, **kwargs)


def _object_id(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


@extend_schema_field(
    {
        "type": "object",
        "description": "Working spans per weekday, HH:MM-HH:MM in the calendar's time zone "
        "(24:00 ends a day); a day left out or empty is closed.",
        "properties": {
            day: {
                "type": "array",
                "maxItems": 12,
                "items": {"type": "string", "pattern": SPAN_PATTERN, "example": "09:00-17:00"},
            }
            for day in DAY_NAMES
        },
        "additionalProperties": False,
    }
)
class WeeklyHoursField(serializers.Field):
    """{"monday": ["09:00-12:00", "13:00-17:00"], ...} on the wire; the model's
    {"0": [["09:00", "12:00"], ["13:00", "17:00"]], ...} inside."""

    def to_representation(self, value: dict) -> dict[str, list[str]]:
        return {
            name: [f"{a}-{b}" for a, b in value.get(str(i), [])] for i, name in enumerate(DAY_NAMES)
        }

    def to_internal_value(self, data) -> dict[str, list[list[str]]]:
        if not isinstance(data, dict):
            raise serializers.ValidationError("An object of weekdays, monday to sunday.")
        errors = {
            str(key): ["Not a weekday: use monday to sunday."]
            for key in data
            if key not in DAY_NAMES
        }
        for day in DAY_NAMES:
            spans = data.get(day) or []
            if (
                not isinstance(spans, list)
                or len(spans) > 12
                or not all(
                    isinstance(span, str) and re.fullmatch(SPAN_PATTERN, span) for span in spans
                )
            ):
                errors[day] = ["A list of up to 12 spans like 09:00-17:00."]
        if errors:
            raise serializers.ValidationError(errors)
        return {
            str(i): [span.split("-") for span in data.get(day) or []]
            for i, day in enumerate(DAY_NAMES)
        }


class DayOffSerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField(max_length=100, default="Day off")


class CalendarSerializer(serializers.ModelSerializer):
    weekly_hours = WeeklyHoursField()
    days_off = DayOffSerializer(many=True)

    class Meta:
        model = BusinessCalendar
        fields = [
            "id", "name", "time_zone", "always_open", "weekly_hours", "holiday_country",
            "holiday_subdivision", "days_off", "is_default",
        ]  # fmt: skip


class CalendarWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    time_zone = serializers.CharField(
        max_length=64, required=False, help_text="IANA zone; default: the desk's."
    )
    always_open = serializers.BooleanField(default=False)
    weekly_hours = WeeklyHoursField(required=False, help_text="Default: Monday-Friday 9-17.")
    holiday_country = serializers.CharField(max_length=8, allow_blank=True, default="")
    holiday_subdivision = serializers.CharField(max_length=16, allow_blank=True, default="")
    days_off = DayOffSerializer(many=True, default=list, max_length=1000)
    is_default = serializers.BooleanField(default=False)

    def validate_holiday_country(self, value: str) -> str:
        return value.strip().upper()

    def validate_holiday_subdivision(self, value: str) -> str:
        return value.strip()


class SlaPolicySerializer(serializers.ModelSerializer):
    priority = serializers.CharField(source="priority.slug")
    priority_label = serializers.CharField(source="priority.label")
    priority_rank = serializers.IntegerField(source="priority.rank")
    calendar = serializers.IntegerField(source="calendar_id")
    warn_percents = serializers.ListField(child=serializers.IntegerField())
    pause_on = serializers.ListField(child=serializers.ChoiceField(choices=HoldReason.choices))

    class Meta:
        model = SlaPolicy
        fields = [
            "priority", "priority_label", "priority_rank", "calendar", "response_seconds",
            "resolution_seconds", "warn_percents", "pause_on",
        ]  # fmt: skip


class SlaPolicyWriteSerializer(serializers.Serializer):
    calendar = _object_id(help_text="The id of one of the desk's calendars.")
    response_seconds = _seconds(help_text="Working seconds of the calendar.")
    resolution_seconds = _seconds(help_text="Working seconds of the calendar.")
    warn_percents = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=99),
        max_length=MAX_WARNINGS,
        default=default_warn_percents,
        help_text="Increasing percentages of the target at which to warn.",
    )
    pause_on = serializers.ListField(
        child=serializers.ChoiceField(choices=HoldReason.choices),
        default=default_pause_on,
        help_text="Hold kinds that pause the clocks.",
    )


class EscalationLevelSerializer(serializers.Serializer):
    position = serializers.IntegerField(read_only=True)
    after_seconds = _seconds(help_text="Seconds without acknowledgement after the level before.")
    notify = serializers.ChoiceField(choices=NotifyKind.choices)
    user = serializers.EmailField(
        allow_null=True,
        required=False,
        default=None,
        help_text="With notify=user: the email of an agent, manager or admin of the desk.",
    )
    schedule = serializers.IntegerField(
        allow_null=True,
        required=False,
        default=None,
        help_text="With notify=schedule: the id of an on-call schedule (/api/v1/oncall/"
        "schedules/); whoever is on call in it when the level fires is paged.",
    )

    def to_representation(self, level) -> dict:
        return {
            "position": level.position,
            "after_seconds": level.after_seconds,
            "notify": level.notify,
            "user": level.user.email if level.user else None,
            "schedule": level.schedule_id,
        }


class EscalationPolicySerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    calendar = serializers.IntegerField(source="calendar_id", allow_null=True)
    levels = EscalationLevelSerializer(many=True)

    class Meta:
        model = EscalationPolicy
        fields = ["id", "name", "group", "repeat_count", "calendar", "is_active", "levels"]


class EscalationPolicyWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    group = serializers.SlugField(
        max_length=60, allow_null=True, default=None, help_text="A group's slug; null: desk-wide."
    )
    repeat_count = serializers.IntegerField(min_value=0, max_value=MAX_REPEATS, default=0)
    calendar = _object_id(
        allow_null=True, default=None, help_text="Count waits in this calendar; null: wall clock."
    )
    is_active = serializers.BooleanField(default=True)
    levels = EscalationLevelSerializer(many=True, min_length=1, max_length=MAX_LEVELS)
