"""The articles API: create (with Idempotency-Key), edit with If-Match and versions, publish and
retire with problem+json refusals, search; requesters read only published requester articles
and never write; other tenants get 404; the list's queries are pinned."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from knowledge import services
from knowledge.models import Article, ArticleIncident, ArticleProblem, ArticleVersion, Audience
from tests.api.helpers import problem
from tests.desk.desk_support import routed
from tests.problems.support import incident, known_error
from tests.problems.support import problem as a_problem

pytestmark = pytest.mark.django_db

LIST = "/api/v1/articles/"


def _url(article: Article, tail: str = "") -> str:
    return f"{LIST}{article.pk}/{tail}"


def test_an_agent_creates_a_draft_and_a_repeat_with_the_same_key_creates_nothing(people, api):
    incident = routed(people)
    body = {
        "title": "Reset your VPN certificate",
        "body": "Open the app and choose **Renew**.\n\n<script>alert(1)</script>",
        "category": "network",
        "audience": "requesters",
        "incident": incident.reference,
    }
    first = api.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="art-1")
    again = api.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="art-1")
    assert first.status_code == 201, first.content
    item = first.json()
    assert (item["state"], item["version"], item["category"]) == ("draft", 1, "network")
    assert "<strong>Renew</strong>" in item["html"] and "<script>" not in item["html"]
    assert item["url"].endswith(f"/t/acme/knowledge/{item['id']}/")
    assert first["Location"] == item["url"] and first["ETag"] == '"1"'
    assert again.status_code == 201 and again.json() == item
    assert again["Idempotent-Replayed"] == "true"
    assert Article.objects.count() == 1
    assert ArticleIncident.objects.get().incident == incident


def test_a_bad_article_is_refused_with_a_clear_message_and_nothing_is_created(people, api):
    blank = problem(api.post(LIST, {"title": " ", "body": "x"}, format="json"), 400)
    assert blank["errors"]["title"] == ["Give the article a title."]
    assert blank["detail"] == "Give the article a title."
    too_long = problem(api.post(LIST, {"title": "T" * 201}, format="json"), 400)
    assert too_long["errors"]["title"] == ["A title is limited to 200 characters."]
    audience = problem(api.post(LIST, {"title": "T", "audience": "all"}, format="json"), 400)
    assert audience["errors"]["audience"] == [
        "Choose who may read the article: requesters or agents."
    ]
    category = problem(api.post(LIST, {"title": "T", "category": "nope"}, format="json"), 400)
    assert category["errors"]["category"] == ["No active category 'nope' here."]
    incident = problem(api.post(LIST, {"title": "T", "incident": "INC-9"}, format="json"), 400)
    assert incident["errors"]["incident"] == ["No incident INC-9 here."]
    assert not Article.objects.exists()


def test_an_edit_keeps_a_version_and_if_match_refuses_a_stale_one(people, api, writer):
    article = writer.article(publish=False)
    edited = api.patch(
        _url(article), {"title": "Renew the certificate"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert edited.status_code == 200, edited.content
    assert edited["ETag"] == '"2"'
    item = edited.json()
    assert (item["title"], item["version"], item["body"]) == (
        "Renew the certificate",
        2,
        article.body,
    )
    stale = problem(
        api.patch(_url(article), {"body": "Lost?"}, format="json", HTTP_IF_MATCH='"1"'), 412
    )
    assert "version 2" in stale["detail"]
    assert Article.objects.get().body == article.body
    cleared = api.patch(_url(article), {"category": None, "audience": "agents"}, format="json")
    assert cleared.json()["category"] is None and cleared.json()["audience"] == "agents"
    blank = problem(api.patch(_url(article), {"title": ""}, format="json"), 400)
    assert blank["errors"]["title"] == ["Give the article a title."]
    versions = api.get(_url(article, "versions/")).json()
    assert [v["number"] for v in versions] == [3, 2, 1]
    assert versions[-1]["title"] == "Reset your VPN certificate"
    assert versions[0]["author"] == "key-read-write-acme"
    assert ArticleVersion.objects.count() == 3


def test_publish_and_retire_and_their_refusals_as_problem_json(people, api, writer):
    article = writer.article(publish=False)
    published = api.post(_url(article, "publish/"))
    assert published.status_code == 200 and published.json()["state"] == "published"
    assert published.json()["published_at"]
    again = problem(api.post(_url(article, "publish/")), 409)
    assert again["detail"] == "This article is already published."
    assert api.post(_url(article, "retire/")).json()["state"] == "retired"
    twice = problem(api.post(_url(article, "retire/")), 409)
    assert twice["detail"] == "Only a published article can be retired."


def test_the_list_searches_by_words_and_filters_by_state(people, api, writer):
    vpn = writer.article("Reset your VPN certificate")
    writer.article("Printer jams in tray 2", "Open the tray.")
    draft = writer.article("VPN on a hotel network", "Use port 443.", publish=False)
    found = api.get(LIST, {"q": "vpn"}).json()
    assert {row["id"] for row in found} == {vpn.pk, draft.pk}
    assert [row["id"] for row in api.get(LIST, {"q": "vpn", "state": "draft"}).json()] == [draft.pk]
    assert len(api.get(LIST).json()) == 3
    bad = problem(api.get(LIST, {"state": "lost"}), 400)
    assert bad["errors"]["state"] == ["Choose a state: draft, published, retired."]


def test_the_list_counts_views_and_votes(people, api, writer):
    article = writer.article()
    services.article_viewed(actor=people.actor(people.rita), article=article)
    services.article_vote(actor=people.actor(people.rita), article=article, helpful=True)
    services.article_vote(actor=people.actor(people.bob), article=article, helpful=False)
    row = api.get(LIST).json()[0]
    assert (row["views"], row["helpful"], row["unhelpful"]) == (1, 1, 1)
    assert api.get(_url(article)).json()["helpful"] == 1


def test_rita_sees_only_published_requester_articles_and_cannot_write(people, writer, session_for):
    offered = writer.article("Reset your VPN certificate")
    agents_only = writer.article("Rebuild the VPN concentrator", audience=Audience.AGENTS)
    draft = writer.article("VPN for requesters, soon", publish=False)
    rita = session_for(people.rita)
    assert [row["id"] for row in rita.get(LIST).json()] == [offered.pk]
    assert [row["id"] for row in rita.get(LIST, {"q": "vpn", "state": "draft"}).json()] == []
    assert rita.get(_url(offered)).status_code == 200
    for hidden in (agents_only, draft):
        assert problem(rita.get(_url(hidden)), 404)["detail"] == f"No article {hidden.pk} here."
    refused = problem(rita.post(LIST, {"title": ""}, format="json"), 403)
    assert refused["detail"] == "Only the desk's agents can write articles."
    problem(rita.patch(_url(offered), {"title": "Mine"}, format="json"), 403)
    problem(rita.post(_url(offered, "retire/")), 403)
    problem(rita.get(_url(offered, "versions/")), 403)
    assert Article.objects.get(pk=offered.pk).title == "Reset your VPN certificate"
    assert Article.objects.get(pk=offered.pk).state == "published"


def test_another_tenant_gets_404_for_every_article(people, writer, api_for):
    article = writer.article()
    charlie = api_for(tenant=people.globex)
    assert charlie.get(LIST).json() == []
    problem(charlie.get(_url(article)), 404)
    problem(charlie.patch(_url(article), {"title": "Mine"}, format="json"), 404)
    problem(charlie.post(_url(article, "retire/")), 404)
    problem(charlie.get(_url(article, "versions/")), 404)
    problem(charlie.get(f"{LIST}not-a-number/"), 404)
    assert Article.objects.get().state == "published"


# the key (its last use is recorded at most once a while), the articles with their categories,
# their votes
LIST_QUERIES = 3


def test_the_list_runs_a_fixed_number_of_queries(people, api, writer, django_assert_num_queries):
    writer.article("First article")
    api.get(LIST)  # the key's last use is now recorded
    with django_assert_num_queries(LIST_QUERIES):
        assert len(api.get(LIST).json()) == 1
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(LIST, {"q": "article"}).json()) == 1
    for i in range(12):
        article = writer.article(f"Article {i}", category=people.network)
        services.article_vote(actor=people.actor(people.rita), article=article, helpful=True)
    with django_assert_num_queries(LIST_QUERIES):
        assert len(api.get(LIST).json()) == 13
    # A search asks what knowledge.selectors asks (its plan may take a query of its own), and
    # no more for more rows.
    with django_assert_num_queries(len(few)):
        assert len(api.get(LIST, {"q": "article"}).json()) == 13


def test_an_article_written_from_a_known_error_is_linked_to_it(people, api):
    known = known_error(people, a_problem(people, incident(people)))
    body = {"title": "VPN drops", "body": "Reconnect.", "problem": known.reference}
    created = api.post(LIST, body, format="json")
    assert created.status_code == 201, created.content
    link = ArticleProblem.objects.get(article_id=created.json()["id"])
    assert link.problem == known
    refused = problem(api.post(LIST, {**body, "problem": "PRB-999999"}, format="json"), 400)
    assert refused["errors"]["problem"] == ["No problem PRB-999999 here."]
    assert Article.objects.count() == 1
