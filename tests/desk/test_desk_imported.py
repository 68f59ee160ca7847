"""Incidents imported while still open in their source tool: the queues can hide them (or show
only them), and an admin closes them in bulk, through the services; an agent may not."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.urls import reverse

from incidents.models import Incident, IncidentEvent
from incidents.services.bulk import IMPORTED_CLOSE_REASON
from tests.desk.desk_support import fresh, queue_url, routed, row_numbers
from tests.imports.conftest import run_command, source_row, write_csv

BULK = reverse("desk-queue-bulk", kwargs={"tenant_slug": "acme"})


def _import_old_ones(tmp_path) -> tuple[Incident, Incident]:
    """From a ServiceNow export of 2016: one incident still Active there, one Closed."""
    rows = [
        source_row("INC0000045", "Active", 0, "29-02-2016 10:00", opened_at="29-02-2016 10:00"),
        source_row("INC0000047", "Closed", 0, "01-03-2016 10:00"),
    ]
    run_command(write_csv(tmp_path / "old.csv", rows), tenant="acme")
    return (
        Incident.objects.get(source_number="INC0000045"),
        Incident.objects.get(source_number="INC0000047"),
    )


def _bulk(client, incidents, action: str):
    data = {
        "action": action,
        "incidents": [f"{i.number}:{fresh(i).version}" for i in incidents],
        "query": "queue=open&imported=only",
    }
    return client.post(BULK, data)


def test_the_queue_hides_imported_incidents_or_shows_only_them(people, login, tmp_path):
    left_open, _closed = _import_old_ones(tmp_path)
    ours = routed(people)
    client = login(people.alice)

    everything = client.get(queue_url(people, queue="open")).content.decode()
    assert set(row_numbers(everything)) == {left_open.number, ours.number}
    assert "Breached" in everything  # the years-old clock that prompted the filter

    hidden = client.get(queue_url(people, queue="open", imported="hide")).content.decode()
    assert row_numbers(hidden) == [ours.number]
    assert "Breached" not in hidden
    assert '<option value="hide" selected>Hide imported</option>' in hidden

    only = client.get(queue_url(people, queue="open", imported="only")).content.decode()
    assert row_numbers(only) == [left_open.number]


def test_an_admin_closes_imported_incidents_in_bulk(people, login, tmp_path):
    left_open, _closed = _import_old_ones(tmp_path)
    ours = routed(people)
    response = _bulk(login(people.ada), [left_open, ours], "close_imported")

    assert response.status_code == 302
    assert response["Location"] == "/t/acme/desk/?queue=open&imported=only"
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages[0] == f"Done for 1: {left_open.reference}."
    assert "was not imported" in messages[1]
    assert fresh(left_open).state == "cancelled"
    assert fresh(ours).is_open
    event = IncidentEvent.objects.filter(incident=left_open, transition="cancel").get()
    assert (event.actor_user, event.reason) == (people.ada, IMPORTED_CLOSE_REASON)

    left = login(people.ada).get(queue_url(people, queue="open", imported="only"))
    assert row_numbers(left.content.decode()) == []


def test_an_agent_may_not_close_imported_incidents(people, login, tmp_path):
    left_open, _closed = _import_old_ones(tmp_path)
    response = _bulk(login(people.alice), [left_open], "close_imported")

    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [
        f"Not applied to {left_open.reference}: Only an admin can close imported incidents."
    ]
    assert fresh(left_open).state == "diagnosing"
