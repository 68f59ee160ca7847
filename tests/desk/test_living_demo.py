"""`make run` loads a living demo: acme's last 90 days written through the services, so the
queues, clocks and dashboards have something to show; `load_demo --empty` keeps the bare one."""

from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.utils import timezone

from dashboards.selectors import dashboard_data, tenant_choices
from dashboards.selectors.scope import Scope
from escalation.models import AlertKind, ClockState, SlaAlert, SlaClock
from incidents.models import Comment, Incident, IncidentEvent, IncidentState
from tenancy.models import Tenant, User


def _load(*options: str) -> str:
    out = io.StringIO()
    call_command("load_demo", *options, stdout=out)
    return out.getvalue()


def test_the_demo_has_90_days_of_work_in_every_state(db):
    printed = _load("--incidents", "80")
    acme = Tenant.objects.get(slug="acme")
    incidents = Incident.objects.for_tenant(acme)
    assert "acme's last 90 days: 87 incidents" in printed
    assert incidents.count() == 87
    assert set(incidents.values_list("state", flat=True)) == set(IncidentState.values)
    oldest = incidents.order_by("reported_at").first()
    assert oldest is not None and oldest.reported_at < timezone.now() - timedelta(days=60)

    # Their history, as the services wrote it on the day.
    closed = incidents.filter(state=IncidentState.CLOSED).first()
    assert closed is not None and closed.closed_at is not None
    transitions = IncidentEvent.objects.filter(incident=closed, transition__gt="")
    assert {"accept", "resolve", "close"} <= set(transitions.values_list("transition", flat=True))
    assert incidents.exclude(satisfaction_rating=None).count() >= 10
    replies = Comment.objects.filter(incident__tenant=acme, public=True).exclude(author=None)
    assert replies.filter(author__email="agent@acme.test").exists()

    # SLA clocks, some breached, and the sweep's breach alerts for the ones still open.
    clocks = SlaClock.objects.for_tenant(acme)
    assert clocks.filter(state=ClockState.MET).exists()
    assert clocks.filter(state=ClockState.BREACHED).exists()
    assert SlaAlert.objects.for_tenant(acme).filter(kind=AlertKind.BREACH).exists()

    # This morning's major incident and the calls linked to it.
    major = incidents.get(title="Email down for the whole office")
    assert incidents.filter(parent=major).count() == 3

    # The dashboards show the last 30 days.
    today = timezone.localdate(timezone=ZoneInfo(acme.time_zone))
    scope = Scope(today - timedelta(days=29), today, tz=ZoneInfo(acme.time_zone))
    data = dashboard_data(tenant=acme, scope=scope, choices=tenant_choices(acme))
    assert data.totals["created"] > 0 and data.totals["resolved"] > 0
    assert data.sla_by_priority

    # Loading again changes nothing.
    assert "left as it is" in _load()
    assert incidents.count() == 87


def test_load_demo_empty_keeps_the_bare_demo(db):
    _load("--empty")
    assert Tenant.objects.filter(slug__in=["acme", "globex"]).count() == 2
    assert User.objects.filter(email="agent@acme.test").exists()
    assert not Incident.objects.exists()
