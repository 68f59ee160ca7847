"""Settings → Members → personal data: an admin exports all a tenant holds about a person, and
erases a person who has left (pseudonymised everywhere in the tenant, incidents kept)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from incidents import services as incidents
from incidents.models import Comment, Incident, IncidentEvent
from knowledge import services as knowledge
from knowledge.models import ArticleVote
from knowledge.services import ArticleText
from mail.models import InboundMail, IntakeAddress
from mail.services.store import inbound_store
from tenancy import services as tenancy
from tenancy.models import AuditRecord, Membership, Role, User
from tests.factories import PASSWORD

RAW = (
    b"From: Rita Requester <rita@acme.test>\r\nTo: help@acme.test\r\nSubject: Broken mouse\r\n"
    b"Message-ID: <mouse-1@acme.test>\r\n\r\nMy mouse is broken. Rita\r\n"
)


def rita_history(people) -> Incident:
    """Rita reported a printer incident (alice assigned, rated 2), commented, voted on an
    article, mailed the intake address, and was deactivated by ada."""
    rita = people.actor(people.rita)
    incident = incidents.incident_report(actor=rita, title="Printer jammed")
    incidents.comment_add(incident=incident, actor=rita, body="Still jammed on floor 3")
    Incident.objects.filter(pk=incident.pk).update(assignee=people.alice, satisfaction_rating=2)
    alice = people.actor(people.alice)
    article = knowledge.article_create(actor=alice, text=ArticleText(title="Printers", body="x"))
    knowledge.article_vote(actor=rita, article=article, helpful=True)
    intake = IntakeAddress.objects.create(tenant=people.acme, address="help@acme.test")
    inbound_store(raw=RAW, intake=intake, via="smtp")
    leave(people, people.rita)
    return incident


def leave(people, user: User) -> Membership:
    membership = Membership.objects.get(tenant=people.acme, user=user)
    tenancy.member_leave(actor=people.actor(people.ada), membership=membership)
    return membership


def page(membership: Membership, action: str = "") -> str:
    return f"/t/{membership.tenant.slug}/settings/members/{membership.pk}/personal-data/{action}"


@pytest.fixture
def ada(client, people) -> Client:
    assert client.login(email="ada@acme.test", password=PASSWORD)
    return client


def exported(client: Client, membership: Membership) -> dict:
    response = client.post(page(membership, "export/"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return json.loads(response.content)


def test_the_members_page_links_to_each_members_personal_data(ada, people):
    membership = Membership.objects.get(tenant=people.acme, user=people.rita)
    members = ada.get("/t/acme/settings/members/").content.decode()
    assert f'href="{page(membership)}"' in members
    assert "Export personal data" in ada.get(page(membership)).content.decode()


def test_the_export_holds_everything_the_tenant_has_about_the_person(ada, people):
    incident = rita_history(people)
    membership = Membership.objects.get(tenant=people.acme, user=people.rita)
    document = exported(ada, membership)
    assert document["person"]["email"] == "rita@acme.test"
    assert document["membership"]["role"] == Role.REQUESTER
    held = document["held"]
    [reported] = held["incidents"]["incidents.Incident.reporter"]
    assert (reported["title"], reported["satisfaction_rating"]) == ("Printer jammed", 2)
    [comment] = held["incidents"]["incidents.Comment.author"]
    assert comment["body"] == "Still jammed on floor 3"
    assert held["knowledge"]["knowledge.ArticleVote.user"][0]["helpful"] is True
    [mail] = held["mail"]["mail.InboundMail.sender"]
    assert "My mouse is broken" in mail["raw"]
    actions = {r["action"] for r in held["tenancy"]["tenancy.AuditRecord"]}
    assert "member.deactivated" in actions
    assert incident.pk in {
        e["incident_id"] for e in held["incidents"]["incidents.IncidentEvent.actor_user"]
    }
    assert "password" not in json.dumps(document["person"])


def test_an_agents_export_holds_the_incidents_assigned_to_them(ada, people):
    rita_history(people)
    membership = Membership.objects.get(tenant=people.acme, user=people.alice)
    held = exported(ada, membership)["held"]
    assert [i["title"] for i in held["incidents"]["incidents.Incident.assignee"]] == [
        "Printer jammed"
    ]
    assert "mail" not in held  # nothing of rita's


def test_exporting_is_recorded_in_the_audit_log(ada, people, audit):
    membership = Membership.objects.get(tenant=people.acme, user=people.rita)
    exported(ada, membership)
    [record] = [r for r in audit() if r.action == "personal_data.exported"]
    assert (record.actor_user_id, record.target_label) == (people.ada.pk, "rita@acme.test")


def test_another_tenants_admin_gets_404(client, people):
    Membership.objects.filter(user=people.charlie).update(role=Role.ADMIN)
    membership = Membership.objects.get(tenant=people.acme, user=people.rita)
    assert client.login(email="charlie@globex.test", password=PASSWORD)
    assert client.get(page(membership)).status_code == 404
    assert client.post(page(membership, "export/")).status_code == 404
    # Rita's acme membership through charlie's own organisation: not one of globex's.
    elsewhere = f"/t/globex/settings/members/{membership.pk}/personal-data/"
    assert client.get(elsewhere).status_code == 404
    assert client.post(elsewhere + "erase/", {"confirm": "rita@acme.test"}).status_code == 404
    assert User.objects.get(pk=people.rita.pk).email == "rita@acme.test"


def test_an_agent_gets_404(client, people):
    membership = Membership.objects.get(tenant=people.acme, user=people.rita)
    assert client.login(email="alice@acme.test", password=PASSWORD)
    assert client.post(page(membership, "export/")).status_code == 404


def erase(client: Client, membership: Membership, confirm: str):
    return client.post(page(membership, "erase/"), {"confirm": confirm}, follow=True)


def test_erasing_pseudonymises_the_person_everywhere_and_keeps_their_incidents(ada, people):
    incident = rita_history(people)
    membership = Membership.objects.get(tenant=people.acme, user=people.rita)
    response = erase(ada, membership, "RITA@acme.test ")
    said = response.content.decode()
    assert "Rita Requester&#x27;s personal data is erased." in said
    rita = User.objects.get(pk=people.rita.pk)
    alias = rita.full_name
    assert alias.startswith("Erased person ") and rita.email.endswith("@erased.invalid")
    kept = Incident.objects.get(pk=incident.pk)
    assert (kept.title, kept.reporter_id, kept.contact_name) == ("Printer jammed", None, alias)
    comment = Comment.objects.get(incident=kept)
    assert (comment.author_id, comment.author_name) == (None, alias)
    assert comment.body == "Still jammed on floor 3"
    events = IncidentEvent.objects.filter(incident=kept, actor_name="Rita Requester")
    assert not events.exists()
    mail = InboundMail.objects.get(tenant=people.acme)
    assert mail.sender == rita.email and bytes(mail.raw) == b""
    assert not ArticleVote.objects.filter(user=rita).exists()
    assert not Membership.objects.filter(user=rita).exists()
    assert "Rita Requester" not in ada.get("/t/acme/settings/members/").content.decode()


def test_an_erased_person_can_no_longer_log_in_and_their_sessions_end(ada, people):
    rita_browser = Client()
    assert rita_browser.login(email="rita@acme.test", password=PASSWORD)
    rita_history(people)
    erase(ada, Membership.objects.get(tenant=people.acme, user=people.rita), "rita@acme.test")
    response = Client().post("/login/", {"username": "rita@acme.test", "password": PASSWORD})
    assert response.status_code == 200  # the form again, with its error
    assert not User.objects.get(pk=people.rita.pk).has_usable_password()
    assert rita_browser.get("/account/").status_code == 302


def test_erasing_is_one_audit_record_that_does_not_repeat_the_erased_name(ada, people, audit):
    rita_history(people)
    erase(ada, Membership.objects.get(tenant=people.acme, user=people.rita), "rita@acme.test")
    [record] = [r for r in audit() if r.action == "personal_data.erased"]
    assert record.actor_user_id == people.ada.pk
    assert record.target_label.startswith("Erased person ")
    assert record.after["account"] == "pseudonymised, can no longer log in"
    assert "Rita" not in json.dumps([record.target_label, record.before, record.after])
    assert AuditRecord.objects.filter(action="personal_data.erased").count() == 1


def test_the_erasure_needs_their_email_typed_and_keeps_what_was_typed(ada, people):
    rita_history(people)
    membership = Membership.objects.get(tenant=people.acme, user=people.rita)
    response = erase(ada, membership, "rita@wrong.test")
    assert response.status_code == 400
    page_text = response.content.decode()
    assert "Type rita@acme.test exactly to confirm the erasure." in page_text
    assert 'value="rita@wrong.test"' in page_text
    assert User.objects.get(pk=people.rita.pk).full_name == "Rita Requester"


def test_an_active_member_is_not_erased(ada, people):
    membership = Membership.objects.get(tenant=people.acme, user=people.rita)
    response = erase(ada, membership, "rita@acme.test")
    assert response.status_code == 400
    assert "Deactivate Rita Requester first" in response.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_a_member_of_another_organisation_keeps_their_account(ada, people):
    rita_history(people)
    Membership.objects.create(tenant=people.globex, user=people.alice, role=Role.AGENT)
    membership = leave(people, people.alice)
    erase(ada, membership, "alice@acme.test")
    alice = User.objects.get(pk=people.alice.pk)
    assert (alice.email, alice.full_name, alice.is_active) == (
        "alice@acme.test",
        "Alice Agent",
        True,
    )
    assert Client().login(email="alice@acme.test", password=PASSWORD)
    assert not Incident.objects.filter(tenant=people.acme, assignee=alice).exists()
    assert Membership.objects.filter(tenant=people.globex, user=alice).exists()


def test_her_full_name_and_address_written_in_comments_are_replaced(ada, people):
    incident = rita_history(people)
    alice = people.actor(people.alice)
    note = incidents.comment_add(
        incident=Incident.objects.get(pk=incident.pk),
        actor=alice,
        body="Called Rita Requester (rita@acme.test): the tray is broken. Rita agreed.",
        public=False,
    )
    erase(ada, Membership.objects.get(tenant=people.acme, user=people.rita), "rita@acme.test")
    rita = User.objects.get(pk=people.rita.pk)
    body = Comment.objects.get(pk=note.pk).body
    assert body == f"Called {rita.full_name} ({rita.email}): the tray is broken. Rita agreed."


def test_a_reporter_known_by_address_is_pseudonymised_too(ada, people):
    alice = people.actor(people.alice)
    incident = incidents.incident_report(
        actor=alice, title="Laptop stolen", contact_name="Rita R.", contact_email="rita@acme.test"
    )
    leave(people, people.rita)
    erase(ada, Membership.objects.get(tenant=people.acme, user=people.rita), "rita@acme.test")
    kept = Incident.objects.get(pk=incident.pk)
    assert kept.contact_email == ""
    assert kept.contact_name.startswith("Erased person ")


def test_the_timelines_mentions_of_the_person_are_pseudonymised(ada, people):
    from tests.desk.desk_support import routed

    incident = incidents.incident_accept(incident=routed(people), actor=people.actor(people.alice))
    membership = leave(people, people.alice)  # hands her incident back: another mention
    mentions = IncidentEvent.objects.filter(incident=incident, data__icontains="alice")
    assert mentions.exists(), "the timeline names alice before the erasure"
    held = exported(ada, membership)["held"]["incidents"]
    assert held["incidents.IncidentEvent.data"]
    erase(ada, membership, "alice@acme.test")
    texts = [str(data) for data in IncidentEvent.objects.values_list("data", flat=True)]
    assert not [t for t in texts if "alice@acme.test" in t or "Alice Agent" in t]
    assert [t for t in texts if "Erased person " in t or "@erased.invalid" in t]
