"""Reads with business meaning for the agent desk: queues, their counts, pages and timelines.

Performance contract (see docs/desk.md): a queue page is one index range scan in the queue's
own sort order that stops after the page (keyset pagination, no OFFSET, no COUNT of the table);
the queue counts are capped, so each stops after COUNT_CAP index entries.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

from django.conf import settings
from django.db.models import (
    F,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils import timezone

from desk.search import search_filter
from escalation.models import Metric, Notification, SlaClock
from escalation.selectors.breaching import (
    BREACHING_ORDER,
    incidents_near_breach,
    incidents_near_breach_count,
)
from incidents.models import (
    AssignmentGroup,
    Attachment,
    Category,
    Comment,
    EventKind,
    GroupMember,
    Incident,
    IncidentContact,
    IncidentEvent,
    IncidentState,
    Participant,
    PriorityLevel,
    ResolutionCode,
)
from incidents.models.incident import OPEN_STATES
from tenancy.models import STAFF_ROLES, Membership, Tenant, User

PAGE_SIZE = 50
COUNT_CAP = 999  # counts above this show as "999+": exact backlog figures are the dashboards'

DEFAULT_ORDER = ("priority_rank", "reported_at", "id")
HISTORY_ORDER = ("-reported_at", "-id")
DATETIME_KEYS = {"reported_at", "sla_due"}

S = IncidentState


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str
    order: tuple[str, ...] = DEFAULT_ORDER
    note: str = ""


QUEUES: dict[str, Queue] = {
    q.slug: q
    for q in (
        Queue("mine", "My work"),
        Queue(
            "unassigned",
            "Unassigned",
            note="Nobody holds these yet: new incidents no rule has routed, and incidents "
            "escalated to your groups.",
        ),
        Queue("open", "All open"),
        Queue(
            "breaching",
            "Breaching soon",
            order=BREACHING_ORDER,
            note="Open incidents whose response or resolution clock has passed its first "
            "warning or breached, the soonest deadline first; breached ones lead.",
        ),
        Queue("on_hold", "On hold"),
        Queue("resolved", "Resolved, awaiting confirmation"),
        Queue(
            "history",
            "History",
            order=HISTORY_ORDER,
            note="Every incident, in any state (closed and cancelled too), newest first.",
        ),
    )
}
DEFAULT_QUEUE = "mine"


def agent_group_ids(*, tenant: Tenant, user: User) -> list[int]:
    return list(
        GroupMember.objects.for_tenant(tenant)
        .filter(user=user, group__is_active=True)
        .values_list("group_id", flat=True)
    )


def queue_condition(slug: str, *, user_id: int, group_ids: list[int]) -> Q:
    """Which incidents a queue holds; each condition implies one of the partial indexes."""
    if slug == "mine":
        return Q(state__in=OPEN_STATES, assignee_id=user_id)
    if slug == "unassigned":
        in_reach = Q(group__isnull=True) | Q(group_id__in=group_ids)
        return Q(state__in=OPEN_STATES, assignee__isnull=True) & in_reach
    if slug == "open":
        return Q(state__in=OPEN_STATES)
    if slug == "breaching":
        # Only a warned live clock: incidents_near_breach (a join, not a Q). Its incident is
        # open by the invariant of LIVE_CLOCK_CONDITION (a breached resolution clock is set
        # aside while resolved: escalation.clock_rules.set_aside). Filtering the state too made
        # the planner misjudge the join (tens of rows for thousands) and sort them all.
        return Q()
    if slug == "on_hold":
        return Q(state=S.ON_HOLD)
    if slug == "resolved":
        return Q(state=S.RESOLVED)
    if slug == "history":
        return Q()
    raise ValueError(f"unknown queue {slug!r}")


def queue_counts(*, tenant: Tenant, user_id: int, group_ids: list[int]) -> dict[str, str]:
    """Live size of every queue, as shown ("12", "999+"); one capped count per queue.

    COUNT over a LIMITed subquery stops after COUNT_CAP + 1 index entries, so a tenant with a
    huge backlog costs the same as one with a thousand open incidents.
    """
    base = Incident.objects.for_tenant(tenant)
    counts = {}
    for slug in QUEUES:
        if slug == "breaching":  # the incidents of its list, counted from their clocks
            n = incidents_near_breach_count(tenant_id=tenant.pk, cap=COUNT_CAP)
        else:
            qs = base.filter(queue_condition(slug, user_id=user_id, group_ids=group_ids))
            n = qs.values("id")[: COUNT_CAP + 1].count()
        counts[slug] = f"{COUNT_CAP}+" if n > COUNT_CAP else str(n)
    return counts


# --- filters --------------------------------------------------------------------------------
@dataclass
class QueueFilters:
    state: str = ""
    priority: int | None = None  # PriorityLevel id
    group: str = ""  # group id or "none"
    assignee: str = ""  # user id, "me" or "none"
    category: str = ""  # category id or "none"
    reported_from: date | None = None
    reported_to: date | None = None
    q: str = ""
    in_queue: bool = False  # search this queue only; a search reads every incident otherwise
    imported: str = ""  # "hide": born here only; "only": imported from another tool only

    @property
    def active(self) -> bool:
        return any(
            (
                self.state,
                self.priority,
                self.group,
                self.assignee,
                self.category,
                self.reported_from,
                self.reported_to,
                self.q,
                self.imported,
            )
        )


def _optional_fk(name: str, value: str) -> Q:
    if value == "none":
        return Q(**{f"{name}__isnull": True})
    return Q(**{f"{name}_id": int(value)})


def _day_start(day: date) -> datetime:
    # Dates are the tenant's calendar days: the middleware activated its time zone.
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def filter_condition(filters: QueueFilters, *, user_id: int) -> Q:
    cond = Q()
    if filters.state:
        cond &= Q(state=filters.state)
    if filters.priority:
        cond &= Q(priority_id=filters.priority)
    if filters.group:
        cond &= _optional_fk("group", filters.group)
    if filters.assignee == "me":
        cond &= Q(assignee_id=user_id)
    elif filters.assignee:
        cond &= _optional_fk("assignee", filters.assignee)
    if filters.category:
        cond &= _optional_fk("category", filters.category)
    if filters.reported_from:
        cond &= Q(reported_at__gte=_day_start(filters.reported_from))
    if filters.reported_to:
        cond &= Q(reported_at__lt=_day_start(filters.reported_to + timedelta(days=1)))
    if filters.imported:  # an imported incident keeps the number it had in its source tool
        imported = ~Q(source_number="")
        cond &= imported if filters.imported == "only" else ~imported
    return cond


# --- keyset pagination ----------------------------------------------------------------------
def encode_cursor(row: Incident, order: tuple[str, ...]) -> str:
    parts = []
    for name in order:
        value = getattr(row, name)
        if name in DATETIME_KEYS:
            value = int(value.timestamp() * 1_000_000)
        parts.append(str(value))
    return ".".join(parts)


def decode_cursor(text: str, order: tuple[str, ...]) -> tuple | None:
    """The sort key a cursor names, or None for anything malformed (the first page then)."""
    parts = (text or "").split(".")
    if len(parts) != len(order) or not all(re.fullmatch(r"\d{1,20}", p) for p in parts):
        return None
    values: list[object] = []
    for name, part in zip(order, parts, strict=True):
        number = int(part)
        if name in DATETIME_KEYS:
            try:
                values.append(datetime.fromtimestamp(number / 1_000_000, tz=UTC))
            except (OverflowError, OSError, ValueError):
                return None
        else:
            values.append(number)
    return tuple(values)


@dataclass
class QueuePage:
    rows: list[Incident]
    next_cursor: str | None = None
    prev_cursor: str | None = None


def keyset_page(
    qs: QuerySet[Incident],
    order: tuple[str, ...],
    *,
    after: str = "",
    before: str = "",
    size: int = PAGE_SIZE,
) -> QueuePage:
    """One page after (or before) a row's sort key.

    A row value comparison, (a, b, c) > (x, y, z), is one index range condition for PostgreSQL:
    the scan starts at the cursor and reads size + 1 entries. Rows that appear or vanish
    elsewhere never shift the page, so nothing is skipped or repeated, unlike OFFSET.

    An order of descending keys ("-reported_at", "-id": History, newest first) reads its index
    backwards: "after" is then the smaller keys.
    """
    names = tuple(name.removeprefix("-") for name in order)
    ascending = not order[0].startswith("-")
    later = TupleGreaterThan if ascending else TupleLessThan
    earlier = TupleLessThan if ascending else TupleGreaterThan
    key_after, key_before = decode_cursor(after, names), decode_cursor(before, names)
    columns = Tuple(*(F(name) for name in names))
    if key_before and not key_after:
        older = qs.filter(earlier(columns, key_before))
        backwards = (n.removeprefix("-") if n.startswith("-") else f"-{n}" for n in order)
        rows = list(older.order_by(*backwards)[: size + 1])
        has_more = len(rows) > size
        rows = rows[:size][::-1]
        return QueuePage(
            rows,
            next_cursor=encode_cursor(rows[-1], names) if rows else None,
            prev_cursor=encode_cursor(rows[0], names) if rows and has_more else None,
        )
    if key_after:
        qs = qs.filter(later(columns, key_after))
    rows = list(qs.order_by(*order)[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    return QueuePage(
        rows,
        next_cursor=encode_cursor(rows[-1], names) if has_more else None,
        prev_cursor=encode_cursor(rows[0], names) if key_after and rows else None,
    )


ROW_FIELDS = (
    "number",
    "title",
    "state",
    "version",
    "priority_rank",
    "reported_at",
    "updated_at",
    "hold_reason",
    "tenant_id",
    "parent_id",
    "priority_id",
    "group__name",
    "assignee__full_name",
    "assignee__email",
    "category__name",
    "reporter__full_name",
    "reporter__email",
    "contact_name",
)


CLOCK_FIELDS = (
    "incident_id",
    "metric",
    "state",
    "target_seconds",
    "warn_percents",
    "spent",
    "due_at",
    "checkpoints",
    "breached_at",
    "stopped_at",
)


def queue_queryset(
    *, tenant: Tenant, user: User, group_ids: list[int], queue: str, filters: QueueFilters
) -> QuerySet[Incident]:
    """The incidents of a queue with the agent's filters, unordered and unpaged."""
    # A test-only setting forgets the tenant filter here, to show the second wall (row-level
    # security, tenancy/rls.py) holds alone: tests/tenancy/test_rls.py. Never set otherwise.
    forget = getattr(settings, "TEST_QUEUE_FORGETS_TENANT", False)
    every: QuerySet[Incident] = (
        Incident.objects.all() if forget else Incident.objects.for_tenant(tenant)
    )
    qs = every.filter(
        queue_condition(queue, user_id=user.pk, group_ids=group_ids),
        filter_condition(filters, user_id=user.pk),
    )
    if filters.q:
        qs = search_filter(qs, filters.q, tenant=tenant)
    # The clocks the row shows: the resolution clock, and in "Breaching soon" both (either may
    # be the one due), the response clock first.
    shown = SlaClock.objects.for_tenant(tenant).only(*CLOCK_FIELDS).order_by("-metric")
    if queue == "breaching":
        qs = incidents_near_breach(qs, tenant_id=tenant.pk)
    else:
        shown = shown.filter(metric=Metric.RESOLUTION)
    # Priority levels are not joined: the row-level security policy on that small table would
    # make an inner join shrink the planner's estimate of a tenant's incidents (tens for
    # thousands), and it would sort them all instead of reading one page from the index.
    # incident_queue attaches them from the tenant's few levels instead (nullable joins, which
    # never shrink the estimate, stay).
    return (
        qs.select_related("group", "assignee", "category", "reporter")
        .only(*ROW_FIELDS)
        .prefetch_related(Prefetch("sla_clocks", shown, to_attr="shown_clocks"))
    )


