"""Saved views (issue 14): an agent names the current queue, filters and search, finds them
among the queue tabs, renames and deletes them; they are the agent's own."""

from __future__ import annotations

import pytest
from django.urls import reverse

from desk import services
from desk.models import SavedView
from tenancy.errors import InvalidInput, NotAllowed
from tests.desk.desk_support import queue_url, report


def _create_url(people) -> str:
    return reverse("desk-view-create", kwargs={"tenant_slug": people.acme.slug})


def _edit_url(view: SavedView, name: str = "desk-view-edit") -> str:
    return reverse(name, kwargs={"tenant_slug": view.tenant.slug, "pk": view.pk})


def test_a_saved_view_keeps_the_filters_and_shows_among_the_tabs(people, login):
    wanted = report(people, "Plotter jams", impact="high", urgency="high")
    report(people, "Printer jams")
    client = login(people.alice)
    query = "queue=open&q=plotter&after=1.2.3&partial=rows"  # paging is not kept
    response = client.post(_create_url(people), {"name": "Plotters", "query": query})
    view = SavedView.objects.get(user=people.alice)
    assert view.query == "queue=open&q=plotter"
    assert response.status_code == 302 and f"view={view.pk}" in response["Location"]
    html = client.get(response["Location"]).content.decode()
    assert 'aria-current="page">Plotters</a>' in html
    assert f'data-number="{wanted.number}"' in html and "Printer jams" not in html
    # ... and the tab is there from any queue.
    assert ">Plotters</a>" in client.get(queue_url(people, queue="mine")).content.decode()


def test_a_view_name_is_required_and_unique_per_agent_whatever_its_case(people, login):
    client = login(people.alice)
    client.post(_create_url(people), {"name": "Plotters", "query": "queue=open"})
    response = client.post(_create_url(people), {"name": "plotters", "query": "queue=mine"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "You already have a view called “plotters”." in html
    assert 'value="plotters"' in html  # what the agent typed is kept
    response = client.post(_create_url(people), {"name": "  ", "query": "queue=mine"})
    assert "Give the view a name." in response.content.decode()
    # bob may use the same name: views are personal.
    services.saved_view_create(actor=people.actor(people.bob), name="Plotters", query="")
    assert SavedView.objects.count() == 2


def test_an_agent_renames_and_deletes_a_view(people, login):
    view = services.saved_view_create(
        actor=people.actor(people.alice), name="Plotters", query="queue=open"
    )
    client = login(people.alice)
    assert client.post(_edit_url(view), {"name": "Big plotters"}).status_code == 302
    view.refresh_from_db()
    assert view.name == "Big plotters"
    html = client.get(queue_url(people, queue="open")).content.decode()
    assert ">Big plotters</a>" in html
    assert client.post(_edit_url(view, "desk-view-delete")).status_code == 302
    assert not SavedView.objects.exists()
    assert ">Big plotters</a>" not in client.get(queue_url(people)).content.decode()


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_another_agents_or_tenants_view_is_a_404(people, client, who):
    view = services.saved_view_create(
        actor=people.actor(people.alice), name="Mine", query="queue=open"
    )
    client.force_login(getattr(people, who))
    assert client.get(_edit_url(view)).status_code == 404
    assert client.post(_edit_url(view), {"name": "Taken"}).status_code == 404
    assert client.post(_edit_url(view, "desk-view-delete")).status_code == 404
    view.refresh_from_db()
    assert view.name == "Mine"


def test_another_agents_view_id_in_the_url_marks_no_tab(people, login):
    view = services.saved_view_create(actor=people.actor(people.bob), name="Bobs", query="")
    html = login(people.alice).get(queue_url(people, view=view.pk)).content.decode()
    assert "Bobs" not in html


def test_only_agents_save_views(people):
    with pytest.raises(NotAllowed):
        services.saved_view_create(actor=people.actor(people.rita), name="Mine", query="")
    with pytest.raises(InvalidInput):
        services.saved_view_create(actor=people.actor(people.alice), name="x" * 61, query="")
