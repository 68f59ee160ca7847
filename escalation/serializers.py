from rest_framework import serializers

from escalation.models import Notification, WebhookEndpoint, WebhookEvent


class WebhookEndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id", "url", "description", "events", "slack_format", "is_active", "secret",
            "created_at", "updated_at",
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
            "id", "delivery_id", "event", "status", "attempts", "max_attempts", "last_error",
            "created_at", "sent_at", "next_attempt_at",
        ]
