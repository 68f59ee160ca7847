"""Portal fixtures: two more requesters in acme (rosa, paul) and helpers that drive the
incident services the way the desk's agents would."""

from __future__ import annotations

import pytest
from django.core import mail

from incidents import services
from incidents.models import Incident
from tenancy.models import Membership, Role
from tests.factories import UserFactory


@pytest.fixture
def rosa(people):
    """Another requester of acme: she must never see rita's incidents."""
    user = UserFactory(email="rosa@acme.test", full_name="Rosa Requester")
    Membership.objects.create(tenant=people.acme, user=user, role=Role.REQUESTER)
    return user


@pytest.fixture
def paul(people):
    """A requester of acme who joins rita's incidents as an affected user."""
    user = UserFactory(email="paul@acme.test", full_name="Paul Affected")
    Membership.objects.create(tenant=people.acme, user=user, role=Role.REQUESTER)
    return user


@pytest.fixture
def desk(people, django_capture_on_commit_callbacks):
    return Desk(people, django_capture_on_commit_callbacks)


class Desk:
    """Drives the services and delivers what they send, as a worker would."""

    def __init__(self, people, capture) -> None:
        self.people = people
        self.capture = capture

    def run(self, service, **kwargs):
        with self.capture(execute=True):
            return service(**kwargs)

    def report(self, user=None, title="VPN drops every hour", **kwargs) -> Incident:
        kwargs.setdefault("category", self.people.network)
        return self.run(
            services.incident_report,
            actor=self.people.actor(user or self.people.rita),
            title=title,
            **kwargs,
        )

    def join(self, incident: Incident, user) -> None:
        self.run(
            services.incident_join, incident=incident, actor=self.people.actor(user), user=user
        )

    def accept(self, incident: Incident) -> Incident:
        return self.run(
            services.incident_accept, incident=incident, actor=self.people.actor(self.people.alice)
        )

    def resolve(self, incident: Incident) -> Incident:
        if incident.state == "escalated":
            incident = self.accept(incident)
        return self.run(
            services.incident_resolve,
            incident=incident,
            actor=self.people.actor(self.people.alice),
            resolution_code="solved-permanently",
            resolution_notes="Replaced the VPN concentrator's certificate.",
        )

    def reply(self, incident: Incident, body: str, public: bool = True):
        return self.run(
            services.comment_add,
            incident=incident,
            actor=self.people.actor(self.people.alice),
            body=body,
            public=public,
        )

    def clear_mail(self) -> None:
        mail.outbox.clear()


def mails_to(address: str) -> list:
    return [m for m in mail.outbox if address in m.to]
