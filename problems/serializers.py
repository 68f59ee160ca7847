"""What the problems API reads and answers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers

from incidents.models import Level
from problems.models import Problem


def _text(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(allow_blank=True, max_length=20_000, **kwargs)


class ProblemItemSerializer(serializers.Serializer):
    number = serializers.CharField(source="reference")
    title = serializers.CharField()
    description = serializers.CharField()
    state = serializers.CharField()
    impact = serializers.CharField()
    urgency = serializers.CharField()
    priority = serializers.CharField(source="priority.slug")
    category = serializers.CharField(source="category.slug", allow_null=True, default=None)
    group = serializers.CharField(source="group.slug", allow_null=True, default=None)
    owner = serializers.EmailField(source="owner.email", allow_null=True, default=None)
    root_cause = serializers.CharField()
    workaround = serializers.CharField()
    fix = serializers.CharField()
    change_reference = serializers.CharField()
    cancel_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField()

    def get_url(self, problem: Problem) -> str:
        path = reverse(
            "problems-problem-detail",
            kwargs={"tenant_slug": problem.tenant.slug, "number": problem.number},
        )
        return settings.SITE_URL + path


class ProblemCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = _text(required=False)
    impact = serializers.ChoiceField(choices=Level.choices, default="medium")
    urgency = serializers.ChoiceField(choices=Level.choices, default="medium")
    owner = serializers.EmailField(required=False, allow_null=True)
    group = serializers.SlugField(required=False, allow_null=True)
    incidents = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, max_length=500
    )


class ProblemNoteSerializer(serializers.Serializer):
    note = _text(required=False, default="")


class ProblemKnownErrorSerializer(serializers.Serializer):
    root_cause = _text()
    workaround = _text()


class ProblemResolveSerializer(serializers.Serializer):
    fix = _text()
    change_reference = serializers.CharField(allow_blank=True, max_length=100)
    resolve_incidents = serializers.BooleanField(default=False)


class ProblemCancelSerializer(serializers.Serializer):
    reason = _text()


TRANSITION_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "investigate": ProblemNoteSerializer,
    "known_error": ProblemKnownErrorSerializer,
    "resolve": ProblemResolveSerializer,
    "close": ProblemNoteSerializer,
    "cancel": ProblemCancelSerializer,
}


class ProblemLinkSerializer(serializers.Serializer):
    incident = serializers.CharField(max_length=20)


class ProblemIncidentSerializer(serializers.Serializer):
    number = serializers.CharField(source="reference")
    title = serializers.CharField()
    state = serializers.CharField()
    reported_at = serializers.DateTimeField()
