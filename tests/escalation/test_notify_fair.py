"""The notifier takes waiting alerts in turns across tenants: one tenant's storm of alerts does
not queue another tenant's few behind it, neither their notifying nor their deliveries (issue
19; bench/tenants_bench.py measures it with real processes)."""

from __future__ import annotations

from django.utils import timezone

from escalation.models import Notification, SlaAlert
from escalation.services.alerts import alerts_notify_pending
from incidents import services
from tests.escalation.sla_helpers import report_high


def _escalations(incident, user, count: int) -> None:
    now = timezone.now()
    SlaAlert.objects.bulk_create(
        SlaAlert(
            tenant_id=incident.tenant_id,
            incident=incident,
            kind="escalation",
            level=level,
            repeat=0,
            notify="user",
            notify_user=user,
            due_at=now,
        )
        for level in range(1, count + 1)
    )


def test_a_storm_in_acme_does_not_queue_globexs_two_alerts_behind_it(people):
    storm = report_high(people)
    _escalations(storm, people.max, 150)  # written first: the older ids
    globex_incident = services.incident_report(
        actor=people.actor(people.charlie, people.globex),
        title="Printer on fire",
        impact="low",
        urgency="low",
    )
    _escalations(globex_incident, people.charlie, 2)
    acme_waiting = SlaAlert.objects.filter(tenant=people.acme, notified_at=None).count()
    assert acme_waiting >= 150
    first = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0

    assert alerts_notify_pending(limit=100) == 100

    waiting = SlaAlert.objects.filter(notified_at=None)
    assert not waiting.filter(tenant=people.globex).exists()  # both of globex's are out
    assert waiting.filter(tenant=people.acme).count() == acme_waiting - 98
    # Their deliveries are queued in the same turns: globex's among the batch's first rows.
    rows = list(
        Notification.objects.filter(id__gt=first, channel="email")
        .order_by("id")
        .values_list("tenant_id", flat=True)
    )
    assert people.globex.id in rows[:4], rows[:6]
    assert rows.count(people.globex.id) == 2
