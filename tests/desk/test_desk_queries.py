"""The queue page and the incident page run a fixed number of queries, whatever the number of
rows on the page or events on the incident."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import services
from tests.desk.desk_support import detail_url, fresh, queue_url, report, routed

# Middleware (session, user, membership) 3; queue: my groups 1, page 1, the page's resolution
# clocks 1, counts 7 (History's too); filter and bulk choices: levels, groups, agents,
# categories 4; the agent's saved views (their tabs) 1; the header's unread-notifications bell 1;
# the agent's open review actions (reviews/: the "Your review actions" panel) 1.
QUEUE_QUERIES = 20
# Middleware 3; incident 1; participants, contacts, children, duplicates 4; timeline 4 (events,
# comments, attachments, notifications); who may accept 1; form choices 3; the bell 1; the SLA
# panel 3 (clocks with their calendar, their pauses, the calendar's days off); its followers 1;
# the canned responses the agent may insert 1; the known errors of its category that it may look
# like (problems/, for an incident with a category; its own problem comes with the incident) 1.
INCIDENT_QUERIES = 23


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_queue_page_runs_the_same_queries_for_3_or_40_rows(
    people, login, django_assert_max_num_queries
):
    client = login(people.alice)
    for n in range(3):
        routed(people, f"First {n}")
    few = _count(client, queue_url(people, queue="open"))
    for n in range(37):
        routed(people, f"More {n}")
    with django_assert_max_num_queries(QUEUE_QUERIES):
        html = client.get(queue_url(people, queue="open")).content.decode()
    assert html.count("<tr data-number=") == 40
    assert _count(client, queue_url(people, queue="open")) == few


def test_the_queue_page_with_filters_and_search_stays_pinned(
    people, login, django_assert_max_num_queries
):
    for n in range(10):
        routed(people, f"VPN {n}")
    client = login(people.alice)
    url = queue_url(people, queue="open", q="vpn", state="escalated", group=people.group.pk)
    # A search's two probes (desk/search.py: is the word common, else its matches) on PostgreSQL.
    with django_assert_max_num_queries(QUEUE_QUERIES + 2):
        assert client.get(url).status_code == 200


def test_the_polled_rows_run_fewer_queries_than_the_page(
    people, login, django_assert_max_num_queries
):
    for n in range(20):
        routed(people, f"VPN {n}")
    client = login(people.alice)
    with django_assert_max_num_queries(QUEUE_QUERIES):
        response = client.get(
            queue_url(people, queue="open", partial="rows"), headers={"HX-Request": "true"}
        )
    assert response.content.decode().count("<tr data-number=") == 20


def _busy(people, incident, rounds: int) -> None:
    alice = people.actor(people.alice)
    for n in range(rounds):
        services.comment_add(incident=fresh(incident), actor=alice, body=f"Reply {n}")
        services.comment_add(
            incident=fresh(incident),
            actor=alice,
            body=f"Note {n}",
            public=False,
            files=[SimpleUploadedFile(f"n{n}.txt", b"x", content_type="text/plain")],
        )
        services.attachment_add(
            incident=fresh(incident),
            actor=alice,
            upload=SimpleUploadedFile(f"a{n}.txt", b"x", content_type="text/plain"),
        )
        services.incident_join(
            incident=fresh(incident),
            actor=alice,
            user=[people.bob, people.max, people.ada][n % 3],
        )


def test_the_incident_page_runs_the_same_queries_for_few_or_many_events(
    people, login, django_assert_max_num_queries
):
    alice = people.actor(people.alice)
    incident = services.incident_accept(incident=routed(people), actor=alice)
    child = report(people, "Child")
    from incidents.services.parent import incident_link_parent

    incident_link_parent(incident=child, actor=alice, parent=fresh(incident))
    client = login(people.alice)
    few = _count(client, detail_url(incident))
    _busy(people, incident, 12)
    with django_assert_max_num_queries(INCIDENT_QUERIES):
        html = client.get(detail_url(incident)).content.decode()
    assert html.count("Reply ") >= 12 and "a11.txt" in html
    assert _count(client, detail_url(incident)) == few
