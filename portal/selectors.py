"""What a requester may read: their own and joined incidents, and only their public parts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Q, QuerySet

from incidents.models import (
    Attachment,
    Comment,
    EventKind,
    HoldReason,
    Incident,
    IncidentEvent,
    IncidentState,
)
from incidents.models.incident import FINAL_STATES, OPEN_STATES
from incidents.selectors import incidents_reported_or_joined
from tenancy.models import Tenant, User

# What a requester's timeline shows; notes, SLA, notification and field events never appear.
TIMELINE_KINDS = (
    EventKind.REPORTED,
    EventKind.TRANSITION,
    EventKind.COMMENT,
    EventKind.ATTACHMENT,
    EventKind.JOINED,
)
SIMILAR_LIMIT = 5
# Words too common to suggest anything by themselves (PostgreSQL's stemmer drops its own).
COMMON_WORDS = (
    "the and for not can cannot with from this that does doesn don won isn work working "
    "any all our has have had was were are but you your again since"
)
STOP_WORDS = frozenset(COMMON_WORDS.split())


def my_incidents(*, tenant: Tenant, user: User, show: str) -> QuerySet[Incident]:
    """Newest activity first; `show` is open (anything not final), closed, or all."""
    incidents = incidents_reported_or_joined(tenant=tenant, user=user).select_related("priority")
    if show == "open":
        incidents = incidents.exclude(state__in=FINAL_STATES)
    elif show == "closed":
        incidents = incidents.filter(state__in=FINAL_STATES)
    return incidents.order_by("-updated_at", "-id")


def similar_open_incidents(*, tenant: Tenant, text: str) -> list[Incident]:
    """Open incidents of the tenant whose title looks like `text` (as the reporter types it)."""
    words = re.findall(r"\w+", text.lower())
    if len("".join(words)) < 3:
        return []
    incidents: QuerySet[Incident] = Incident.objects.for_tenant(tenant).filter(
        state__in=OPEN_STATES
    )
    if settings.IS_POSTGRES:
        incidents = _ranked_postgres(incidents, text, words)
    else:
        # The embedded SQLite default has no text search: any longer word of the title matches.
        long_words = [w for w in words if len(w) >= 3 and w not in STOP_WORDS] or words
        match = Q()
        for word in long_words:
            match |= Q(title__icontains=word)
        incidents = incidents.filter(match).order_by("-updated_at")
    return list(incidents[:SIMILAR_LIMIT])


def _ranked_postgres(incidents: QuerySet[Incident], text: str, words: list[str]) -> QuerySet:
    from django.contrib.postgres.search import (
        SearchQuery,
        SearchRank,
        SearchVector,
        TrigramWordSimilarity,
    )

    # Any word may match (OR), the last one as a prefix since the reporter is still typing it;
    # trigram similarity catches typos and spellings the stemmer does not ("wifi", "wi-fi").
    terms = " | ".join([*words[:-1], f"{words[-1]}:*"])
    query = SearchQuery(terms, search_type="raw", config="english")
    vector = SearchVector("title", weight="A", config="english") + SearchVector(
        "description", weight="D", config="english"
    )
    return (
        incidents.annotate(
            rank=SearchRank(vector, query), similarity=TrigramWordSimilarity(text, "title")
        )
        .filter(Q(rank__gt=0.01) | Q(similarity__gt=0.4))
        .order_by("-similarity", "-rank", "-updated_at")
    )


@dataclass
class Entry:
    """One line of a requester's timeline."""

    when: datetime
    kind: str
    actor: str
    text: str = ""
    body: str = ""
    files: list[Attachment] = field(default_factory=list)


