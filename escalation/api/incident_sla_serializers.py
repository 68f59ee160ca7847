"""An incident's SLA clocks, escalation climb and alerts as the API shows them to the desk.

Everything here is read from what the desk's SLA panel already computes (escalation.selectors.sla:
ClockView, its words, colour and explanation); nothing is counted again."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from escalation.models import AlertKind, ClockState, Metric, RunState, SlaAlert
from escalation.selectors.sla import BREACHED, OK, WARNING, ClockView


def _time(value: datetime | None) -> str | None:
    return serializers.DateTimeField().to_representation(value) if value else None


class SegmentSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    counted = serializers.BooleanField()
    rule = serializers.CharField(help_text="Why this stretch counts or not.")


class ThresholdSerializer(serializers.Serializer):
    percent = serializers.IntegerField()
    at = serializers.DateTimeField(
        allow_null=True, help_text="When it was or will be reached; null while paused or unknown."
    )
    reached = serializers.BooleanField()


class CalendarRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    time_zone = serializers.CharField()
    always_open = serializers.BooleanField()


class PolicyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Null once the policy was deleted.")
    priority = serializers.CharField(help_text="The priority level whose targets apply.")


class ClockSerializer(serializers.Serializer):
    """One ClockView; `reached` in the context maps (clock id, percent) to the alert's time."""

    metric = serializers.ChoiceField(choices=Metric.choices, source="clock.metric")
    state = serializers.ChoiceField(choices=ClockState.choices, source="clock.state")
    status = serializers.ChoiceField(
        choices=[OK, WARNING, BREACHED], source="colour", help_text="The panel's colour."
    )
    summary = serializers.CharField(source="words", help_text="The panel's words.")
    target_seconds = serializers.IntegerField(source="clock.target_seconds")
    elapsed_seconds = serializers.SerializerMethodField()
    remaining_seconds = serializers.SerializerMethodField()
    percent_used = serializers.IntegerField()
    started_at = serializers.DateTimeField(source="clock.started_at")
    due_at = serializers.DateTimeField(allow_null=True, help_text="Only while running.")
    paused = serializers.SerializerMethodField()
    paused_since = serializers.SerializerMethodField()
    pause_reason = serializers.SerializerMethodField()
    met_at = serializers.SerializerMethodField()
    breached_at = serializers.DateTimeField(source="clock.breached_at", allow_null=True)
    stopped_at = serializers.DateTimeField(source="clock.stopped_at", allow_null=True)
    warnings = serializers.SerializerMethodField()
    pause_on = serializers.ListField(child=serializers.CharField(), source="clock.pause_on")
    policy = serializers.SerializerMethodField()
    calendar = CalendarRefSerializer(source="clock.calendar")
    explanation = SegmentSerializer(many=True, source="segments")

    def get_elapsed_seconds(self, view: ClockView) -> int:
        return int(view.spent.total_seconds())

    def get_remaining_seconds(self, view: ClockView) -> int:
        return max(int((view.target - view.spent).total_seconds()), 0)

    def get_paused(self, view: ClockView) -> bool:
        return view.clock.state == ClockState.PAUSED

    def _open_pause(self, view: ClockView):
        if view.clock.state != ClockState.PAUSED:
            return None
        return next((p for p in view.clock.pauses.all() if p.ended_at is None), None)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_paused_since(self, view: ClockView) -> str | None:
        pause = self._open_pause(view)
        return _time(pause.started_at) if pause else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_pause_reason(self, view: ClockView) -> str | None:
        pause = self._open_pause(view)
        return pause.reason if pause else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_met_at(self, view: ClockView) -> str | None:
        return _time(view.clock.stopped_at) if view.clock.state == ClockState.MET else None

    @extend_schema_field(ThresholdSerializer(many=True))
    def get_warnings(self, view: ClockView) -> list[dict]:
        clock, now = view.clock, self.context["now"]
        ahead = {int(p): datetime.fromisoformat(at) for p, at in clock.checkpoints}
        rows = []
        for percent in sorted({int(p) for p in clock.warn_percents if 0 < int(p) < 100}):
            reached_at = self.context["reached"].get((clock.pk, percent))
            at = reached_at or ahead.get(percent)
            rows.append(
                {"percent": percent, "at": at, "reached": reached_at is not None or bool(
                    at and at <= now and clock.state == ClockState.RUNNING
                )}
            )  # fmt: skip
        return ThresholdSerializer(rows, many=True).data

    @extend_schema_field(PolicyRefSerializer)
    def get_policy(self, view: ClockView) -> dict:
        return {"id": view.clock.policy_id, "priority": view.clock.priority_slug}


class EscalationRunSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=RunState.choices)
    policy = serializers.CharField(source="policy.name", allow_null=True, default=None)
    started_at = serializers.DateTimeField()
    next_level = serializers.IntegerField(source="level")
    round = serializers.IntegerField(source="repeat", help_text="0 for the first climb.")
    next_step_at = serializers.DateTimeField(source="next_check_at", allow_null=True)
    acknowledged_at = serializers.DateTimeField(allow_null=True)
    acknowledged_via = serializers.CharField()


class IncidentSlaSerializer(serializers.Serializer):
    incident = serializers.CharField()
    clocks = ClockSerializer(many=True)
    escalation = EscalationRunSerializer(allow_null=True)


class ActorRefSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["member", "integration", "system"])
    name = serializers.CharField()
    email = serializers.EmailField(allow_null=True)


class SlaAlertSerializer(serializers.ModelSerializer):
    """An alert; `acknowledgers` in the context maps alert ids to their acknowledgement event."""

    kind = serializers.ChoiceField(choices=AlertKind.choices)
    metric = serializers.CharField(source="clock.metric", allow_null=True, default=None)
    threshold = serializers.IntegerField(
        allow_null=True, help_text="Percent of the target (warnings and breaches)."
    )
    level = serializers.IntegerField(allow_null=True, help_text="Escalation level.")
    round = serializers.IntegerField(source="repeat", allow_null=True)
    recipients = serializers.ListField(child=serializers.CharField())
    acknowledged_by = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = SlaAlert
        fields = [
            "id", "kind", "metric", "threshold", "level", "round", "due_at", "created_at",
            "notified_at", "recipients", "acknowledged_at", "acknowledged_by",
            "acknowledged_via", "links",
        ]  # fmt: skip

    @extend_schema_field(ActorRefSerializer(allow_null=True))
    def get_acknowledged_by(self, alert: SlaAlert) -> dict | None:
        if alert.acknowledged_at is None:
            return None
        event = self.context.get("acknowledgers", {}).get(alert.pk)
        if event is not None:
            user = event.actor_user
            return {"kind": event.actor_kind, "name": event.actor_name,
                    "email": user.email if user else None}  # fmt: skip
        user = alert.acknowledged_by
        if user is None:
            return None
        return {"kind": "member", "name": user.display_name, "email": user.email}

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_links(self, alert: SlaAlert) -> dict[str, str]:
        number = self.context["number"]
        return {
            "acknowledge": reverse(
                "api-incident-alert-acknowledge", kwargs={"number": number, "alert_id": alert.pk}
            )
        }


class AlertAcknowledgedSerializer(serializers.Serializer):
    alert = SlaAlertSerializer()
    already_acknowledged = serializers.BooleanField(
        help_text="True when someone had acknowledged it before: nothing changed."
    )
    escalation = EscalationRunSerializer(allow_null=True)
