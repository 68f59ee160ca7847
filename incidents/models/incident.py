"""The incident and its five-step lifecycle (reporting, escalation, diagnosis, resolution, closure).

The transition methods only move the state; incidents/services/ checks who may call them, sets
the other fields, writes the event and registers side effects.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import ConcurrentTransition, ConcurrentTransitionMixin, FSMField, transition

from incidents.models.config import AssignmentGroup, Category, Level, PriorityLevel, ResolutionCode
from tenancy.models import TenantOwned


class IncidentState(models.TextChoices):
    REPORTED = "reported", "Reported"
    ESCALATED = "escalated", "Escalated"
    DIAGNOSING = "diagnosing", "In progress"
    ON_HOLD = "on_hold", "On hold"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


S = IncidentState
OPEN_STATES = (S.REPORTED, S.ESCALATED, S.DIAGNOSING, S.ON_HOLD)
FINAL_STATES = (S.CLOSED, S.CANCELLED)
# Open and being worked on: not waiting on hold.
ACTIVE_STATES = (S.REPORTED, S.ESCALATED, S.DIAGNOSING)


class HoldReason(models.TextChoices):
    AWAITING_CALLER = "awaiting_caller", "Awaiting the caller"
    AWAITING_VENDOR = "awaiting_vendor", "Awaiting a vendor"
    AWAITING_CHANGE = "awaiting_change", "Awaiting a change"
    AWAITING_PROBLEM = "awaiting_problem", "Awaiting a problem fix"


def _user_fk(related_name: str, **kwargs) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name=related_name,
        **kwargs,
    )


def format_reference(number: int) -> str:
    """How people see an incident's number: INC-000042."""
    return f"INC-{number:06d}"


