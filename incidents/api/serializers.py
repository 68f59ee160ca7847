"""The API's incident contract. Reads are plain serializers; writes are validated here and
carried out by the services, never by serializer.save()."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.models import (
    AssignmentGroup,
    Attachment,
    Category,
    Comment,
    HoldReason,
    Incident,
    IncidentEvent,
    Level,
    ResolutionCode,
)
from tenancy.inputs import whole_number


def parse_number(value: str) -> int | None:
    """INC-000042, inc-42 or 42 -> 42; anything else None."""
    text = str(value).strip().upper()
    if text.startswith("INC-"):
        text = text[4:]
    return whole_number(text, max_digits=9)


class PersonSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)  # the column's length
    name = serializers.CharField(required=False, allow_blank=True, max_length=150)


class IncidentSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="reference", read_only=True)
    priority = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    group = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)
    resolution_code = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    hold_reason = serializers.SerializerMethodField()
    reporter = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(source="reported_at", read_only=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "number",
            "title",
            "description",
            "state",
            "impact",
            "urgency",
            "priority",
            "priority_rank",
            "category",
            "group",
            "assignee",
            "reporter",
            "hold_reason",
            "affected_count",
            "created_at",
            "updated_at",
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "resolution_code",
            "resolution_notes",
            "reopen_count",
            "reassignment_count",
            "version",
            "source_number",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=HoldReason.choices, allow_null=True))
    def get_hold_reason(self, incident: Incident) -> str | None:
        return incident.hold_reason or None

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_reporter(self, incident: Incident) -> dict | None:
        if incident.reporter_id:
            return {"email": incident.reporter.email, "name": incident.reporter.full_name}
        if incident.contact_email or incident.contact_name:
            return {"email": incident.contact_email, "name": incident.contact_name}
        return None

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_links(self, incident: Incident) -> dict[str, str]:
        ref = incident.reference
        return {
            name: reverse(f"api-incident-{name}", kwargs={"number": ref})
            for name in ("detail", "transitions", "comments", "events", "attachments")
        } | {"self": reverse("api-incident-detail", kwargs={"number": ref})}


_INCIDENT_READER = IncidentSerializer()


def incident_data(incident: Incident) -> dict:
    """One incident as the API shows it. DRF builds a serializer's fields anew for each
    instance, a third of a create's serializing time; an incident's fields never change, and
    reading through them keeps no state, so one serializer serves every request."""
    return _INCIDENT_READER.to_representation(incident)


class IncidentPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = IncidentSerializer(many=True)


class IncidentCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    impact = serializers.ChoiceField(choices=Level.choices, default="medium")
    urgency = serializers.ChoiceField(choices=Level.choices, default="medium")
    category = serializers.SlugField(required=False, allow_null=True)
    reporter = PersonSerializer(required=False)


class IncidentUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    impact = serializers.ChoiceField(choices=Level.choices, required=False)
    urgency = serializers.ChoiceField(choices=Level.choices, required=False)
    category = serializers.SlugField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


# --- transitions ---------------------------------------------------------------------------
class EscalateSerializer(serializers.Serializer):
    group = serializers.SlugField(required=False, allow_null=True)
    assignee = serializers.EmailField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class AcceptSerializer(serializers.Serializer):
    assignee = serializers.EmailField(required=False)


class HoldSerializer(serializers.Serializer):
    hold_reason = serializers.ChoiceField(choices=HoldReason.values)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ResolveSerializer(serializers.Serializer):
    resolution_code = serializers.SlugField()
    resolution_notes = serializers.CharField(max_length=20000)


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class CloseSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False, allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    duplicate_of = serializers.CharField(required=False, allow_null=True, max_length=20)


TRANSITION_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "escalate": EscalateSerializer,
    "accept": AcceptSerializer,
    "hold": HoldSerializer,
    "resume": NoteSerializer,
    "resolve": ResolveSerializer,
    "reopen": ReopenSerializer,
    "close": CloseSerializer,
    "cancel": CancelSerializer,
}


class TransitionsSerializer(serializers.Serializer):
    state = serializers.CharField()
    allowed = serializers.ListField(child=serializers.CharField())


# --- activity ------------------------------------------------------------------------------
class CommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author_name", read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "public", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class CommentCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000)
    public = serializers.BooleanField(default=True)


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name")

    class Meta:
        model = IncidentEvent
        fields = [
            "id",
            "kind",
            "transition",
            "from_state",
            "to_state",
            "reason",
            "data",
            "public",
            "actor_kind",
            "actor",
            "created_at",
        ]


class AttachmentSerializer(serializers.ModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "content_type", "public", "created_at", "download"]

    def get_download(self, attachment: Attachment) -> str:
        return reverse(
            "api-incident-attachment-download",
            kwargs={"number": attachment.incident.reference, "attachment_id": attachment.pk},
        )


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    public = serializers.BooleanField(default=True)


class AlertSerializer(serializers.Serializer):
    dedup_key = serializers.CharField(max_length=255)
    action = serializers.ChoiceField(choices=["trigger", "resolve"], default="trigger")
    summary = serializers.CharField(max_length=200, required=False, allow_blank=True)
    details = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    impact = serializers.ChoiceField(choices=Level.choices, default="medium")
    urgency = serializers.ChoiceField(choices=Level.choices, default="medium")
    category = serializers.SlugField(required=False, allow_null=True)

    def validate(self, data: dict) -> dict:
        if data.get("action", "trigger") == "trigger" and not data.get("summary"):
            raise serializers.ValidationError({"summary": ["A trigger needs a summary."]})
        return data


# --- configuration -------------------------------------------------------------------------
class CategorySerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=AssignmentGroup.objects.none(),
        allow_null=True,
        required=False,
    )

    class Meta:
        model = Category
        fields = ["slug", "name", "group", "is_active"]


class GroupSerializer(serializers.ModelSerializer):
    lead = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)
    members = serializers.SerializerMethodField()

    class Meta:
        model = AssignmentGroup
        fields = ["slug", "name", "description", "lead", "members", "auto_assign", "is_active"]

    def get_members(self, group: AssignmentGroup) -> list[str]:
        return [m.user.email for m in group.members.all()]


class ResolutionCodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = ResolutionCode
        fields = ["slug", "label", "is_active"]


class PriorityLevelSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=32)
    label = serializers.CharField(max_length=64)
    rank = serializers.IntegerField(read_only=True)


class PriorityMatrixSerializer(serializers.Serializer):
    scale = PriorityLevelSerializer(many=True)
    matrix = serializers.DictField(child=serializers.DictField(child=serializers.SlugField()))


# --- configuration writes (admin scope): validated here, saved by incidents.services.config ---
class CategoryWriteSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField(required=False, allow_blank=True, max_length=200)
    group = serializers.SlugField(required=False, allow_null=True, max_length=200)
    is_active = serializers.BooleanField(default=True)


class CategoryPatchSerializer(serializers.Serializer):
    name = serializers.CharField(required=False)
    slug = serializers.CharField(required=False, max_length=200)
    group = serializers.SlugField(required=False, allow_null=True, max_length=200)
    is_active = serializers.BooleanField(required=False)


class GroupWriteSerializer(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField(required=False, allow_blank=True, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    lead = serializers.EmailField(required=False, allow_null=True)
    members = serializers.ListField(child=serializers.EmailField(), required=False, max_length=500)
    auto_assign = serializers.BooleanField(default=False)
    is_active = serializers.BooleanField(default=True)


class GroupPatchSerializer(GroupWriteSerializer):
    name = serializers.CharField(required=False)
    slug = serializers.CharField(required=False, max_length=200)
    auto_assign = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)


class ResolutionCodeWriteSerializer(serializers.Serializer):
    label = serializers.CharField()
    slug = serializers.CharField(required=False, allow_blank=True, max_length=200)
    is_active = serializers.BooleanField(default=True)


class ResolutionCodePatchSerializer(serializers.Serializer):
    label = serializers.CharField(required=False)
    slug = serializers.CharField(
        required=False, help_text="Fixed once created: only the same slug is accepted."
    )
    is_active = serializers.BooleanField(required=False)
