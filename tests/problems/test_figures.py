"""problems.figures.problem_figures: the dashboard's problem figures, in a fixed number of
queries, for one tenant only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Q
from django.utils import timezone

from incidents import services as incidents
from incidents.models import Incident
from problems import services
from problems.figures import problem_figures
from tests.factories import CategoryFactory
from tests.problems.support import incident, known_error, problem

pytestmark = pytest.mark.django_db


def _since():
    return timezone.now() - timedelta(days=30)


def _aged(i: Incident, days: int) -> Incident:
    Incident.objects.filter(pk=i.pk).update(reported_at=timezone.now() - timedelta(days=days))
    return i


def test_open_problems_known_errors_and_the_open_incidents_they_explain_are_counted(people):
    explained = known_error(people, problem(people, incident(people), incident(people)))
    problem(people, incident(people, "Wi-Fi slow"), title="Wi-Fi slow on floor 2")  # logged
    gone = problem(people, title="Printer ghost")
    services.problem_cancel(problem=gone, actor=people.actor(people.alice), reason="Duplicate")
    figures = problem_figures(tenant=people.acme, since=_since())
    assert figures.open_problems == 2  # the cancelled one is not open
    assert figures.known_errors == 1
    assert figures.incidents_on_known_errors == 2
    assert explained.is_known_error


def test_top_recurring_categories_count_the_periods_incidents_and_those_without_a_problem(
    people,
):
    hardware = CategoryFactory.create(tenant=people.acme, name="Hardware", slug="hardware")
    vpn = [incident(people) for _ in range(3)]
    problem(people, *vpn[:2])
    incident(people, "Laptop fan loud", category=hardware)
    _aged(incident(people, "Old laptop fan", category=hardware), days=40)
    _aged(incident(people, "Old laptop fan again", category=hardware), days=40)
    figures = problem_figures(tenant=people.acme, since=_since())
    rows = [(c.name, c.incidents, c.without_problem) for c in figures.top_categories]
    assert rows == [("Network", 3, 1), ("Hardware", 1, 1)]
    older = problem_figures(tenant=people.acme, since=timezone.now() - timedelta(days=60))
    assert [(c.name, c.incidents) for c in older.top_categories] == [
        ("Hardware", 3),
        ("Network", 3),
    ]


def test_the_period_has_an_end(people):
    incident(people)
    _aged(incident(people, "Last month"), days=20)
    ten_days_ago = timezone.now() - timedelta(days=10)
    figures = problem_figures(tenant=people.acme, since=_since(), until=ten_days_ago)
    assert [(c.name, c.incidents) for c in figures.top_categories] == [("Network", 1)]


def test_the_dashboard_filter_scopes_problems_and_incidents_alike(people):
    hardware = CategoryFactory.create(tenant=people.acme, name="Hardware", slug="hardware")
    known_error(people, problem(people, incident(people)))
    problem(people, incident(people, "Laptop fan loud", category=hardware), title="Fans")
    figures = problem_figures(tenant=people.acme, since=_since(), where=Q(category_id=hardware.pk))
    assert (figures.open_problems, figures.known_errors, figures.incidents_on_known_errors) == (
        1,
        0,
        0,
    )
    assert [c.name for c in figures.top_categories] == ["Hardware"]


def test_another_tenants_problems_and_incidents_are_left_out(people):
    charlie = people.actor(people.charlie, people.globex)
    theirs = CategoryFactory.create(tenant=people.globex, name="Network", slug="network")
    linked = incidents.incident_report(actor=charlie, title="Their VPN", category=theirs)
    p = services.problem_log(actor=charlie, title="Their VPN", incidents=[linked])
    services.problem_record_known_error(
        problem=p, actor=charlie, root_cause="Theirs", workaround="Theirs too"
    )
    figures = problem_figures(tenant=people.acme, since=_since())
    assert (figures.open_problems, figures.known_errors, figures.incidents_on_known_errors) == (
        0,
        0,
        0,
    )
    assert figures.top_categories == []
    assert problem_figures(tenant=people.globex, since=_since()).known_errors == 1


def test_the_figures_take_three_queries_however_many_problems(people, django_assert_num_queries):
    for n in range(4):
        known_error(people, problem(people, incident(people, f"VPN {n}"), title=f"VPN {n}"))
    with django_assert_num_queries(3):
        problem_figures(tenant=people.acme, since=_since())
