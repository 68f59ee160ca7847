"""Who is told of an escalation: a functional one tells the chosen group, a hierarchical one
goes up the line (the group's lead first, then the managers, per the escalation policy), and
nobody is told of their own escalation."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from escalation.models import Notification, NotifyKind
from escalation.services.alerts import alerts_notify_pending
from escalation.services.sweep import sweep_due
from incidents import services
from tenancy.models import Role
from tests.conftest import _member
from tests.escalation.sla_helpers import fast_escalation, report_high
from tests.factories import GroupFactory, add_to_group


def _told() -> list[str]:
    """Who was alerted of an escalation in the bell since the last look, in order (the SLA
    clocks' own warnings and breaches aside); then forget them."""
    alerts_notify_pending()
    kinds = ["sla_assigned", "sla_escalation"]
    rows = Notification.objects.filter(kind__in=kinds, channel="inapp").order_by("id")
    emails = [row.address for row in rows]
    rows.delete()
    return emails


def _with_lead(people):
    lena = _member(people.acme, "lena@acme.test", "Lena Lead", Role.AGENT)
    add_to_group(people.group, lena)
    people.group.lead = lena
    people.group.save()
    return lena


def _accepted_by_alice(people):
    incident = report_high(people)
    _told()  # the routing's own alert to the group
    return services.incident_accept(incident=incident, actor=people.actor(people.alice))


def test_a_hierarchical_escalation_tells_the_lead_then_the_managers_never_the_agent(people):
    _with_lead(people)
    incident = _accepted_by_alice(people)
    services.incident_escalate(
        incident=incident,
        actor=people.actor(people.alice),
        group=people.group,
        kind="hierarchical",
        reason="Needs a decision",
    )
    assert _told() == ["lena@acme.test"]

    # The desk-wide policy: the lead after 15 minutes, the managers after 30 more. Up the line,
    # the lead was told already: the managers come next, 30 minutes after the escalation.
    sweep_due(now=timezone.now() + timedelta(minutes=20))
    assert _told() == []
    sweep_due(now=timezone.now() + timedelta(minutes=31))
    assert _told() == ["max@acme.test"]
    sweep_due(now=timezone.now() + timedelta(days=1))
    assert _told() == []


def test_a_lead_who_escalates_up_the_line_sends_it_to_the_managers_at_once(people):
    lena = _with_lead(people)
    incident = report_high(people)
    _told()
    services.incident_escalate(
        incident=incident, actor=people.actor(lena), group=people.group, kind="hierarchical"
    )
    assert _told() == ["max@acme.test"]


def test_a_hierarchical_climb_never_goes_back_down_to_the_team(people):
    _with_lead(people)
    fast_escalation(
        people.acme, (60, NotifyKind.GROUP, None), (60, NotifyKind.MANAGER, None), repeat=1
    )
    incident = _accepted_by_alice(people)
    services.incident_escalate(
        incident=incident, actor=people.actor(people.alice), group=people.group, kind="hierarchical"
    )
    assert _told() == ["lena@acme.test"]
    sweep_due(now=timezone.now() + timedelta(minutes=5))
    # The managers, then the second round: its "group" level tells the lead, not alice or bob.
    assert _told() == ["max@acme.test", "lena@acme.test", "max@acme.test"]


def test_a_functional_escalation_tells_the_chosen_group_not_the_agent_who_escalated(people):
    lena = _with_lead(people)
    apps = GroupFactory.create(tenant=people.acme, name="Applications", slug="applications")
    dave = _member(people.acme, "dave@acme.test", "Dave Developer", Role.AGENT)
    add_to_group(apps, dave, people.alice)
    apps.lead = lena
    apps.save()
    incident = _accepted_by_alice(people)
    services.incident_escalate(incident=incident, actor=people.actor(people.alice), group=apps)
    assert _told() == ["dave@acme.test"]


def test_a_functional_escalation_within_the_group_leaves_out_the_agent(people):
    _with_lead(people)
    incident = report_high(people)
    _told()
    services.incident_escalate(
        incident=incident, actor=people.actor(people.alice), group=people.group
    )
    assert _told() == ["bob@acme.test", "lena@acme.test"]
