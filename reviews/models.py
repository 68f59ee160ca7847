"""Post-incident reviews: what happened, why, and what the desk will do so it does not recur."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from incidents.models import Incident
from tenancy.models import TenantOwned


class ReviewState(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Review(TenantOwned):
    """One review per incident: a major incident's review covers its children too."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=12, choices=ReviewState.choices, default=ReviewState.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=150)
    summary = models.TextField(blank=True)
    customer_impact = models.TextField(blank=True)
    root_cause = models.TextField(blank=True)
    went_well = models.TextField(blank=True)
    went_badly = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "incident"], name="review_one_per_incident"),
        ]
        indexes = [models.Index(fields=["tenant", "state", "created_at"], name="review_list")]

    def __str__(self) -> str:
        return f"Review of {self.incident_id}"

    @property
    def is_published(self) -> bool:
        return self.state == ReviewState.PUBLISHED


class TimelineEntry(TenantOwned):
    """A moment of the incident as the review tells it: copied from the events, then edited."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField()
    text = models.TextField()
    internal = models.BooleanField(default=False)  # copied from an internal event or note

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["tenant", "review", "at"], name="review_timeline")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.text[:40]}"


class ActionItem(TenantOwned):
    """Something to do so it does not happen again; on the owner's desk until done."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(max_length=200)
    # Kept (owner cleared) if the user is ever deleted: the review's record outlives them.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_date = models.DateField()
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["tenant", "owner", "done", "due_date"], name="review_action_desk"),
            models.Index(fields=["tenant", "done", "due_date"], name="review_action_overdue"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return not self.done and self.due_date < timezone.localdate()
