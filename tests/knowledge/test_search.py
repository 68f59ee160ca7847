"""Finding articles: words (stemmed on PostgreSQL), the reader's audience, the tenant, and a
fixed number of queries whatever the number of matches."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.db import connection

from knowledge import selectors
from knowledge.models import Article, Audience
from tenancy import textsearch

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
def test_a_search_is_a_fixed_number_of_queries(
    people, writer, count, django_assert_num_queries, django_assert_max_num_queries
):
    for n in range(count):
        writer.article(f"VPN how-to {n}", category=people.network)
    rita = people.actor(people.rita)
    # PostgreSQL: the latest articles' matches, the GIN index's, then the ranked page.
    with django_assert_num_queries(3 if settings.IS_POSTGRES else 1):
        found = selectors.article_search(actor=rita, text="vpn")
        assert all(a.category.name == "Network" for a in found)
    assert len(found) == count
    # ... twice at most for a suggestion: every word, then any word when too few have all.
    with django_assert_max_num_queries(6 if settings.IS_POSTGRES else 2):
        selectors.articles_suggested(tenant=people.acme, text="vpn how")


def test_a_suggestion_offers_articles_with_every_word_first(people, writer):
    writer.article("VPN drops every hour", "Renew the lease.")
    writer.article("Laptop battery", "Calibrate it.")
    writer.article("VPN on the laptop drops", "Update the client.")
    found = selectors.articles_suggested(tenant=people.acme, text="my laptop vpn drops")
    assert [a.title for a in found][0] == "VPN on the laptop drops"
    assert titles(found) == {"VPN on the laptop drops", "VPN drops every hour", "Laptop battery"}


@pytest.mark.postgres
def test_a_common_word_is_ranked_among_the_latest_articles_and_finds_the_same(
    people, writer, monkeypatch
):
    for n in range(40):
        writer.article(f"Printer jams on floor {n}", "Open the tray.")
    alice = people.actor(people.alice)
    assert len(textsearch.latest_matches(
        selectors.ARTICLES, "printer", tenant_id=people.acme.pk, window=selectors.WINDOW
    )) >= selectors.COMMON  # fmt: skip
    common = titles(selectors.article_search(actor=alice, text="printer"))
    monkeypatch.setattr(selectors, "COMMON", 10**6)  # every word rare: the GIN index's matches
    assert titles(selectors.article_search(actor=alice, text="printer")) == common
    assert len(common) == 40


@pytest.mark.postgres
def test_a_word_only_older_articles_have_is_found_past_the_latest_window(
    people, writer, monkeypatch
):
    for n in range(6):
        writer.article(f"Lotus Notes archive {n}", "Old mail client.")
    for n in range(6):
        writer.article(f"Printer jams {n}", "Open the tray.")
    monkeypatch.setattr(selectors, "WINDOW", 4)
    monkeypatch.setattr(selectors, "COMMON", 2)
    alice = people.actor(people.alice)
    assert len(selectors.article_search(actor=alice, text="lotus")) == 6
    assert len(selectors.article_search(actor=alice, text="printer")) == 4  # the latest 4


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


def _plan(sql: str, params: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE knowledge_article")
        # A table this small PostgreSQL reads whole; without that (rolled back with the test)
        # the indexes must serve the search.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_the_search_reads_the_tenant_first_gin_index(people, library):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")  # nor walk a b-tree
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'knowledge_article' "
            "AND indexdef LIKE '%%USING btree (tenant_id%%'"
        )
        for (name,) in cursor.fetchall():
            # A constraint's index (the tenant key of tenancy/key_migrations.py) goes with its
            # constraint, and the composite foreign keys on it (the test's transaction only).
            cursor.execute(
                "SELECT 1 FROM pg_constraint WHERE conrelid = 'knowledge_article'::regclass "
                "AND conname = %s",
                [name],
            )
            if cursor.fetchone():
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no checks pending: ALTER may run
                cursor.execute(f'ALTER TABLE knowledge_article DROP CONSTRAINT "{name}" CASCADE')
            else:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    sql = textsearch.matches_sql(selectors.ARTICLES)
    plan = _plan(sql, [people.acme.pk, "english", "vpn:*", 501])
    assert "Bitmap Index Scan on article_search_vector" in plan, plan
    assert re.search(r"Index Cond: \(\(tenant_id = '?\d+'?::bigint\) AND", plan), plan


@pytest.mark.postgres
def test_the_latest_articles_are_walked_in_the_order_of_their_index(people, library):
    Article.objects.bulk_create(
        Article(tenant=people.acme, title=f"Note {n}", body="Printer tray.") for n in range(2000)
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan = off")
    sql = textsearch.latest_sql(selectors.ARTICLES)
    plan = _plan(sql, [people.acme.pk, 100, "english", "vpn:*"])
    assert "Index Scan using article_recent" in plan, plan
    assert "Sort" not in plan, plan
