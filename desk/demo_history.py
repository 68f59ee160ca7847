"""The living demo of `make run`: acme's last 90 days of work, so a newcomer finds queues,
clocks and dashboards with something in them.

Every incident is written through the incidents services (report, escalate, accept, replies
and notes, hold and resume, resolve, reopen, close with a rating, cancel, a major incident's
children) with the clock moved back to each step's time (time_machine), so events, SLA clocks,
climbs and mail rows are what the desk itself would have written that day. A story stops at
the first step that would lie in the future, which leaves the recent incidents open in every
state. The notifier tells the people of each step's alerts at that step's time. The sweep then
fires what fell due (breaches of the incidents still open) and the dashboards' rollups are
rebuilt. Seeded: every load writes the same history.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from escalation.services.alerts import alerts_notify_pending
from escalation.services.sweep import sweep_due
from incidents import services
from incidents.models import AssignmentGroup, Category, GroupMember, HoldReason, Incident
from incidents.services.parent import incident_link_children
from tenancy.actors import Actor
from tenancy.models import Membership, Tenant, User

SEED = 2026
DAYS = 90
COUNT = 300
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)

# (category slug, title, description): what acme's people report.
REPORTS = [
    ("network", "VPN drops every few minutes", "Working from home, the VPN disconnects."),
    ("network", "Wi-Fi slow on the second floor", "Pages take ages to load near the kitchen."),
    ("network", "Cannot reach the file server", "Mapped drive S: says the path is not found."),
    ("email", "Outlook keeps asking for my password", "Since this morning, every few minutes."),
    ("email", "Shared mailbox missing", "The sales@ mailbox vanished from my folder list."),
    ("email", "Emails to a customer bounce", "Replies to orders@ come back undeliverable."),
    ("hardware", "Laptop will not charge", "The light on the charger is off."),
    ("hardware", "Printer on floor 3 jams", "Every second page jams in tray 2."),
    ("hardware", "Second monitor flickers", "The external screen goes black now and then."),
    ("hardware", "Keyboard keys stuck", "Several keys on my laptop keyboard do not respond."),
    ("software", "CRM crashes when saving a contact", "Error 500 after I press Save."),
    ("software", "Excel add-in does not load", "The reporting tab disappeared after the update."),
    ("software", "Need Visio installed", "For the process maps of the audit."),
    ("software", "Timesheet app shows last month", "The week picker is stuck in October."),
    ("access", "Locked out of my account", "Too many wrong passwords after the holiday."),
    ("access", "Access to the finance share", "New in the team, need read access."),
    ("access", "Badge does not open the car park", "The barrier stays down since Monday."),
]
IMPACT_URGENCY = [("low", "low"), ("medium", "medium"), ("medium", "high"), ("high", "high")]
IMPACT_WEIGHTS = [3, 5, 3, 1]
REPLIES = [
    "Thanks for reporting this, I am looking into it now.",
    "Could you tell me when it last worked, and restart once to check?",
    "I have reproduced it; working on a fix.",
]
NOTES = [
    "Same symptom as last week's ticket; checking the logs on the gateway.",
    "Vendor case opened, reference VX-4411.",
    "@lead@acme.test FYI, this one may need a change request.",
]
CALLER_ANSWERS = ["It happened again at 10:15 after a restart.", "Yes, still the same here."]
FIXES = [
    ("solved-permanently", "Replaced the faulty part and tested with the caller."),
    ("solved-workaround", "Cleared the cached credentials; a permanent fix is planned."),
    ("user-error", "Walked the caller through the settings; works now."),
    ("third-party", "The provider fixed the fault on their side."),
]
RATINGS = [5, 5, 5, 4, 4, 4, 3, 2, 1]


@dataclass
class Cast:
    """Acme's demo people as actors, and its groups and categories."""

    tenant: Tenant
    actors: dict[str, Actor]
    users: dict[str, User]
    groups: dict[str, AssignmentGroup]
    categories: dict[str, Category]

    @classmethod
    def of(cls, tenant: Tenant) -> Cast:
        members = Membership.objects.for_tenant(tenant).select_related("user", "tenant")
        by_email = {m.user.email: m for m in members}
        return cls(
            tenant,
            {email: Actor.member(m) for email, m in by_email.items()},
            {email: m.user for email, m in by_email.items()},
            {g.slug: g for g in AssignmentGroup.objects.for_tenant(tenant)},
            {c.slug: c for c in Category.objects.for_tenant(tenant)},
        )

    def actor(self, email: str) -> Actor:
        return self.actors[email]

    def agents_of(self, incident: Incident) -> list[str]:
        """The agents who may take it: its group's (the service desk's when it has none)."""
        group_id = incident.group_id or self.groups["service-desk"].pk
        members = GroupMember.objects.for_tenant(self.tenant).filter(group_id=group_id)
        return sorted(members.values_list("user__email", flat=True))


