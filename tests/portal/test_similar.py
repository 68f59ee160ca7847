"""Similar open incidents offered while the title is typed, and joining one."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from incidents import services
from incidents.models import Incident, Participant
from tests.factories import CategoryFactory


def similar(client, text: str) -> str:
    url = reverse("portal-similar", args=["acme"])
    return client.get(url, {"title": text}, HTTP_HX_REQUEST="true").content.decode()


@pytest.fixture
def printers(people, desk):
    """Open, closed and foreign incidents that all look like the same printer problem."""
    open_one = desk.report(title="Printer on floor 3 jams", user=people.alice)
    closed = desk.report(title="Printer on floor 3 jams again", user=people.alice)
    closed = desk.resolve(closed)
    desk.run(
        services.incident_close,
        incident=closed,
        actor=people.actor(people.alice),
        on_reporters_word=True,
    )
    cancelled = desk.report(title="Printer floor 3 paper jam", user=people.alice)
    desk.run(
        services.incident_cancel,
        incident=cancelled,
        actor=people.actor(people.alice),
        reason="Reported twice",
    )
    globex_net = CategoryFactory(tenant=people.globex, name="Net", slug="net")
    foreign = desk.run(
        services.incident_report,
        actor=people.actor(people.charlie, people.globex),
        title="Printer on floor 3 jams",
        category=globex_net,
    )
    unrelated = desk.report(title="Email bounces", user=people.alice)
    return {
        "open": open_one,
        "closed": closed,
        "cancelled": cancelled,
        "foreign": foreign,
        "unrelated": unrelated,
    }


def test_suggestions_are_only_the_tenants_open_incidents(people, login, printers):
    html = similar(login(people.rita), "printer jams")
    assert printers["open"].reference in html
    assert "This is my problem too" in html
    # The foreign incident has the same number as acme's first: its title would give it away.
    assert html.count("Printer on floor 3 jams") == 1
    for gone in ("closed", "cancelled", "unrelated"):
        assert f"{printers[gone].reference} " not in html


def test_a_short_title_suggests_nothing(people, login, printers):
    assert "This is my problem too" not in similar(login(people.rita), "pr")


@pytest.mark.postgres
def test_suggestions_catch_what_the_reporter_is_still_typing_on_postgres(people, login, printers):
    client = login(people.rita)
    assert printers["open"].reference in similar(client, "printe")  # prefix of the last word
    assert printers["open"].reference in similar(client, "priner jamming")  # typo and stem
    assert printers["open"].reference not in similar(client, "coffee machine")


def test_own_incidents_are_offered_as_already_followed(people, login, desk):
    mine = desk.report(title="Printer jams on floor 3")
    html = similar(login(people.rita), "printer")
    assert "You already follow this one" in html
    assert reverse("portal-incident-detail", args=["acme", mine.number]) in html


def test_this_is_my_problem_too_joins_and_counts_the_user(
    people, login, desk, paul, django_capture_on_commit_callbacks
):
    incident = desk.report(title="VPN drops every hour")
    client = login(paul)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("portal-incident-join", args=["acme", incident.number]))
    assert response["Location"] == reverse("portal-incident-detail", args=["acme", incident.number])
    incident.refresh_from_db()
    assert incident.affected_count == 2
    assert Participant.objects.filter(incident=incident, user=paul).exists()
    page = client.get(response["Location"]).content.decode()
    assert "You are now following INC-000001" in page
    assert "joined: this is your problem too" in page
    # Joined users hear of its progress.
    mail.outbox.clear()
    desk.accept(Incident.objects.get(pk=incident.pk))
    assert sorted(m.to[0] for m in mail.outbox) == ["paul@acme.test", "rita@acme.test"]


def test_joining_twice_counts_once(people, login, desk, paul):
    incident = desk.report()
    client = login(paul)
    url = reverse("portal-incident-join", args=["acme", incident.number])
    client.post(url)
    response = client.post(url, follow=True)
    incident.refresh_from_db()
    assert incident.affected_count == 2
    assert "You already follow INC-000001" in response.content.decode()


def test_a_closed_incident_cannot_be_joined(people, login, desk, paul):
    incident = desk.resolve(desk.report())
    desk.run(services.incident_close, incident=incident, actor=people.actor(people.rita), rating=4)
    response = login(paul).post(
        reverse("portal-incident-join", args=["acme", incident.number]), follow=True
    )
    assert "is no longer open; report a new incident" in response.content.decode()
    assert not Participant.objects.filter(user=paul).exists()


def test_charlie_cannot_join_an_acme_incident(people, login, desk):
    incident = desk.report()
    response = login(people.charlie).post(
        reverse("portal-incident-join", args=["acme", incident.number])
    )
    assert response.status_code == 404


def test_common_words_alone_suggest_nothing(people, login, printers):
    html = similar(login(people.rita), "the printer")
    assert printers["open"].reference in html
    assert "This is my problem too" not in similar(login(people.rita), "not working again")