class Incident(ConcurrentTransitionMixin, TenantOwned):
    # The report takes its number last and inserts the row with it (incidents.numbering): only
    # the report's own copy is ever unnumbered, until that insert.
    number = models.PositiveIntegerField(null=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    state = FSMField(default=S.REPORTED, choices=S.choices, protected=True)
    version = models.PositiveIntegerField(default=1)

    impact = models.CharField(max_length=8, choices=Level.choices, default=Level.MEDIUM)
    urgency = models.CharField(max_length=8, choices=Level.choices, default=Level.MEDIUM)
    priority = models.ForeignKey(PriorityLevel, on_delete=models.PROTECT, related_name="+")
    # Copied from the level so the hot queue index needs no join.
    priority_rank = models.PositiveSmallIntegerField()

    reporter = _user_fk("reported_incidents")
    contact_name = models.CharField(max_length=150, blank=True)
    contact_email = models.EmailField(blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    group = models.ForeignKey(
        AssignmentGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assignee = _user_fk("assigned_incidents")

    hold_reason = models.CharField(max_length=24, choices=HoldReason.choices, blank=True)
    resolution_code = models.ForeignKey(
        ResolutionCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_notes = models.TextField(blank=True)
    cause_category = models.CharField(max_length=100, blank=True)
    root_cause = models.TextField(blank=True)
    workaround = models.TextField(blank=True)
    cancel_reason = models.TextField(blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    satisfaction_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    satisfaction_comment = models.TextField(blank=True)

    reopen_count = models.PositiveIntegerField(default=0)
    reassignment_count = models.PositiveIntegerField(default=0)
    affected_count = models.PositiveIntegerField(default=1)

    reported_at = models.DateTimeField(default=timezone.now)
    escalated_at = models.DateTimeField(null=True, blank=True)
    # When the current assignee got it: auto-assignment breaks ties by the longest idle agent.
    assigned_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    diagnosing_at = models.DateTimeField(null=True, blank=True)
    on_hold_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    # The number in the tool an imported incident came from (e.g. ServiceNow's INC0000045);
    # empty for incidents born here. Unique per tenant: re-importing finds it instead of copying.
    source_number = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="incident_unique_number"),
            models.UniqueConstraint(
                fields=["tenant", "source_number"],
                condition=~models.Q(source_number=""),
                name="incident_unique_source_number",
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "state", "priority_rank", "reported_at", "id"],
                name="incident_queue",
            ),
            models.Index(fields=["tenant", "assignee", "state"], name="incident_assignee"),
            models.Index(fields=["tenant", "group", "state"], name="incident_group"),
            models.Index(fields=["tenant", "reporter", "updated_at"], name="incident_reporter"),
            models.Index(fields=["tenant", "updated_at"], name="incident_updated"),
            # The desk's queues read these in their own sort order, so a page is an index range
            # scan that stops after the page, whatever the size of the tenant's history.
            models.Index(
                fields=["tenant", "priority_rank", "reported_at", "id"],
                condition=models.Q(state__in=OPEN_STATES),
                name="incident_open_queue",
            ),
            # Serves "My work" (assignee = me) and "Unassigned" (assignee IS NULL).
            models.Index(
                fields=["tenant", "assignee", "priority_rank", "reported_at", "id"],
                condition=models.Q(state__in=OPEN_STATES),
                name="incident_open_assignee",
            ),
            # The desk's History (every incident, any state), newest first, read backwards.
            models.Index(fields=["tenant", "reported_at", "id"], name="incident_history"),
            # "Breaching soon" until SLA clocks exist: the oldest active incidents first.
            models.Index(
                fields=["tenant", "reported_at", "id"],
                condition=models.Q(state__in=ACTIVE_STATES),
                name="incident_active_age",
            ),
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Read from __dict__: touching a deferred column here would cost one query per row.
        self._loaded_version: int | None = self.__dict__.get("version")

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def reference(self) -> str:
        return format_reference(self.number) if self.number is not None else "INC-(new)"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    # --- optimistic locking -------------------------------------------------------------
    # Every save of a loaded incident is an UPDATE ... WHERE version = <loaded>: a write based
    # on a stale copy matches no row and raises ConcurrentTransition instead of overwriting.
    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            if self._loaded_version is None:
                self._loaded_version = self.version  # loaded with .only(): fetch it now
            self.version = self._loaded_version + 1
            self.updated_at = timezone.now()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version", "updated_at"}
        super().save(*args, **kwargs)
        self._loaded_version = self.version

    def refresh_from_db(self, *args, **kwargs) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._loaded_version = self.__dict__.get("version")

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        updated = super()._do_update(
            base_qs.filter(version=self._loaded_version),
            using,
            pk_val,
            values,
            update_fields,
            forced_update,
        )
        # The FSM mixin only sees the version-filtered queryset, so a row that exists with
        # another version would otherwise fall through to "no rows" (or a duplicate INSERT).
        if not updated and base_qs.filter(pk=pk_val).using(using).exists():
            raise ConcurrentTransition(
                f"{self.reference} changed since it was read (version {self._loaded_version})."
            )
        return updated

    # --- the lifecycle ------------------------------------------------------------------
    @transition(field=state, source=[S.REPORTED, S.ESCALATED, S.DIAGNOSING], target=S.ESCALATED)
    def escalate(self) -> None:
        pass

    @transition(field=state, source=S.ESCALATED, target=S.DIAGNOSING)
    def accept(self) -> None:
        pass

    @transition(field=state, source=[S.ESCALATED, S.DIAGNOSING], target=S.ON_HOLD)
    def hold(self) -> None:
        pass

    @transition(field=state, source=S.ON_HOLD, target=S.DIAGNOSING)
    def resume(self) -> None:
        pass

    @transition(field=state, source=[S.ESCALATED, S.DIAGNOSING, S.ON_HOLD], target=S.RESOLVED)
    def resolve(self) -> None:
        pass

    @transition(field=state, source=S.RESOLVED, target=S.DIAGNOSING)
    def reopen(self) -> None:
        pass

    @transition(field=state, source=S.RESOLVED, target=S.CLOSED)
    def close(self) -> None:
        pass

    @transition(field=state, source=list(OPEN_STATES), target=S.CANCELLED)
    def cancel(self) -> None:
        pass
