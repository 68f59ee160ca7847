"""The dashboards' "Overdue review actions" figure (served by reviews/, loaded by the page)."""

from __future__ import annotations

from django.urls import reverse

from reviews import services
from tests.reviews.support import alices_action, major_incident

URL = reverse("reviews-dashboard", args=["acme"])


def test_the_figure_counts_open_actions_past_their_due_date(people, login):
    incident = major_incident(people)[0]
    late = alices_action(people, incident, "Alert on queue depth", due_in_days=-3)
    services.action_item_add(
        actor=people.actor(people.max),
        review=late.review,
        title="Not late yet",
        owner=people.bob,
        due_date=late.due_date.replace(year=late.due_date.year + 1),
    )
    client = login(people.max)
    html = client.get(URL).content.decode()
    assert '<strong data-testid="overdue-review-actions">1</strong>' in html
    assert "Alert on queue depth" in html and "Not late yet" not in html
    services.action_item_set_done(actor=people.actor(people.alice), item=late)
    html = client.get(URL).content.decode()
    assert '<strong data-testid="overdue-review-actions">0</strong>' in html


def test_the_dashboard_page_loads_the_figure(people, login):
    html = login(people.max).get(reverse("dashboards-home", args=["acme"])).content.decode()
    assert f'hx-get="{URL}"' in html


def test_the_figure_is_for_managers_only(people, login):
    for user in (people.alice, people.rita, people.charlie):
        assert login(user).get(URL).status_code == 404
