"""Candidate problems: recurring incidents without a problem, clustered by category and similar
title; the managers' page and its one-click "Create problem"; requesters, agents and charlie
get 404."""

from __future__ import annotations

import gc
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from incidents import services as incidents
from incidents.models import Incident
from problems import services
from problems.candidates import problem_candidates, similarity, title_trigrams
from problems.models import Problem, ProblemLink
from problems.selectors import problem_incidents
from problems.services.from_incidents import ProblemFromIncidents, problem_log_from_incidents
from tests.factories import CategoryFactory
from tests.problems.support import incident, problem

pytestmark = pytest.mark.django_db

PAGE = reverse("problems-candidate-list", kwargs={"tenant_slug": "acme"})
CREATE = reverse("problems-candidate-create", kwargs={"tenant_slug": "acme"})
VPN = ["VPN drops every hour", "VPN drops every hour", "vpn dropping every hour"]


def _many(people, titles, **fields) -> list[Incident]:
    return [incident(people, title, **fields) for title in titles]


def _found(people):
    return problem_candidates(tenant=people.acme)


def _post(client, cluster, **changes):
    data = {
        "title": cluster.title,
        "category": cluster.category_id or "",
        "incidents": cluster.numbers_text,
        **changes,
    }
    return client.post(CREATE, data)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- clustering ----------------------------------------------------------------------------------
def test_similar_titles_of_one_category_make_one_cluster(people):
    made = _many(people, VPN[:2]) + [incident(people, VPN[2], by=people.bob)]
    incident(people, "Printer on floor 2 jams")
    (cluster,) = _found(people).clusters
    assert cluster.count == 3
    assert cluster.title == "VPN drops every hour"  # the title given most often
    assert cluster.category == "Network" and cluster.category_id == people.network.pk
    assert cluster.numbers == [i.number for i in reversed(made[:3])]  # newest first
    assert cluster.first_reported == made[0].reported_at
    assert cluster.last_reported == made[2].reported_at
    assert cluster.affected == 2  # rita and bob


def test_people_affected_are_counted_once_as_on_the_problem_page(people):
    made = _many(people, VPN)
    alice = people.actor(people.alice)
    incidents.incident_join(incident=made[0], actor=alice, user=people.max)
    incidents.incident_join(incident=made[1], actor=alice, user=people.max)
    incidents.incident_contact_add(incident=made[2], actor=alice, email="Guest@Example.com")
    (cluster,) = _found(people).clusters
    assert cluster.affected == 3  # rita, max and the guest
    p = problem(people, *made)
    assert problem_incidents(p).affected == cluster.affected


def test_of_titles_given_equally_often_the_shortest_names_the_cluster(people):
    _many(people, ["VPN drops every hour", "vpn dropping every hour", "VPN drops every hour (4)"])
    assert _found(people).clusters[0].title == "VPN drops every hour"


def test_two_similar_incidents_are_not_yet_a_cluster(people):
    _many(people, VPN[:2])
    assert _found(people).clusters == []


def test_the_same_title_in_another_category_is_another_fault(people):
    hardware = CategoryFactory.create(tenant=people.acme, name="Hardware", slug="hardware")
    _many(people, VPN[:2])
    _many(people, VPN[:2], category=hardware)
    assert _found(people).clusters == []


def test_numbers_in_titles_do_not_tell_faults_apart(people):
    _many(people, ["Printer 3 jams", "Printer 12 jams", "printer 7 jams!"])
    (cluster,) = _found(people).clusters
    assert cluster.count == 3


def test_dissimilar_titles_stay_apart(people):
    _many(people, ["VPN drops every hour", "Printer on floor 2 jams", "Mailbox is full"])
    assert _found(people).clusters == []


def test_linked_cancelled_old_and_child_incidents_are_left_out(people):
    kept = _many(people, VPN)
    linked, cancelled, old, child = _many(people, VPN + VPN[:1])
    problem(people, linked)
    Incident.objects.filter(pk=cancelled.pk).update(state="cancelled")
    Incident.objects.filter(pk=old.pk).update(reported_at=timezone.now() - timedelta(days=31))
    Incident.objects.filter(pk=child.pk).update(parent=kept[0])
    (cluster,) = _found(people).clusters
    assert sorted(cluster.numbers) == [i.number for i in kept]


