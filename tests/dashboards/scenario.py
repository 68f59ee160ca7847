"""A small desk history, built through the incident services at set instants (time-machine),
whose right answers are worked out by hand in the tests.

acme's "Business hours" calendar: UTC, Monday to Friday 09:00-17:00. Targets (SLA defaults):
medium 4 h response / 24 business hours resolution; high 30 min / 8 business hours.

The period: Monday 30 November to Sunday 6 December 2026. The dashboard is viewed on Friday
11 December 2026 at 12:00.

    inc  priority group      reported   acknowledged      resolved                closed
    I1   medium   Service    Mon 09:00  09:05 alice       Mon 10:00               Mon 15:00 (5)
    I2   medium   Service    Mon 10:00  10:10 alice       11:00, reopened 11:30,  Tue 10:00 (4)
                                                          resolved again 12:00
    I3   medium   Service    Mon 11:00  11:20 alice       Mon 14:00               Tue 10:00 (2)
    I4   high     Service    Mon 12:00  12:40 bob (late)  Mon 16:00               Tue 10:00 (-)
    I5   medium   Messaging  Mon 13:00  14:00 bob         Tue 11:00               not (resolved)
    I6   high     Service    Mon 09:00  09:10 alice       Tue 12:00 (late: due    Tue 15:00 (3)
                                                          Mon 17:00)
Open on Friday 11 December 12:00:
    O1 high escalated (Fri 08:00), O2 medium diagnosing alice (Wed 9th 12:00), O2b medium
    diagnosing alice (Thu 10th 12:00, exactly a day old), O3 low on hold bob (Sat 5th 12:00),
    O4 medium reported, no category (Mon 30th 08:00), O5 medium diagnosing dan (Tue 8th 10:00;
    dan is then deactivated), O6 medium diagnosing ivan (Tue 8th 11:00; ivan's user is then
    made inactive, as imported people are), O8 medium escalated (Wed 25 Nov 10:00).
globex (charlie) has its own incidents in the same days: none of them may count for acme.

The SLA sweep runs at the end (Friday 12:00). Clocks that breached unattended: O4's response
(due Mon 13:00) and resolution (24 business hours from Mon 09:00: Wed 2 Dec 17:00), O8's
resolution (Wed 25 Nov 10:00 + 24 business hours: Mon 30 Nov 10:00), and outside the period
O8's response, O1's response, O5's and O6's resolution.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import time_machine

from dashboards.services import rollups_refresh
from escalation.services.sweep import sweep_due
from incidents import services
from incidents.models import AssignmentGroup, Category, Incident
from tenancy.models import Membership, Role, User
from tenancy.services import membership_deactivate
from tests.factories import CategoryFactory, GroupFactory, UserFactory, add_to_group

if TYPE_CHECKING:
    from tests.conftest import People

PERIOD = (date(2026, 11, 30), date(2026, 12, 6))
VIEWED_AT = datetime(2026, 12, 11, 12, 0, tzinfo=UTC)
MIN, HOUR = 60, 3600


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def mon(hour: int, minute: int = 0) -> datetime:
    return at(30, hour, minute, month=11)


def tue(hour: int, minute: int = 0) -> datetime:
    return at(1, hour, minute)


@dataclass
class Scenario:
    people: People
    messaging: AssignmentGroup
    email: Category
    dan: User
    ivan: User
    incidents: dict[str, Incident] = field(default_factory=dict)


class Desk:
    """Drives the services at given instants."""

    def __init__(self, people, traveller) -> None:
        self.people = people
        self.traveller = traveller

    def actor(self, user, tenant=None):
        return self.people.actor(user, tenant)

    def report(
        self, when: datetime, *, level: str = "medium", category="network", by=None, tenant=None
    ) -> Incident:
        self.traveller.move_to(when)
        category = self.people.network if category == "network" else category
        return services.incident_report(
            actor=self.actor(by or self.people.rita, tenant),
            title=f"Trouble at {when:%d %H:%M}",
            impact=level,
            urgency=level,
            category=category,
        )

    def accept(self, incident: Incident, when: datetime, agent) -> Incident:
        self.traveller.move_to(when)
        return services.incident_accept(incident=incident, actor=self.actor(agent))

    def resolve(self, incident: Incident, when: datetime, agent) -> Incident:
        self.traveller.move_to(when)
        return services.incident_resolve(
            incident=incident,
            actor=self.actor(agent),
            resolution_code="solved-permanently",
            resolution_notes="Restarted the service; checked with the caller.",
        )

    def reopen(self, incident: Incident, when: datetime) -> Incident:
        self.traveller.move_to(when)
        return services.incident_reopen(
            incident=incident, actor=self.actor(self.people.rita), reason="Down again"
        )

    def close(self, incident: Incident, when: datetime, rating: int | None) -> Incident:
        self.traveller.move_to(when)
        return services.incident_close(
            incident=incident, actor=self.actor(self.people.rita), rating=rating
        )

    def hold(self, incident: Incident, when: datetime, agent, reason: str) -> Incident:
        self.traveller.move_to(when)
        return services.incident_hold(
            incident=incident, actor=self.actor(agent), hold_reason=reason
        )


def _agent(people: People, email: str, name: str) -> User:
    user = UserFactory.create(email=email, full_name=name)
    Membership.objects.create(tenant=people.acme, user=user, role=Role.AGENT)
    add_to_group(people.group, user)
    return user


def _history(desk: Desk, s: Scenario) -> None:
    """The incidents of the period (I1-I6)."""
    p = s.people
    alice, bob = p.alice, p.bob
    i1 = desk.report(mon(9))
    desk.accept(i1, mon(9, 5), alice)
    desk.resolve(i1, mon(10), alice)
    i2 = desk.report(mon(10))
    desk.accept(i2, mon(10, 10), alice)
    desk.resolve(i2, mon(11), alice)
    desk.reopen(i2, mon(11, 30))
    desk.resolve(i2, mon(12), alice)
    i3 = desk.report(mon(11))
    desk.accept(i3, mon(11, 20), alice)
    desk.resolve(i3, mon(14), alice)
    i4 = desk.report(mon(12), level="high")
    desk.accept(i4, mon(12, 40), bob)
    desk.resolve(i4, mon(16), bob)
    i5 = desk.report(mon(13), category=s.email)
    desk.accept(i5, mon(14), bob)
    desk.resolve(i5, tue(11), bob)
    i6 = desk.report(mon(9), level="high")
    desk.accept(i6, mon(9, 10), alice)
    desk.resolve(i6, tue(12), alice)
    desk.close(i1, mon(15), 5)
    for incident, rating in ((i2, 4), (i3, 2), (i4, None)):
        desk.close(incident, tue(10), rating)
    desk.close(i6, tue(15), 3)
    s.incidents.update(I1=i1, I2=i2, I3=i3, I4=i4, I5=i5, I6=i6)


def _open(desk: Desk, s: Scenario) -> None:
    """What is still open when the dashboard is viewed."""
    p = s.people
    o8 = desk.report(at(25, 10, month=11))
    o4 = desk.report(mon(8), category=None)
    o3 = desk.report(at(5, 12), level="low")
    desk.accept(o3, at(5, 12, 30), p.bob)
    desk.hold(o3, at(5, 13), p.bob, "awaiting_vendor")
    o5 = desk.report(at(8, 10))
    desk.accept(o5, at(8, 10, 5), s.dan)
    o6 = desk.report(at(8, 11))
    desk.accept(o6, at(8, 11, 5), s.ivan)
    o2 = desk.report(at(9, 12))
    desk.accept(o2, at(9, 12, 5), p.alice)
    o2b = desk.report(at(10, 12))
    desk.accept(o2b, at(10, 12, 5), p.alice)
    o1 = desk.report(at(11, 8), level="high")
    desk.traveller.move_to(at(11, 9))
    membership_deactivate(
        actor=desk.actor(p.ada), membership=Membership.objects.get(tenant=p.acme, user=s.dan)
    )
    s.ivan.is_active = False  # imported history names people who are no longer users
    s.ivan.save(update_fields=["is_active"])
    s.incidents.update(O1=o1, O2=o2, O2b=o2b, O3=o3, O4=o4, O5=o5, O6=o6, O8=o8)


def _globex(desk: Desk, s: Scenario) -> None:
    """Another tenant's desk on the same days: big numbers that must never show in acme's."""
    charlie = s.people.charlie
    for hour in (9, 10, 11, 13, 14):
        incident = desk.report(mon(hour), category=None, by=charlie, tenant=s.people.globex)
        desk.traveller.move_to(mon(hour, 1))
        actor = desk.actor(charlie, s.people.globex)
        services.incident_resolve_first_contact(
            incident=incident,
            actor=actor,
            resolution_code="solved-permanently",
            resolution_notes="Done.",
        )
        desk.traveller.move_to(tue(hour))
        services.incident_close(incident=incident, actor=actor, on_reporters_word=True, rating=1)
    desk.report(at(10, 9), category=None, by=charlie, tenant=s.people.globex)


def build(people: People) -> Scenario:
    """The whole history; returns with time stopped at VIEWED_AT (the caller's traveller)."""
    messaging = GroupFactory.create(tenant=people.acme, name="Messaging", slug="messaging")
    add_to_group(messaging, people.bob)
    email = CategoryFactory.create(tenant=people.acme, name="Email", slug="email", group=messaging)
    dan = _agent(people, "dan@acme.test", "Dan Departed")
    ivan = _agent(people, "ivan@acme.test", "Ivan Imported")
    s = Scenario(people, messaging=messaging, email=email, dan=dan, ivan=ivan)
    with time_machine.travel(mon(8), tick=False) as traveller:
        desk = Desk(people, traveller)
        _history(desk, s)
        _open(desk, s)
        _globex(desk, s)
        # The SLA sweep marks what came due meanwhile, touching only the clocks: O4 and O8
        # breached their targets without anyone writing to them.
        traveller.move_to(VIEWED_AT)
        sweep_due(now=VIEWED_AT)
    return s


@contextmanager
def viewed(people: People) -> Iterator[Scenario]:
    """The history, its dashboard tables refreshed, with the clock stopped at VIEWED_AT."""
    scenario = build(people)
    with time_machine.travel(VIEWED_AT, tick=False):
        for tenant in (people.acme, people.globex):
            rollups_refresh(tenant=tenant)
        yield scenario
