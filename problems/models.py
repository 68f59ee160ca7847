"""A problem: the one cause behind several incidents, and its known error (root cause and
workaround) until a fix removes it.

The transition methods only move the state; problems/services/ checks the input, sets the other
fields, writes the ProblemEvent and registers side effects.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, transition

from incidents.models import AssignmentGroup, Category, Incident, Level, PriorityLevel
from tenancy.models import TenantOwned


class ProblemState(models.TextChoices):
    LOGGED = "logged", "Logged"
    INVESTIGATING = "investigating", "Investigating"
    KNOWN_ERROR = "known_error", "Known error"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


P = ProblemState
OPEN_PROBLEM_STATES = (P.LOGGED, P.INVESTIGATING, P.KNOWN_ERROR)
# A problem in these states has a fix recorded: incidents linked now are told so.
FIXED_STATES = (P.RESOLVED, P.CLOSED)


def format_problem_reference(number: int) -> str:
    """How people see a problem's number: PRB-000042."""
    return f"PRB-{number:06d}"


class Problem(TenantOwned):
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    state = FSMField(default=P.LOGGED, choices=P.choices, protected=True)

    impact = models.CharField(max_length=8, choices=Level.choices, default=Level.MEDIUM)
    urgency = models.CharField(max_length=8, choices=Level.choices, default=Level.MEDIUM)
    priority = models.ForeignKey(PriorityLevel, on_delete=models.PROTECT, related_name="+")
    # The category its incidents share: new incidents in it are offered the known error.
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_problems",
    )
    group = models.ForeignKey(
        AssignmentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    root_cause = models.TextField(blank=True)
    workaround = models.TextField(blank=True)
    fix = models.TextField(blank=True)
    change_reference = models.CharField(max_length=100, blank=True)
    cancel_reason = models.TextField(blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    known_error_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="problem_unique_number"),
        ]
        indexes = [
            models.Index(fields=["tenant", "state", "number"], name="problem_state"),
            models.Index(fields=["tenant", "category", "state"], name="problem_category"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return format_problem_reference(self.number)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_PROBLEM_STATES

    @property
    def is_known_error(self) -> bool:
        return self.state == P.KNOWN_ERROR

    @property
    def is_fixed(self) -> bool:
        return self.state in FIXED_STATES

    # --- the lifecycle ------------------------------------------------------------------
    @transition(field=state, source=P.LOGGED, target=P.INVESTIGATING)
    def investigate(self) -> None:
        pass

    @transition(field=state, source=[P.LOGGED, P.INVESTIGATING], target=P.KNOWN_ERROR)
    def known_error(self) -> None:
        pass

    @transition(field=state, source=[P.INVESTIGATING, P.KNOWN_ERROR], target=P.RESOLVED)
    def resolve(self) -> None:
        pass

    @transition(field=state, source=P.RESOLVED, target=P.CLOSED)
    def close(self) -> None:
        pass

    @transition(field=state, source=list(OPEN_PROBLEM_STATES), target=P.CANCELLED)
    def cancel(self) -> None:
        pass


class ProblemEventKind(models.TextChoices):
    LOGGED = "logged", "Logged"
    TRANSITION = "transition", "State changed"
    LINKED = "linked", "Linked an incident"
    UNLINKED = "unlinked", "Unlinked an incident"


EVENT_DID = {
    "investigate": "started investigating",
    "known_error": "recorded a known error",
    "resolve": "resolved it",
    "close": "closed it",
    "cancel": "cancelled it",
}


class ProblemEvent(TenantOwned):
    """Append-only: one line of the problem's timeline, written with its change."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=ProblemEventKind.choices)
    transition = models.CharField(max_length=20, blank=True)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor_kind = models.CharField(max_length=12)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["tenant", "problem", "created_at"], name="problemevent_timeline")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.transition} on {self.problem_id}"

    @property
    def sentence(self) -> str:
        """The timeline's line: who did what."""
        if self.kind == ProblemEventKind.TRANSITION:
            did = EVENT_DID.get(self.transition, self.transition)
        else:
            did = self.get_kind_display().lower()
        return (
            f"{self.actor_name} {did}" if self.kind != "logged" else f"{self.actor_name} logged it"
        )


class ProblemLink(TenantOwned):
    """An incident caused by the problem. One row per incident: an incident has at most one
    problem (the unique incident says so in the database, whatever races)."""

    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="links")
    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="problem_link")
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["tenant", "problem"], name="problemlink_problem")]

    def __str__(self) -> str:
        return f"{self.incident_id} -> {self.problem_id}"