def test_another_tenants_incidents_never_appear(people):
    globex_net = CategoryFactory.create(tenant=people.globex, name="Network", slug="network")
    charlie = people.actor(people.charlie, people.globex)
    for title in VPN:
        incidents.incident_report(actor=charlie, title=title, category=globex_net)
    assert _found(people).clusters == []
    assert problem_candidates(tenant=people.globex).clusters[0].count == 3


def test_the_biggest_cluster_comes_first(people):
    _many(people, ["Printer on floor 2 jams"] * 3)
    _many(people, VPN + VPN[:1])
    assert [c.count for c in _found(people).clusters] == [4, 3]


def test_a_window_cut_by_the_read_limit_is_reported(people):
    made = _many(people, VPN + VPN)
    found = problem_candidates(tenant=people.acme, read_limit=4)
    assert found.read == 4 and found.cut_at == made[2].reported_at
    assert found.clusters[0].count == 4
    assert problem_candidates(tenant=people.acme, read_limit=6).cut_at is None  # all read


def test_the_cyclic_collector_is_back_as_it_was_after_clustering(people):
    _many(people, VPN)
    assert gc.isenabled()
    assert _found(people).clusters and gc.isenabled()
    gc.disable()
    try:
        assert _found(people).clusters and not gc.isenabled()
    finally:
        gc.enable()


def test_similarity_is_shared_trigrams_over_all_trigrams():
    assert title_trigrams("cat") == {"  c", " ca", "cat", "at "}
    assert similarity(title_trigrams("cat"), title_trigrams("cats")) == 3 / 6
    assert title_trigrams("Printer 3 jams") == title_trigrams("printer jams")


@pytest.mark.postgres
def test_trigrams_and_similarity_are_pg_trgms(people):
    titles = ["VPN drops every hour", "Outlook crash, opening attachment!", "S: drive not mapped"]
    with connection.cursor() as cursor:
        for title in titles:
            cursor.execute("SELECT show_trgm(%s)", [title])
            assert title_trigrams(title) == set(cursor.fetchone()[0])
        cursor.execute("SELECT similarity(%s, %s)", titles[:2])
        expected = cursor.fetchone()[0]
    assert similarity(title_trigrams(titles[0]), title_trigrams(titles[1])) == pytest.approx(
        expected, abs=1e-6
    )


# --- the page ------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["max", "ada"])
def test_managers_and_admins_see_the_clusters(people, login, who):
    made = _many(people, VPN)
    page = login(getattr(people, who)).get(PAGE).content.decode()
    assert "VPN drops every hour" in page
    assert made[2].reference in page
    assert 'data-testid="candidate-count">3<' in page


@pytest.mark.parametrize("who", ["alice", "rita", "charlie"])
def test_agents_requesters_and_other_tenants_get_404(people, login, who):
    made = _many(people, VPN)
    client = login(getattr(people, who))
    assert client.get(PAGE).status_code == 404
    data = {"title": "VPN", "incidents": ",".join(str(i.number) for i in made)}
    assert client.post(CREATE, data).status_code == 404
    assert not Problem.objects.exists()


def test_the_problem_list_links_to_the_page_for_managers_only(people, login):
    problems = reverse("problems-problem-list", kwargs={"tenant_slug": "acme"})
    assert PAGE in login(people.max).get(problems).content.decode()
    assert PAGE not in login(people.alice).get(problems).content.decode()


def test_an_empty_page_says_so(people, login):
    _many(people, VPN[:2])
    page = login(people.max).get(PAGE).content.decode()
    assert "No recurring incidents" in page
    assert 'data-testid="candidate"' not in page


def test_the_page_reads_the_same_few_queries_however_many_clusters(
    people, login, django_assert_max_num_queries
):
    """Session, user, membership, the window, the clusters' affected members and contacts, and
    the notification bell."""
    client = login(people.max)
    _many(people, VPN)
    with django_assert_max_num_queries(7):
        client.get(PAGE)
    _many(people, ["Printer on floor 2 jams"] * 3 + ["Mailbox is full"] * 3)
    with django_assert_max_num_queries(7):
        page = client.get(PAGE).content.decode()
    assert page.count('data-testid="candidate"') == 3


