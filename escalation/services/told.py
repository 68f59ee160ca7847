"""Telling the desk's people what happened on an incident: in the bell and by mail.

Connected to incidents.hooks.incident_event (escalation/receivers.py), so it runs whatever the
path of the change (portal, desk, API, mail intake: all go through the incidents services) and
writes its outbox rows in the change's transaction. Who is told:
- the holder (the assignee, or the members of its group while nobody holds it), when the caller
  side replies in public, rejects a resolution (reopens it) or closes it rated below 3; the
  caller side is anyone who is not the desk's staff, and the reporter whatever their role;
- the agents who follow the incident, of every reply, note and state change;
- the staff members an internal note @mentions (escalation/services/mentions.py).
Nobody is told of their own act. Everyone told gets a bell entry; mail goes to those whose
choices (MailPreferences) take at least one of the reasons they are told for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from escalation.models import MailKind
from escalation.selectors.told import mail_takers, watchers_of
from escalation.services.mentions import mentioned_staff
from escalation.services.outbox import notification_enqueue
from incidents.models import GroupMember, HoldReason, Incident, IncidentState
from incidents.rules import is_reporter
from incidents.services.comments import CALLER_REPLIED
from tenancy.actors import Actor
from tenancy.models import STAFF_ROLES, Membership, User

COMMENTED, TRANSITIONED = "incident.commented", "incident.transitioned"
LOW_RATING = 3  # a close rated below this tells the holder


@dataclass
class News:
    """What happened, as the people told read it."""

    kind: str  # the outbox rows' kind
    headline: str  # "Rita Requester replied"
    text: str = ""  # the reply, note or reason, quoted in the mail
    holders: bool = (
        False  # the assignee (or the group while unassigned) is told, not only followers
    )
    mentioned: list[User] = field(default_factory=list)


@dataclass
class Told:
    """One person told, and why: the mail kinds (MailKind) and the first reason in words."""

    user: User
    kinds: list[str] = field(default_factory=list)
    why: str = ""


def is_caller_side(actor: Actor, incident: Incident) -> bool:
    """The reporter, an affected person or an external contact: not the desk answering."""
    return is_reporter(actor, incident) or not actor.is_agent_or_above


def incident_told(
    *,
    incident: Incident,
    event: str,
    actor: Actor,
    data: dict[str, Any] | None = None,
    config: Any = None,
) -> int:
    """Receiver of incident_event: tell the people concerned; returns how many were told."""
    if incident.number is None:  # a report in flight: nobody holds or follows it yet
        return 0
    news: News | None
    if event == COMMENTED:
        news = comment_news(incident, actor, data or {})
    elif event == TRANSITIONED:
        news = transition_news(incident, actor, data or {})
    else:
        return 0
    if news is None:
        return 0
    told = audience(incident, actor, news)
    tell(incident, actor, news, told)
    return len(told)


def comment_news(incident: Incident, actor: Actor, data: dict[str, Any]) -> News:
    body = str((data.get("comment") or {}).get("body", ""))
    if data.get("public") and is_caller_side(actor, incident):
        awaited = (
            incident.state == IncidentState.ON_HOLD
            and incident.hold_reason == HoldReason.AWAITING_CALLER
        )
        headline = f"{actor.name} answered (work resumes)" if awaited else f"{actor.name} replied"
        return News("told_reply", headline, body, holders=True)
    if data.get("public"):
        return News("told_reply", f"{actor.name} replied to the caller", body)
    mentioned = mentioned_staff(incident.tenant_id, body)
    return News("told_note", f"{actor.name} added an internal note", body, mentioned=mentioned)


def transition_news(incident: Incident, actor: Actor, data: dict[str, Any]) -> News | None:
    name, reason = data.get("transition"), str(data.get("reason") or "")
    if name == "resume" and actor.is_system and actor.name == CALLER_REPLIED:
        return None
    if name == "reopen" and is_caller_side(actor, incident):
        headline = f"{actor.name} says it is still broken (reopened)"
        return News("told_reopened", headline, reason, holders=True)
    rating = incident.satisfaction_rating
    if name == "close" and rating is not None and rating < LOW_RATING:
        headline = f"{actor.name} closed it with a rating of {rating}/5"
        return News("told_low_rating", headline, incident.satisfaction_comment, holders=True)
    before = _state_label(data.get("from_state"))
    headline = f"{actor.name} moved it from {before} to {incident.get_state_display()}"
    return News("told_state", headline, reason)


def _state_label(state: Any) -> str:
    return IncidentState(state).label if state in IncidentState.values else str(state)


def _staff(tenant_id: int, user_ids: set[int]) -> dict[int, User]:
    if not user_ids:
        return {}
    members = Membership.objects.for_tenant(tenant_id).filter(
        is_active=True, role__in=STAFF_ROLES, user_id__in=user_ids
    )
    users = User.objects.filter(is_active=True, id__in=members.values("user_id"))
    return {u.pk: u for u in users}


def _group_staff(incident: Incident) -> list[User]:
    if incident.group_id is None:
        return []
    in_group = GroupMember.objects.for_tenant(incident.tenant_id).filter(group_id=incident.group_id)
    ids = set(in_group.values_list("user_id", flat=True))
    return sorted(_staff(incident.tenant_id, ids).values(), key=lambda u: u.pk)


def audience(incident: Incident, actor: Actor, news: News) -> list[Told]:
    """Everyone to tell, once each, with every reason; never the actor."""
    watchers = watchers_of(incident)
    holder_id = incident.assignee_id if news.holders else None
    wanted = {u.pk for u in news.mentioned} | {u.pk for u in watchers}
    staff = _staff(incident.tenant_id, wanted | ({holder_id} if holder_id else set()))
    told: dict[int, Told] = {}

    def add(user: User, kind: str, why: str) -> None:
        if user.pk == actor.user_id or user.pk not in staff:
            return
        entry = told.setdefault(user.pk, Told(staff[user.pk], why=why))
        if kind not in entry.kinds:
            entry.kinds.append(kind)

    for user in news.mentioned:
        add(user, MailKind.MENTIONS, f"{actor.name} mentioned you in an internal note")
    if news.holders:
        if holder_id in staff:
            add(staff[holder_id], MailKind.MINE, "it is assigned to you")
        else:  # nobody holds it (or its holder has left the desk): its group's agents
            group = incident.group.name if incident.group else ""
            for user in _group_staff(incident):
                staff.setdefault(user.pk, user)
                add(user, MailKind.GROUP, f"it is unassigned in your group {group}")
    for user in watchers:
        add(user, MailKind.MINE, "you follow it (Unfollow on its page in the desk)")
    return list(told.values())


def tell(incident: Incident, actor: Actor, news: News, told: list[Told]) -> None:
    """A bell entry for each person told, and a mail for those who take it."""
    if not told:
        return
    tenant = incident.tenant
    takers = mail_takers(tenant.pk, {t.user.pk: t.kinds for t in told})
    path = reverse(
        "desk-incident-detail", kwargs={"tenant_slug": tenant.slug, "number": incident.number}
    )
    preferences = reverse("notifications-preferences", kwargs={"tenant_slug": tenant.slug})
    for person in told:
        mentioned = person.kinds[0] == MailKind.MENTIONS
        kind = "told_mention" if mentioned else news.kind
        headline = f"{actor.name} mentioned you in a note" if mentioned else news.headline
        send = partial(
            notification_enqueue,
            tenant=tenant,
            incident=incident,
            recipient=person.user,
            kind=kind,
            address=person.user.email,
            # As the incidents' own mails: the thread's token first, so it is not added twice.
            subject=f"[{incident.reference}] {headline}: {incident.title}",
        )
        send(channel="inapp", body=_short(news.text) or incident.title, link=path)
        if person.user.pk in takers:
            context = {"headline": headline, "incident": incident, "text": news.text,
                       "url": settings.SITE_URL + path, "why": person.why,
                       "preferences_url": settings.SITE_URL + preferences}  # fmt: skip
            send(channel="email", body=render_to_string("escalation/email/told.txt", context))


def _short(text: str, limit: int = 280) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