def incident_queue(
    *,
    tenant: Tenant,
    user: User,
    group_ids: list[int],
    queue: str,
    filters: QueueFilters,
    after: str = "",
    before: str = "",
    size: int | None = None,
    levels: Iterable[PriorityLevel] = (),
) -> QueuePage:
    """One page of a queue with the agent's filters, in the queue's order, each row with its
    priority level: from `levels` (the page's filter choices, already read), the rest read."""
    qs = queue_queryset(tenant=tenant, user=user, group_ids=group_ids, queue=queue, filters=filters)
    order = QUEUES[queue].order
    page = keyset_page(qs, order, after=after, before=before, size=size or PAGE_SIZE)
    known = {level.pk: level for level in levels}
    missing = {row.priority_id for row in page.rows} - known.keys()
    if missing:
        known.update(PriorityLevel.objects.for_tenant(tenant).in_bulk(missing))
    for row in page.rows:
        # Always the tenant's own; a row that is not (only when a test makes the queue forget
        # its tenant filter) loads its level as the join did.
        if row.priority_id in known:
            row.priority = known[row.priority_id]
    return page


# --- choices for filters and forms ----------------------------------------------------------
class DeskChoices:
    """The tenant's groups, agents, categories... each fetched once per request, when used."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant

    @cached_property
    def groups(self) -> list[AssignmentGroup]:
        return list(AssignmentGroup.objects.for_tenant(self.tenant).filter(is_active=True))

    @cached_property
    def agents(self) -> list[User]:
        memberships = (
            Membership.objects.for_tenant(self.tenant)
            .filter(is_active=True, user__is_active=True, role__in=STAFF_ROLES)
            .select_related("user")
            .order_by("user__full_name", "user__email")
        )
        return [m.user for m in memberships]

    @cached_property
    def categories(self) -> list[Category]:
        return list(Category.objects.for_tenant(self.tenant).filter(is_active=True))

    @cached_property
    def resolution_codes(self) -> list[ResolutionCode]:
        return list(ResolutionCode.objects.for_tenant(self.tenant).filter(is_active=True))

    @cached_property
    def levels(self) -> list[PriorityLevel]:
        return list(PriorityLevel.objects.for_tenant(self.tenant).filter(is_active=True))


# --- the incident page ----------------------------------------------------------------------
@dataclass
class IncidentRelations:
    participants: list[Participant]
    contacts: list[IncidentContact]  # affected people without an account, by address
    children: list[Incident]
    duplicates: list[Incident]


def incident_relations(incident: Incident) -> IncidentRelations:
    scoped = Incident.objects.for_tenant(incident.tenant_id).only(
        # state and version always: django-fsm's mixin and the version lock read them on load
        "number",
        "title",
        "state",
        "version",
        "parent",
        "duplicate_of",
        "tenant",
    )
    return IncidentRelations(
        participants=list(
            Participant.objects.for_tenant(incident.tenant_id)
            .filter(incident=incident)
            .select_related("user")
            .order_by("joined_at")
        ),
        contacts=list(
            IncidentContact.objects.for_tenant(incident.tenant_id)
            .filter(incident=incident)
            .order_by("added_at")
        ),
        children=list(scoped.filter(parent=incident).order_by("number")),
        duplicates=list(scoped.filter(duplicate_of=incident).order_by("number")),
    )


@dataclass
class NotificationFold:
    """The notifications one event sent, told as one line ("Mailed 3 people")."""

    notifications: list[Notification] = field(default_factory=list)

    def _count(self, channel: str) -> int:
        # People, not rows: one person mailed twice by one event is one person.
        found = {(n.recipient_id or n.address.lower()) for n in self.notifications
                 if n.channel == channel}  # fmt: skip
        return len(found)

    @property
    def summary(self) -> str:
        mailed, belled = self._count("email"), self._count("inapp")
        hooks = sum(1 for n in self.notifications if n.channel == "webhook")
        parts = []
        if mailed:
            parts.append(f"mailed {mailed} {'person' if mailed == 1 else 'people'}")
        if belled:
            parts.append(f"told {belled} in the bell")
        if hooks:
            parts.append(f"{hooks} webhook {'delivery' if hooks == 1 else 'deliveries'}")
        return ", ".join(parts).capitalize()

    @property
    def failed(self) -> int:
        return sum(1 for n in self.notifications if n.status == "dead")


@dataclass
class TimelineEntry:
    at: datetime
    event: IncidentEvent | None = None
    comment: Comment | None = None
    attachments: list[Attachment] = field(default_factory=list)
    told: NotificationFold | None = None  # what this event sent, folded

    @property
    def internal(self) -> bool:
        return self.event is not None and not self.event.public


def incident_timeline(incident: Incident, *, newest_first: bool = False) -> list[TimelineEntry]:
    """Events (with the full text of replies and notes and their files), each with the
    notifications it sent folded into one line; oldest first unless `newest_first`. Four
    queries whatever the number of entries."""
    tenant_id = incident.tenant_id
    events = list(IncidentEvent.objects.for_tenant(tenant_id).filter(incident=incident))
    comments = {c.pk: c for c in Comment.objects.for_tenant(tenant_id).filter(incident=incident)}
    attachments = list(
        Attachment.objects.for_tenant(tenant_id).filter(incident=incident).order_by("id")
    )
    by_comment: dict[int, list[Attachment]] = {}
    by_id = {a.pk: a for a in attachments}
    for attachment in attachments:
        if attachment.comment_id:
            by_comment.setdefault(attachment.comment_id, []).append(attachment)
    entries = []
    for event in events:
        entry = TimelineEntry(at=event.created_at, event=event)
        if event.kind in (EventKind.COMMENT, EventKind.NOTE):
            entry.comment = comments.get(event.data.get("comment_id"))
            if entry.comment:
                entry.attachments = by_comment.get(entry.comment.pk, [])
        elif event.kind == EventKind.ATTACHMENT:
            found = by_id.get(event.data.get("attachment_id"))
            entry.attachments = [found] if found else []
        entries.append(entry)
    notifications = Notification.objects.for_tenant(tenant_id).filter(incident=incident)
    entries = _fold_notifications(entries, list(notifications.order_by("created_at", "id")))
    return entries[::-1] if newest_first else entries


def _fold_notifications(
    entries: list[TimelineEntry], notifications: list[Notification]
) -> list[TimelineEntry]:
    """Each notification goes with the event it followed: a service writes the event first and
    the outbox rows after it, in the same transaction (the SLA notifier likewise). A row with no
    event before it stands alone."""
    times = [e.at for e in entries]
    alone: list[TimelineEntry] = []
    for notification in notifications:
        index = bisect_right(times, notification.created_at) - 1
        if index >= 0:
            owner = entries[index]
        elif alone and alone[-1].at == notification.created_at:
            owner = alone[-1]
        else:
            owner = TimelineEntry(at=notification.created_at)
            alone.append(owner)
        if owner.told is None:
            owner.told = NotificationFold()
        owner.told.notifications.append(notification)
    return sorted(alone + entries, key=lambda e: e.at)
