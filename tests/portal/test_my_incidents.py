"""My incidents: own and joined, newest activity first, open/closed filter, fixed queries."""

from __future__ import annotations

import re

from django.urls import reverse

from incidents import services


def listed(client, show: str | None = None) -> list[str]:
    params = {"show": show} if show else {}
    html = client.get(reverse("portal-home", args=["acme"]), params).content.decode()
    block = html.split('data-testid="my-incidents"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<strong>(INC-\d{6})</strong>", block)


def test_my_incidents_lists_own_and_joined_newest_activity_first(people, login, desk, paul, rosa):
    first = desk.report(title="Mine, old")
    joined = desk.report(title="Paul's, joined by rita", user=paul)
    desk.join(joined, people.rita)
    desk.report(title="Rosa's own", user=rosa)
    desk.reply(first, "Looking into it")  # newest activity now on the older incident
    assert listed(login(people.rita)) == [first.reference, joined.reference]


def test_the_list_shows_state_priority_and_last_update(people, login, desk):
    desk.report(title="Wifi down", impact="high", urgency="high")
    html = login(people.rita).get(reverse("portal-home", args=["acme"])).content.decode()
    assert "Escalated" in html and "Priority" in html and "High" in html
    assert "last update" in html


def test_open_and_closed_filter(people, login, desk):
    open_one = desk.report(title="Still open")
    done = desk.resolve(desk.report(title="Done"))
    desk.run(services.incident_close, incident=done, actor=people.actor(people.rita), rating=5)
    waiting = desk.resolve(desk.report(title="Resolved, waiting for me"))
    client = login(people.rita)
    assert listed(client) == [waiting.reference, open_one.reference]  # open is the default
    assert listed(client, "closed") == [done.reference]
    assert listed(client, "all") == [waiting.reference, done.reference, open_one.reference]


def test_my_incidents_renders_in_fixed_queries(people, login, desk, django_assert_max_num_queries):
    client = login(people.rita)
    desk.report(title="One")
    with django_assert_max_num_queries(7) as few:
        client.get(reverse("portal-home", args=["acme"]), {"show": "all"})
    for n in range(12):
        desk.report(title=f"Problem {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("portal-home", args=["acme"]), {"show": "all"})
    assert response.content.decode().count("INC-0000") == 13


def test_another_requesters_incidents_are_not_listed(people, login, desk, rosa):
    desk.report(title="Rita's")
    assert listed(login(rosa), "all") == []