def public_timeline(
    *, incident: Incident, viewer: User | None, viewer_email: str = "", newest_first: bool = False
) -> list[Entry]:
    """The public story of an incident in four queries, however long it is, as `viewer` sees
    it; a contact without an account (a follow link) is `viewer` None with their address.
    Oldest first unless `newest_first` (the reader's choice, ?order=newest)."""
    events = list(
        IncidentEvent.objects.for_tenant(incident.tenant_id)
        .filter(incident=incident, public=True, kind__in=TIMELINE_KINDS)
        .order_by("created_at", "id")
    )
    comments = {
        c.pk: c
        for c in Comment.objects.for_tenant(incident.tenant_id).filter(
            incident=incident, public=True
        )
    }
    files = list(
        Attachment.objects.for_tenant(incident.tenant_id).filter(incident=incident, public=True)
    )
    by_id = {f.pk: f for f in files}
    by_comment: dict[int, list[Attachment]] = {}
    for f in files:
        if f.comment_id:
            by_comment.setdefault(f.comment_id, []).append(f)
    me = Viewer(viewer.pk if viewer else None, (viewer.email if viewer else viewer_email).lower())
    entries = [_entry(e, incident, me, comments, by_id, by_comment) for e in events]
    found = [e for e in entries if e is not None]
    return found[::-1] if newest_first else found


@dataclass(frozen=True)
class Viewer:
    """Who reads the timeline: a user, or a contact known only by their address."""

    user_id: int | None
    email: str


def _entry(
    event: IncidentEvent,
    incident: Incident,
    viewer: Viewer,
    comments: dict[int, Comment],
    files: dict[int, Attachment],
    by_comment: dict[int, list[Attachment]],
) -> Entry | None:
    mine = viewer.user_id is not None and event.actor_user_id == viewer.user_id
    actor = "You" if mine else event.actor_name
    entry = Entry(when=event.created_at, kind=event.kind, actor=actor)
    if event.kind == EventKind.REPORTED:
        entry.text = "reported the incident"
    elif event.kind == EventKind.COMMENT:
        comment = comments.get(event.data.get("comment_id"))
        if comment is None:
            return None  # a reply that is not public is never shown, whatever its event says
        entry.text, entry.body = "wrote", comment.body
        entry.files = by_comment.get(comment.pk, [])
    elif event.kind == EventKind.ATTACHMENT:
        attachment = files.get(event.data.get("attachment_id"))
        if attachment is None:
            return None
        entry.text, entry.files = "attached a file", [attachment]
    elif event.kind == EventKind.JOINED:
        who = event.data.get("user") or event.data.get("contact") or ""
        mine = bool(viewer.email) and who.lower() == viewer.email
        entry.actor = "You" if mine else "Someone else"
        entry.text = "joined: this is your problem too" if mine else "has the same problem"
    else:
        entry.text, entry.body = transition_words(event)
    return entry


def transition_words(event: IncidentEvent) -> tuple[str, str]:
    """What a state change means to the person who reported it, and what to show under it."""
    data, reason = event.data or {}, event.reason
    match event.transition:
        case "escalate":
            return f"passed it to {data.get('group') or 'an agent'}", ""
        case "accept":
            return "started working on it", ""
        case "hold" if data.get("hold_reason") == HoldReason.AWAITING_CALLER:
            return "asked for your answer", reason
        case "hold":
            label = HoldReason(data["hold_reason"]).label if data.get("hold_reason") else ""
            return f"put it on hold: {label.lower() or 'waiting'}", ""
        case "resume":
            return "resumed work", ""
        case "resolve":
            return "resolved it", ""
        case "reopen":
            return "reopened it", reason
        case "close":
            rating = data.get("rating")
            return ("closed it" + (f", rating the help {rating}/5" if rating else "")), ""
        case "cancel":
            original = data.get("duplicate_of")
            return "cancelled it", reason or (f"Duplicate of {original}" if original else "")
    return "changed it", ""


def state_in_words(incident: Incident) -> str:
    """The state as the reporter would say it."""
    group = incident.group.name if incident.group else ""
    match incident.state:
        case IncidentState.REPORTED:
            return "Received: waiting for the service desk to pick it up"
        case IncidentState.ESCALATED:
            return f"With {group or 'the service desk'}: waiting for an agent"
        case IncidentState.DIAGNOSING:
            return "In progress: someone is working on it"
        case IncidentState.ON_HOLD if incident.hold_reason == HoldReason.AWAITING_CALLER:
            return "Waiting for your reply"
        case IncidentState.ON_HOLD:
            return f"On hold: {incident.get_hold_reason_display().lower()}"
        case IncidentState.RESOLVED:
            return "Resolved: waiting for the reporter to confirm"
        case IncidentState.CLOSED:
            return "Closed"
    return "Cancelled"