@contextmanager
def _at(when: datetime) -> Iterator[None]:
    import time_machine  # a dev dependency (`make run` installs it): only the demo moves time

    with time_machine.travel(when, tick=False):
        yield
        alerts_notify_pending()  # as the notifier would have, a moment later: dated that day


class Story:
    """One incident's life, step by step at moving times, stopped before `now`."""

    def __init__(self, cast: Cast, rng: random.Random, start: datetime, now: datetime) -> None:
        self.cast, self.rng, self.at, self.now = cast, rng, start, now
        self.incident: Incident | None = None

    @property
    def current(self) -> Incident:
        assert self.incident is not None, "a story starts with its report"
        return self.incident

    def begin(self, report: Callable[[], Incident]) -> Incident:
        with _at(self.at):
            self.incident = report()
        return self.incident

    def step(self, after: timedelta, do: Callable[[Incident], Any]) -> bool:
        """Run `do(incident)` at `after` past the previous step; False (and nothing done) once
        that lies in the future: the story ends there."""
        when = self.at + after
        if when >= self.now - MINUTE:
            return False
        self.at = when
        with _at(when):
            result = do(self.current)
        if isinstance(result, Incident):
            self.incident = result
        return True

    def minutes(self, low: int, high: int) -> timedelta:
        return timedelta(minutes=self.rng.randint(low, high))


def _report(story: Story, rita: Actor) -> Incident:
    slug, title, description = story.rng.choice(REPORTS)
    impact, urgency = story.rng.choices(IMPACT_URGENCY, IMPACT_WEIGHTS)[0]
    return story.begin(
        lambda: services.incident_report(
            actor=rita,
            title=title,
            description=description,
            impact=impact,
            urgency=urgency,
            category=story.cast.categories[slug],
        )
    )


def _work(story: Story) -> bool:
    """Routed (or escalated by the lead), accepted, answered: False when the story ended."""
    cast, rng = story.cast, story.rng
    lead = cast.actor("lead@acme.test")
    if story.current.group_id is None and not story.step(
        story.minutes(5, 90),
        lambda i: services.incident_escalate(
            incident=i, actor=lead, group=cast.groups["service-desk"]
        ),
    ):
        return False
    agent = cast.actor(rng.choice(cast.agents_of(story.current)))
    # Now and then nobody takes it for hours: the response clock breaches.
    wait = story.minutes(240, 600) if rng.random() < 0.15 else story.minutes(3, 50)
    if not story.step(wait, lambda i: services.incident_accept(incident=i, actor=agent)):
        return False
    reply = rng.choice(REPLIES)
    if not story.step(
        story.minutes(2, 30),
        lambda i: services.comment_add(incident=i, actor=agent, body=reply),
    ):
        return False
    if rng.random() < 0.4:
        note = rng.choice(NOTES)
        return story.step(
            story.minutes(5, 120),
            lambda i: services.comment_add(incident=i, actor=agent, body=note, public=False),
        )
    return True


def _wait_for_caller(story: Story, agent: Actor, rita: Actor) -> bool:
    held = story.step(
        story.minutes(10, 240),
        lambda i: services.incident_hold(
            incident=i,
            actor=agent,
            hold_reason=HoldReason.AWAITING_CALLER,
            note="Could you try once more and tell me what you see?",
        ),
    )
    if not held:
        return False
    answer = story.rng.choice(CALLER_ANSWERS)
    return story.step(  # the caller's reply resumes it
        story.minutes(30, 1440),
        lambda i: services.comment_add(incident=i, actor=rita, body=answer),
    )


def _resolve(story: Story, agent: Actor) -> bool:
    code, notes = story.rng.choice(FIXES)
    # Most within a day; some take a week and breach the resolution target.
    took = story.minutes(4000, 10000) if story.rng.random() < 0.15 else story.minutes(20, 900)
    return story.step(
        took,
        lambda i: services.incident_resolve(
            incident=i, actor=agent, resolution_code=code, resolution_notes=notes
        ),
    )


def _confirm(story: Story, agent: Actor, rita: Actor) -> None:
    """The caller reopens now and then, and closes with a rating (or says nothing)."""
    rng = story.rng
    if rng.random() < 0.08:
        reopened = story.step(
            story.minutes(60, 600),
            lambda i: services.incident_reopen(
                incident=i, actor=rita, reason="It is broken again."
            ),
        )
        if not reopened or not _resolve(story, agent):
            return
    if rng.random() < 0.15:  # never answered: the confirmation window closes it, as beat does
        tenant = story.cast.tenant
        window = Actor.system(tenant, "Confirmation window")
        days = tenant.confirmation_window_days
        story.step(
            timedelta(days=days + 2),  # business days: a weekend at most in between
            lambda i: services.incident_close(
                incident=i, actor=window, comment=f"No answer within {days} business days."
            ),
        )
        return
    rating = rng.choice(RATINGS)
    comment = "" if rating >= 4 else "It took too long and I had to chase it."
    story.step(
        story.minutes(30, 2880),
        lambda i: services.incident_close(incident=i, actor=rita, rating=rating, comment=comment),
    )


