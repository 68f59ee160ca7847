"""The email intake's configuration and received messages, as the API shows and takes them."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.models import Level
from mail.models import (
    ImapSecurity,
    InboundMail,
    InboundStatus,
    IntakeAddress,
    MailPolicy,
    UnknownSenders,
)
from mail.services.admin import MAX_DOMAINS


class IntakeAddressSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    impact = serializers.ChoiceField(choices=Level.choices)
    urgency = serializers.ChoiceField(choices=Level.choices)
    imap_password_set = serializers.SerializerMethodField(
        help_text="Whether a password is stored; the password itself is never shown."
    )

    class Meta:
        model = IntakeAddress
        fields = [
            "id",
            "address",
            "category",
            "impact",
            "urgency",
            "is_active",
            "created_at",
            "imap_enabled",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_username",
            "imap_password_set",
            "imap_folder",
            "imap_last_polled_at",
            "imap_last_error",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_imap_password_set(self, intake: IntakeAddress) -> bool:
        return bool(intake.imap_password)


class IntakeAddressWriteSerializer(serializers.Serializer):
    # Plain text: the service judges the address, with the same message as the settings page.
    address = serializers.CharField(max_length=254)
    category = serializers.CharField(
        required=False, allow_null=True, max_length=60, help_text="A category's slug, or null."
    )
    impact = serializers.ChoiceField(choices=Level.choices, default=Level.MEDIUM)
    urgency = serializers.ChoiceField(choices=Level.choices, default=Level.MEDIUM)
    is_active = serializers.BooleanField(default=True)
    imap_enabled = serializers.BooleanField(default=False)
    imap_host = serializers.CharField(required=False, allow_blank=True, max_length=255)
    imap_port = serializers.IntegerField(required=False, min_value=1, max_value=65535)
    imap_security = serializers.ChoiceField(choices=ImapSecurity.choices, required=False)
    imap_username = serializers.CharField(required=False, allow_blank=True, max_length=255)
    imap_password = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Write-only. Left out or blank on a PATCH, the stored password is kept.",
    )
    imap_folder = serializers.CharField(required=False, allow_blank=True, max_length=255)


class IntakeAddressPatchSerializer(IntakeAddressWriteSerializer):
    address = serializers.CharField(max_length=254, required=False)
    impact = serializers.ChoiceField(choices=Level.choices, required=False)
    urgency = serializers.ChoiceField(choices=Level.choices, required=False)
    is_active = serializers.BooleanField(required=False)
    imap_enabled = serializers.BooleanField(required=False)


class MailPolicySerializer(serializers.ModelSerializer):
    unknown_senders = serializers.ChoiceField(choices=UnknownSenders.choices)
    allowed_domains = serializers.ListField(
        child=serializers.CharField(max_length=253), max_length=MAX_DOMAINS, default=list
    )

    class Meta:
        model = MailPolicy
        fields = ["unknown_senders", "allowed_domains", "updated_at"]
        read_only_fields = ["updated_at"]


class InboundMailSerializer(serializers.ModelSerializer):
    intake = serializers.CharField(source="intake.address", read_only=True)
    status = serializers.ChoiceField(choices=InboundStatus.choices, read_only=True)
    incident = serializers.SerializerMethodField(
        help_text="The incident the message made or joined (INC-000042), or null."
    )

    class Meta:
        model = InboundMail
        fields = [
            "id",
            "message_id",
            "intake",
            "via",
            "sender",
            "subject",
            "size",
            "received_at",
            "status",
            "reason",
            "attempts",
            "processed_at",
            "outcome",
            "incident",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_incident(self, inbound: InboundMail) -> str | None:
        return inbound.incident.reference if inbound.incident is not None else None
