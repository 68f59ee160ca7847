"""The admin changes roles, deactivates and reactivates members; the last admin stays."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from escalation.models import SlaAlert
from incidents import services as incident_services
from incidents.models import IncidentEvent
from tenancy import services
from tenancy.errors import NotAllowed
from tenancy.models import Membership, Role
from tests.factories import PASSWORD, UserFactory
from tests.incidents.build import incident_in


def member(people, user, tenant=None) -> Membership:
    return Membership.objects.get(user=user, tenant=tenant or people.acme)


def action_url(name: str, membership: Membership) -> str:
    return reverse(name, kwargs={"tenant_slug": "acme", "pk": membership.pk})


def test_an_admin_changes_a_role_from_the_members_page(admin_client, people):
    url = action_url("settings-member-role", member(people, people.rita))
    response = admin_client.post(url, {"role": "agent"}, follow=True)
    assert "Rita Requester is now agent." in response.content.decode()
    assert member(people, people.rita).role == Role.AGENT


def test_a_role_that_does_not_exist_is_refused(admin_client, people):
    url = action_url("settings-member-role", member(people, people.rita))
    response = admin_client.post(url, {"role": "overlord"}, follow=True)
    assert (
        "“overlord” is not a role. Choose one of: requester, agent, manager, admin."
        in response.content.decode()
    )
    assert member(people, people.rita).role == Role.REQUESTER


def test_the_last_admin_cannot_be_demoted(admin_client, people):
    url = action_url("settings-member-role", member(people, people.ada))
    response = admin_client.post(url, {"role": "agent"}, follow=True)
    assert (
        "Ada Admin is the last admin of Acme Corporation, so you cannot demote them. "
        "Make another member an admin first." in response.content.decode()
    )
    assert member(people, people.ada).role == Role.ADMIN


def test_the_last_admin_cannot_be_deactivated(admin_client, people):
    url = action_url("settings-member-deactivate", member(people, people.ada))
    response = admin_client.post(url, follow=True)
    assert "so you cannot deactivate them" in response.content.decode()
    assert member(people, people.ada).is_active


def test_an_admin_may_step_down_when_another_admin_remains(admin_client, people):
    services.membership_set_role(
        actor=people.actor(people.ada), membership=member(people, people.max), role=Role.ADMIN
    )
    url = action_url("settings-member-role", member(people, people.ada))
    response = admin_client.post(url, {"role": "manager"})
    assert response.url == "/t/acme/"  # the settings are no longer hers
    assert admin_client.get("/t/acme/settings/members/").status_code == 404


def test_only_an_admin_may_manage_members(people):
    with pytest.raises(NotAllowed):
        services.membership_deactivate(
            actor=people.actor(people.max), membership=member(people, people.bob)
        )
    assert member(people, people.bob).is_active


def test_a_member_of_another_tenant_is_not_found(admin_client, people):
    url = action_url("settings-member-deactivate", member(people, people.charlie, people.globex))
    assert admin_client.post(url).status_code == 404
    assert member(people, people.charlie, people.globex).is_active


def test_a_deactivated_member_cannot_log_in(admin_client, client, people):
    url = action_url("settings-member-deactivate", member(people, people.bob))
    response = admin_client.post(url, follow=True)
    assert "Bob Agent is deactivated. Their incidents and history stay." in (
        response.content.decode()
    )
    client.logout()
    refused = client.post("/login/", {"username": "bob@acme.test", "password": PASSWORD})
    assert refused.status_code == 200
    assert "Your access to the service desk has been deactivated" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_deactivated_member_already_logged_in_loses_the_tenant(client, people):
    assert client.login(email="bob@acme.test", password=PASSWORD)
    services.membership_deactivate(
        actor=people.actor(people.ada), membership=member(people, people.bob)
    )
    assert client.get("/t/acme/").status_code == 404
    assert client.get("/t/acme/desk/").status_code == 404


def test_a_member_deactivated_here_still_uses_their_other_tenant(client, people):
    services.membership_add(tenant=people.globex, user=people.bob, role=Role.REQUESTER)
    services.membership_deactivate(
        actor=people.actor(people.ada), membership=member(people, people.bob)
    )
    response = client.post("/login/", {"username": "bob@acme.test", "password": PASSWORD})
    assert response.url == "/t/globex/portal/"  # his one membership left: a requester's landing
    assert client.get("/", follow=True).redirect_chain[-1][0] == "/t/globex/"
    assert client.get("/t/acme/").status_code == 404


def test_a_deactivated_members_events_remain_with_their_name(
    admin_client, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = incident_services.incident_report(
            actor=people.actor(people.rita),
            title="Printer on fire",
            impact="high",
            urgency="high",
            category=people.network,
        )
        incident = incident_services.incident_accept(
            incident=incident, actor=people.actor(people.bob)
        )
    accepted = IncidentEvent.objects.for_tenant(people.acme).get(
        incident=incident, transition="accept"
    )
    admin_client.post(action_url("settings-member-deactivate", member(people, people.bob)))
    assert not member(people, people.bob).is_active
    accepted.refresh_from_db()
    assert accepted.actor_user == people.bob
    assert accepted.actor_name == "Bob Agent"
    assert accepted.actor_user.display_name == "Bob Agent"
    # Reported, escalated, accepted; then handed back to the group as Bob left.
    assert IncidentEvent.objects.for_tenant(people.acme).filter(incident=incident).count() == 4
    incident.refresh_from_db()
    assert (incident.group, incident.assignee) == (people.group, None)
    body = admin_client.get("/t/acme/settings/members/?q=bob").content.decode()
    assert "Bob Agent" in body and "Deactivated" in body and "Reactivate Bob Agent" in body


def test_a_reactivated_member_can_log_in_again(admin_client, client, people):
    bob = member(people, people.bob)
    admin_client.post(action_url("settings-member-deactivate", bob))
    response = admin_client.post(action_url("settings-member-reactivate", bob), follow=True)
    assert "Bob Agent is active again." in response.content.decode()
    client.logout()
    assert client.login(email="bob@acme.test", password=PASSWORD)
    assert client.get("/t/acme/").status_code == 200
    assert member(people, people.bob).deactivated_at is None


def test_the_members_page_lists_everyone_with_a_fixed_number_of_queries(
    admin_client, people, django_assert_max_num_queries
):
    ada = people.actor(people.ada)
    services.membership_invite(actor=ada, email="first@acme.test", role=Role.AGENT)
    admin_client.get("/t/acme/settings/members/")  # warm the session
    with django_assert_max_num_queries(10) as few:
        admin_client.get("/t/acme/settings/members/")
    for n in range(12):
        user = UserFactory(email=f"extra{n}@acme.test")
        Membership.objects.create(tenant=people.acme, user=user, role=Role.REQUESTER)
        services.membership_invite(actor=ada, email=f"invited{n}@acme.test", role=Role.AGENT)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = admin_client.get("/t/acme/settings/members/").content.decode()
    assert "extra11@acme.test" in body and "invited11@acme.test" in body
    assert "charlie@globex.test" not in body


def test_the_members_page_finds_people_by_name_or_email(admin_client, people):
    body = admin_client.get("/t/acme/settings/members/?q=rita").content.decode()
    assert "rita@acme.test" in body and "alice@acme.test" not in body
    body = admin_client.get("/t/acme/settings/members/?q=Alice Agent").content.decode()
    assert "alice@acme.test" in body and "rita@acme.test" not in body


def test_a_leaving_agents_open_incidents_go_back_to_their_groups_queue(admin_client, people):
    """Left with someone who can no longer sign in, they would wait unseen while their SLA
    clocks ran: each goes back to its group, with an event saying why and an alert to it."""
    alice = people.actor(people.alice)
    working = incident_in(people, "diagnosing")  # accepted by alice
    waiting = incident_in(people, "on_hold")
    done = incident_in(people, "resolved")
    orphan = incident_services.incident_accept(
        incident=incident_services.incident_escalate(
            incident=incident_in(people, "reported"), actor=alice, assignee=people.alice
        ),
        actor=alice,
    )  # escalated to alice alone, no group: nowhere to go back to
    alerts_before = SlaAlert.objects.filter(kind="assigned", notify="group").count()

    url = action_url("settings-member-deactivate", member(people, people.alice))
    page = html.unescape(admin_client.post(url, follow=True).content.decode())

    assert (
        "Alice Agent is deactivated. 2 open incidents they held went back to their groups' "
        "queues. 1 open incident with no active group stays assigned to them: reassign it "
        "from the desk. Their history stays." in page
    )
    for incident in (working, waiting):
        incident.refresh_from_db()
        assert (incident.group, incident.assignee, incident.state) == (
            people.group,
            None,
            "diagnosing" if incident.pk == working.pk else "on_hold",
        )
        event = IncidentEvent.objects.filter(incident=incident).order_by("id").last()
        assert (event.kind, event.actor_name) == ("assigned", "Ada Admin")
        assert event.reason == "Alice Agent no longer works on this desk."
    done.refresh_from_db()
    orphan.refresh_from_db()
    assert done.assignee == orphan.assignee == people.alice  # resolved: nothing waits on her
    assert SlaAlert.objects.filter(kind="assigned", notify="group").count() == alerts_before + 2

    # Coming back gives her access again, not her old incidents.
    admin_client.post(action_url("settings-member-reactivate", member(people, people.alice)))
    working.refresh_from_db()
    assert working.assignee is None