# --- create a problem from a cluster -------------------------------------------------------------
def test_create_problem_logs_it_and_links_the_whole_cluster(people, login):
    made = _many(people, VPN)
    Incident.objects.filter(pk=made[1].pk).update(impact="high")
    Incident.objects.filter(pk=made[2].pk).update(urgency="low")
    (cluster,) = _found(people).clusters
    response = _post(login(people.max), cluster)
    p = Problem.objects.get(tenant=people.acme)
    assert response.status_code == 302 and response["Location"].endswith(f"/problems/{p.number}/")
    assert p.title == "VPN drops every hour" and p.category == people.network
    assert (p.impact, p.urgency) == ("high", "medium")  # the highest of its incidents
    assert set(p.links.values_list("incident", flat=True)) == {i.pk for i in made}
    assert f"{p.reference} created, with 3 incidents linked." in _messages(response)
    assert _found(people).clusters == []  # linked now: no longer a candidate


def test_incidents_linked_meanwhile_stay_and_are_counted(people, login):
    made = _many(people, VPN)
    (cluster,) = _found(people).clusters
    other = problem(people, made[0], title="Someone was faster")
    response = _post(login(people.max), cluster)
    p = Problem.objects.exclude(pk=other.pk).get()
    assert response.status_code == 302
    assert set(p.links.values_list("incident", flat=True)) == {made[1].pk, made[2].pk}
    assert ProblemLink.objects.get(incident=made[0]).problem_id == other.pk
    assert any(
        m.startswith("1 of the cluster's incidents was already linked") and made[0].reference in m
        for m in _messages(response)
    )


@pytest.mark.postgres
def test_an_incident_linked_while_the_create_runs_is_counted_not_refused(transactional_db, people):
    """The link of another problem is not committed when the create reads which are free; the
    create then waits on that incident's row lock and, once it is released, finds the link."""
    made = _many(people, VPN)
    other = problem(people, title="Someone was faster")
    holding, release = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def link_first() -> None:
        try:
            with transaction.atomic():
                services.problem_link_incident(
                    problem=other, incident=made[0], actor=people.actor(people.alice)
                )
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    def create() -> None:
        try:
            outcomes["create"] = problem_log_from_incidents(
                actor=people.actor(people.max), title=VPN[0], category=None, incidents=made
            )
        finally:
            connection.close()

    first, second = threading.Thread(target=link_first), threading.Thread(target=create)
    first.start()
    assert holding.wait(10)
    second.start()
    time.sleep(0.5)  # the create now waits for made[0]'s row lock
    release.set()
    first.join(10)
    second.join(10)
    outcome = outcomes["create"]
    assert isinstance(outcome, ProblemFromIncidents)
    assert outcome.already_linked == [made[0].reference]
    assert outcome.linked == [made[1].reference, made[2].reference]
    assert ProblemLink.objects.get(incident=made[0]).problem_id == other.pk


def test_a_cluster_linked_in_full_meanwhile_creates_nothing(people, login):
    made = _many(people, VPN)
    (cluster,) = _found(people).clusters
    problem(people, *made)
    response = _post(login(people.max), cluster)
    assert response.status_code == 400
    assert "All 3 incidents are already linked to a problem" in response.content.decode()
    assert Problem.objects.count() == 1


def test_an_unknown_incident_number_is_refused_with_a_message(people, login):
    made = _many(people, VPN)
    (cluster,) = _found(people).clusters
    response = _post(login(people.max), cluster, incidents=f"{made[0].number},999999")
    assert response.status_code == 400
    assert "There is no incident INC-999999 here." in response.content.decode()
    assert not Problem.objects.exists()


def test_another_tenants_category_is_refused(people, login):
    _many(people, VPN)
    (cluster,) = _found(people).clusters
    theirs = CategoryFactory.create(tenant=people.globex, name="Network", slug="network")
    response = _post(login(people.max), cluster, category=theirs.pk)
    assert response.status_code == 400
    assert "not one of this desk" in response.content.decode()
    assert not Problem.objects.exists()
