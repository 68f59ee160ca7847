"""The version column: a write based on a stale copy is refused, never applied; numbers are
allocated with the report and given back when it rolls back. (Threads: see the PostgreSQL
tests in test_concurrency_postgres.py.)"""

from __future__ import annotations

import pytest
from django.db import transaction
from django_fsm import ConcurrentTransition

from incidents.errors import StaleIncident
from incidents.models import Incident
from incidents.services.common import save_incident
from tests.incidents.build import incident_in, report


def test_saving_a_stale_copy_is_refused_as_a_conflict(people):
    incident = incident_in(people, "escalated")
    mine, theirs = Incident.objects.get(pk=incident.pk), Incident.objects.get(pk=incident.pk)
    theirs.title = "Their title"
    save_incident(theirs, ["title"])

    mine.description = "My description"
    # Services run in a transaction that the refusal rolls back; here a savepoint does that.
    with (
        pytest.raises(StaleIncident, match="INC-000001 was changed by someone else"),
        transaction.atomic(),
    ):
        save_incident(mine, ["description"])

    stored = Incident.objects.get(pk=incident.pk)
    assert (stored.title, stored.description, stored.version) == (
        "Their title",
        "",
        incident.version + 1,
    )


def test_a_full_save_of_a_stale_copy_is_refused_too(people):
    incident = incident_in(people, "escalated")
    mine, theirs = Incident.objects.get(pk=incident.pk), Incident.objects.get(pk=incident.pk)
    theirs.save()
    mine.title = "Overwrite everything"
    with pytest.raises(StaleIncident), transaction.atomic():
        save_incident(mine, [])  # update_fields={version, updated_at}: still checked
    # Without update_fields Django would fall back to an INSERT if the UPDATE matched nothing.
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        mine.save()
    assert Incident.objects.count() == 1
    assert Incident.objects.get(pk=incident.pk).title == "VPN drops every hour"


def test_each_save_moves_the_version_by_one(people):
    incident = incident_in(people, "escalated")
    copy = Incident.objects.get(pk=incident.pk)
    save_incident(copy, ["title"])
    save_incident(copy, ["title"])
    assert Incident.objects.get(pk=incident.pk).version == incident.version + 2


def test_an_incident_loaded_without_its_version_still_checks_it(people, django_assert_num_queries):
    incident = incident_in(people, "escalated")
    with django_assert_num_queries(1):
        rows = list(Incident.objects.only("id", "state", "title"))  # not one query per row
    stale = rows[0]
    Incident.objects.get(pk=incident.pk).save()
    stale.title = "Late"
    save_incident(stale, ["title"])  # the version is fetched at save time, then moves on
    assert Incident.objects.get(pk=incident.pk).version == incident.version + 2


def test_numbers_are_per_tenant_and_consecutive(people):
    numbers = [report(people).number for _ in range(3)]
    theirs = report(people, actor=people.actor(people.charlie, people.globex), routed=False)
    assert numbers == [1, 2, 3]
    assert theirs.reference == "INC-000001"


def test_a_rolled_back_report_does_not_burn_a_number(people):
    assert report(people).number == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        assert report(people).number == 2
        raise RuntimeError("the request failed after reporting")
    assert report(people).number == 2
    assert sorted(Incident.objects.values_list("number", flat=True)) == [1, 2]