def _live(cast: Cast, rng: random.Random, start: datetime, now: datetime) -> Incident:
    story = Story(cast, rng, start, now)
    rita = cast.actor("requester@acme.test")
    _report(story, rita)
    fate = rng.random()
    if fate < 0.05:  # a duplicate or a mistake, cancelled by the service desk
        story.step(
            story.minutes(10, 300),
            lambda i: services.incident_cancel(
                incident=i,
                actor=cast.actor("agent@acme.test"),
                reason="Reported twice; the other incident carries on.",
            ),
        )
        return story.current
    if not _work(story):
        return story.current
    holder = story.current.assignee
    agent = cast.actor(holder.email if holder else "agent@acme.test")
    # Left waiting or forgotten: the last three weeks only, a desk clears its older ones.
    fate = fate if now - start < 21 * DAY else 1.0
    if fate < 0.08:  # stuck with a vendor: still on hold, its clocks paused
        story.step(
            story.minutes(60, 600),
            lambda i: services.incident_hold(
                incident=i, actor=agent, hold_reason=HoldReason.AWAITING_VENDOR
            ),
        )
        return story.current
    if fate < 0.11:  # forgotten in diagnosis: its resolution clock breaches
        return story.current
    if rng.random() < 0.3 and not _wait_for_caller(story, agent, rita):
        return story.current
    if _resolve(story, agent):
        _confirm(story, agent, rita)
    return story.current


def _major(cast: Cast, now: datetime) -> Incident:
    """This morning's outage: a major incident, the calls it caused linked as its children."""
    rita, lead = cast.actor("requester@acme.test"), cast.actor("lead@acme.test")
    start = now - 3 * HOUR
    with _at(start):
        parent = services.incident_report(
            actor=rita,
            title="Email down for the whole office",
            description="Nobody can send or receive mail since 8:00.",
            impact="high",
            urgency="high",
            category=cast.categories["email"],
        )
    children = []
    for n, title in enumerate(
        ["Cannot send mail", "Outlook says disconnected", "Mail stuck in the outbox"], start=1
    ):
        with _at(start + n * 7 * MINUTE):
            children.append(
                services.incident_report(actor=rita, title=title, category=cast.categories["email"])
            )
    with _at(start + 30 * MINUTE):
        parent = services.incident_accept(incident=parent, actor=lead)
    with _at(start + 35 * MINUTE):
        incident_link_children(incident=parent, actor=lead, children=children)
    with _at(start + 40 * MINUTE):
        services.comment_add(
            incident=parent,
            actor=lead,
            body="The mail gateway is down; we are working with the provider. Updates here.",
        )
    return parent


def _just_in(cast: Cast, now: datetime) -> None:
    """This week's three that every demo shows, whatever the dice said: one waiting for a
    vendor, a report nobody has routed yet, and one routed that nobody took."""
    rita, alice = cast.actor("requester@acme.test"), cast.actor("agent@acme.test")
    held = Story(cast, random.Random(SEED), now - 2 * DAY, now)
    held.begin(
        lambda: services.incident_report(
            actor=rita,
            title="Scanner driver missing after the update",
            category=cast.categories["hardware"],
        )
    )
    held.step(25 * MINUTE, lambda i: services.incident_accept(incident=i, actor=alice))
    held.step(
        2 * HOUR,
        lambda i: services.incident_hold(
            incident=i,
            actor=alice,
            hold_reason=HoldReason.AWAITING_VENDOR,
            note="The vendor's driver for the new release is due this week.",
        ),
    )
    with _at(now - 12 * MINUTE):
        services.incident_report(
            actor=rita,
            title="New starter needs an account",
            description="Jo starts on Monday in accounts.",
            category=cast.categories["access"],
        )
    with _at(now - 4 * MINUTE):
        services.incident_report(
            actor=rita,
            title="Projector in room 2 shows no signal",
            category=cast.categories["hardware"],
        )


def demo_history_load(*, count: int = COUNT, now: datetime | None = None) -> int:
    """Write acme's history (once: a tenant that has incidents is left alone); returns how many
    incidents were written."""
    tenant = Tenant.objects.get(slug="acme")
    if Incident.objects.for_tenant(tenant).exists():
        return 0
    now = now or timezone.now()
    cast, rng = Cast.of(tenant), random.Random(SEED)
    starts = sorted(now - timedelta(seconds=rng.uniform(0, DAYS * 86400)) for _ in range(count))
    # One transaction: SQLite would otherwise sync to disk after each of the ~1,500 steps.
    with transaction.atomic():
        written = [_live(cast, rng, start, now) for start in starts]
        _major(cast, now)
        _just_in(cast, now)
        sweep_due(now=now)  # the breaches and escalation steps of what is still open
    call_command("rebuild_dashboard_rollups", tenant=tenant.slug, stdout=io.StringIO())
    return len(written) + 4 + 3  # the major incident, its three children, this week's three
