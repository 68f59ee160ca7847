from django.core import mail

from incidents import services
from incidents.models import IncidentEvent


def test_a_reported_incident_walks_the_five_steps(people, django_capture_on_commit_callbacks):
    rita, alice = people.actor(people.rita), people.actor(people.alice)
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.incident_report(
            actor=rita, title="VPN drops", impact="high", urgency="medium", category=people.network
        )
    assert incident.reference == "INC-000001"
    assert incident.state == "escalated"  # the category's routing rule escalated it
    assert incident.priority.slug == "high"
    assert [m.to for m in mail.outbox] == [["rita@acme.test"]]
    assert "INC-000001" in mail.outbox[0].subject
    incident = services.incident_accept(incident=incident, actor=alice)
    incident = services.incident_resolve(
        incident=incident,
        actor=alice,
        resolution_code="solved-permanently",
        resolution_notes="Replaced the router config.",
    )
    incident = services.incident_close(incident=incident, actor=rita, rating=5)
    assert incident.state == "closed"
    kinds = list(IncidentEvent.objects.filter(incident=incident).values_list("kind", "transition"))
    assert kinds == [
        ("reported", ""),
        ("transition", "escalate"),
        ("transition", "accept"),
        ("transition", "resolve"),
        ("transition", "close"),
    ]
