"""Finding articles: words (stemmed on PostgreSQL), the reader's audience, the tenant, and a
fixed number of queries whatever the number of matches."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from knowledge import selectors
from knowledge.models import Audience

pytestmark = pytest.mark.django_db


def titles(articles) -> set[str]:
    return {a.title for a in articles}


@pytest.fixture
def library(people, writer):
    writer.article("Reset your VPN certificate", "Renew it from the VPN app.")
    writer.article("Printer on floor 3 jams", "Open tray 2 and remove the paper.")
    writer.article("VPN concentrator internals", "Restart the tunnel.", audience=Audience.AGENTS)
    writer.article("VPN draft notes", publish=False)
    writer.article("VPN for Globex", tenant_user=people.charlie, tenant=people.globex)


def test_every_word_must_match_and_the_last_is_a_prefix(people, library):
    alice = people.actor(people.alice)
    found = selectors.article_search(actor=alice, text="restart tunn")
    assert titles(found) == {"VPN concentrator internals"}
    found = selectors.article_search(actor=alice, text="paper")
    assert titles(found) == {"Printer on floor 3 jams"}
    assert selectors.article_search(actor=alice, text="printer tunnel") == []


def test_agents_find_every_article_requesters_the_published_requester_ones(people, library):
    agents = selectors.article_search(actor=people.actor(people.alice), text="vpn")
    assert titles(agents) == {
        "Reset your VPN certificate",
        "VPN concentrator internals",
        "VPN draft notes",
    }
    requesters = selectors.article_search(actor=people.actor(people.rita), text="vpn")
    assert titles(requesters) == {"Reset your VPN certificate"}
    drafts = selectors.article_search(actor=people.actor(people.alice), text="vpn", state="draft")
    assert titles(drafts) == {"VPN draft notes"}


def test_another_tenants_articles_are_never_found(people, library):
    found = selectors.article_search(actor=people.actor(people.charlie, people.globex), text="vpn")
    assert titles(found) == {"VPN for Globex"}


def test_suggestions_take_any_telling_word_of_a_title_being_typed(people, library):
    found = selectors.articles_suggested(tenant=people.acme, text="my vpn does not work")
    assert titles(found) == {"Reset your VPN certificate"}
    agents = selectors.articles_suggested(tenant=people.acme, text="vpn", agents=True)
    assert titles(agents) == {"Reset your VPN certificate", "VPN concentrator internals"}
    assert selectors.articles_suggested(tenant=people.acme, text="it does not work") == []


@pytest.mark.parametrize("count", [2, 12])
def test_a_search_is_one_query(people, writer, count, django_assert_num_queries):
    for n in range(count):
        writer.article(f"VPN how-to {n}", category=people.network)
    rita = people.actor(people.rita)
    with django_assert_num_queries(1):
        found = selectors.article_search(actor=rita, text="vpn")
        assert all(a.category.name == "Network" for a in found)
    assert len(found) == count
    with django_assert_num_queries(1):
        selectors.articles_suggested(tenant=people.acme, text="vpn how")


def test_the_article_list_page_reads_in_fixed_queries(
    people, writer, login, django_assert_max_num_queries
):
    writer.article("VPN one", category=people.network)
    client = login(people.alice)
    with django_assert_max_num_queries(12) as few:
        client.get("/t/acme/knowledge/?q=vpn")
    for n in range(10):
        writer.article(f"VPN {n}", category=people.network)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/t/acme/knowledge/?q=vpn").content.decode()
    assert page.count("VPN") >= 11


@pytest.mark.postgres
def test_the_search_reads_the_tenant_first_gin_index(people, library):
    articles = selectors.articles_visible(actor=people.actor(people.alice))
    query = selectors._find(articles, ["vpn"], tenant=people.acme, any_word=False)
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE knowledge_article")
        # A table this small PostgreSQL reads whole, or through the tenant-leading b-trees;
        # without them (rolled back with the test) the GIN index must serve the search.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")  # nor walk the primary key
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'knowledge_article' "
            "AND indexdef LIKE '%%USING btree (tenant_id%%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Bitmap Index Scan on article_search_vector" in plan, plan
    assert re.search(r"Index Cond: \(\(tenant_id = '?\d+'?::bigint\) AND", plan), plan
