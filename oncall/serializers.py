"""What the on-call API answers."""

from __future__ import annotations

from rest_framework import serializers


class OnCallPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    name = serializers.CharField(source="display_name")


class OnCallSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="The instant asked about.")
    person = OnCallPersonSerializer(
        source="user", allow_null=True, help_text="Who is on call; null: nobody."
    )
    until = serializers.DateTimeField(
        allow_null=True,
        help_text="When their shift ends (or, when nobody is on call, when someone next is); "
        "null: not within five weeks.",
    )
    layer = serializers.CharField(help_text="The layer that put them on call; empty: an override.")
    override = serializers.BooleanField(help_text="On call by an override.")


class ScheduleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    time_zone = serializers.CharField()
    fallback = OnCallPersonSerializer(
        allow_null=True, help_text="Paged by an escalation level when nobody is on call."
    )
    on_call_now = OnCallSerializer()
