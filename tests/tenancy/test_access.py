"""Who reaches the tenancy pages: strangers get 404, anonymous people log in first."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

from tenancy import settings_areas
from tenancy.models import Membership
from tests.factories import PASSWORD

GET_PAGES = ["tenant-home", "settings-home", "settings-members"]
SETTINGS_PAGES = ["settings-home", "settings-members"]
MEMBER_ACTIONS = [
    "settings-member-role",
    "settings-member-deactivate",
    "settings-member-reactivate",
]


def member_actions(people) -> list[str]:
    bob = Membership.objects.get(user=people.bob, tenant=people.acme)
    urls = [reverse(name, args=["acme", bob.pk]) for name in MEMBER_ACTIONS]
    return [*urls, reverse("settings-invitation-revoke", args=["acme", 1])]


@pytest.mark.parametrize("name", GET_PAGES)
def test_charlie_gets_404_on_each_page(client, people, name):
    assert client.login(email="charlie@globex.test", password=PASSWORD)
    response = client.get(reverse(name, args=["acme"]))
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_charlie_gets_404_on_each_member_action(client, people):
    assert client.login(email="charlie@globex.test", password=PASSWORD)
    for url in member_actions(people):
        assert client.post(url, {"role": "admin"}).status_code == 404, url
    assert Membership.objects.get(user=people.bob, tenant=people.acme).is_active


@pytest.mark.parametrize("name", GET_PAGES)
def test_an_anonymous_visitor_is_sent_to_log_in(client, people, name):
    url = reverse(name, args=["acme"])
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == f"/login/?next={url}"


def test_an_anonymous_visitor_is_sent_to_log_in_from_member_actions(client, people):
    for url in member_actions(people):
        assert client.post(url).url.startswith("/login/?next="), url


@pytest.mark.parametrize("who", ["rita", "alice", "max"])
def test_only_admins_reach_the_settings(login, people, who):
    client = login(getattr(people, who))
    for name in SETTINGS_PAGES:
        assert client.get(reverse(name, args=["acme"])).status_code == 404
    for url in member_actions(people):
        assert client.post(url, {"role": "admin"}).status_code == 404
    assert Membership.objects.get(user=getattr(people, who), tenant=people.acme).role != "admin"


def test_an_unknown_tenant_gets_a_friendly_404(login, people):
    client = login(people.alice)
    response = client.get("/t/no-such-org/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "We could not find this page or organisation." in body
    assert 'href="/"' in body


def test_an_unknown_tenant_on_a_public_page_gets_the_same_404(client, people):
    for url in ["/t/no-such-org/signup/", "/t/no-such-org/invitations/abc/"]:
        response = client.get(url)
        assert response.status_code == 404
        assert "We could not find this page or organisation." in response.content.decode()


def test_a_page_that_does_not_exist_gets_the_friendly_404(client, people):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_the_settings_home_links_the_sections_that_exist(login, people):
    body = login(people.ada).get("/t/acme/settings/").content.decode()
    assert 'href="/t/acme/settings/members/"' in body
    assert 'href="/t/acme/settings/sla/policies/"' in body  # SLA targets, calendars, escalation
    for area in settings_areas.AREAS:
        try:
            url = reverse(area.url_name, kwargs={"tenant_slug": "acme"})
        except NoReverseMatch:
            assert f">{area.label}<" not in body
        else:
            assert f'href="{url}"' in body


def test_a_section_not_built_yet_is_left_out(people, monkeypatch):
    areas = [*settings_areas.AREAS, settings_areas.Area("Later", "settings-not-built-yet", "Soon.")]
    monkeypatch.setattr(settings_areas, "AREAS", areas)
    labels = [s["label"] for s in settings_areas.settings_areas("acme")]
    assert "Members" in labels and "Later" not in labels
