"""On-call schedules: layers of rotations, their members, and overrides (docs/oncall.md).

Rows hold what an admin typed; who is on call when is computed from them by the pure functions
of oncall/rotation.py, in the schedule's time zone."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenancy.models import TenantOwned


class Rotation(models.TextChoices):
    DAILY = "daily", "Daily"
    WEEKLY = "weekly", "Weekly"
    CUSTOM = "custom", "Custom (hours)"


class Schedule(TenantOwned):
    name = models.CharField(max_length=100)
    time_zone = models.CharField(max_length=64, default="UTC")
    description = models.TextField(blank=True)
    # Paged when a level names this schedule and nobody is on call (docs/oncall.md).
    fallback = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="oncall_schedule_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Layer(TenantOwned):
    """A rotation of members; where several layers have someone, the highest position wins."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    rotation = models.CharField(max_length=8, choices=Rotation.choices, default=Rotation.WEEKLY)
    shift_hours = models.PositiveIntegerField(
        default=24, help_text="The length of a custom rotation's shift, in hours."
    )
    # The first handoff: `rotation_start` at `handoff_time`, local time; member 1 starts then.
    rotation_start = models.DateField()
    handoff_time = models.TimeField()
    # Restrictions, local time: weekdays (0 Monday .. 6 Sunday; empty: every day) and a daily
    # window (both empty: all day; start after end: the window crosses midnight).
    restrict_days = models.JSONField(default=list, blank=True)
    restrict_start = models.TimeField(null=True, blank=True)
    restrict_end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "schedule", "position"], name="oncall_layer_unique_position"
            )
        ]

    def __str__(self) -> str:
        return self.name


class LayerMember(TenantOwned):
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="members")
    position = models.PositiveSmallIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "layer", "position"], name="oncall_member_unique_position"
            )
        ]


class Override(TenantOwned):
    """Someone covers a span: they are on call then, whatever the layers say."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["tenant", "schedule", "ends_at"], name="oncall_override_ends"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="oncall_override_positive",
            )
        ]
