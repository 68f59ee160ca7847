"""The desk's incident page names the affected people without an account, not only members."""

from __future__ import annotations

import pytest
from django.urls import reverse

from incidents.services.people import incident_contact_add
from incidents.services.report import incident_report
from tenancy.actors import Actor

pytestmark = pytest.mark.django_db


def test_affected_contacts_are_listed_beside_members(people, login):
    alice = people.actor(people.alice)
    incident = incident_report(actor=alice, title="VPN down", reporter=people.rita)
    incident_contact_add(
        incident=incident, actor=alice, email="Carl@Supplier.example", name="Carl Berg"
    )
    incident_contact_add(incident=incident, actor=alice, email="dana@partner.example")
    url = reverse("desk-incident-detail", kwargs={"tenant_slug": "acme", "number": incident.number})
    page = login(people.alice).get(url).content.decode()
    assert 'title="carl@supplier.example (no account: follows by email)">Carl Berg<' in page
    assert ">dana@partner.example<" in page
    assert "Only the reporter" not in page
    assert "(3 in all)" in page  # the reporter and the two contacts


def test_another_tenants_contacts_never_show(people, login):
    globex_incident = incident_report(
        actor=Actor.system(people.globex), title="Printer", contact_email="x@globex.example"
    )
    incident_contact_add(
        incident=globex_incident, actor=Actor.system(people.globex), email="secret@globex.example"
    )
    incident = incident_report(actor=people.actor(people.alice), title="VPN", reporter=people.rita)
    url = reverse("desk-incident-detail", kwargs={"tenant_slug": "acme", "number": incident.number})
    page = login(people.alice).get(url).content.decode()
    assert "secret@globex.example" not in page
    assert "Only the reporter" in page
