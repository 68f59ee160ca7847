"""Articles through the services: who may write, versions, the lifecycle, votes, deflections
and sending an article as a reply."""

from __future__ import annotations

import pytest

from incidents.models import Comment
from knowledge import services
from knowledge.models import Article, ArticleIncident, ArticleVersion, Audience, Deflection
from knowledge.selectors import article_votes
from knowledge.services import ArticleText
from tenancy.errors import Conflict, InvalidInput, NotAllowed
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_an_agent_writes_a_draft_with_its_first_version(people):
    article = services.article_create(
        actor=people.actor(people.alice),
        text=ArticleText(title="  Printer jams ", body="Open tray 2.", category=people.network),
    )
    assert (article.title, article.state, article.version) == ("Printer jams", "draft", 1)
    version = ArticleVersion.objects.get(article=article)
    assert (version.number, version.title, version.author) == (1, "Printer jams", people.alice)


def test_requesters_never_write(people, writer):
    with pytest.raises(NotAllowed):
        services.article_create(actor=people.actor(people.rita), text=ArticleText("T", "B"))
    article = writer.article()
    with pytest.raises(NotAllowed):
        services.article_update(
            actor=people.actor(people.rita), article=article, text=ArticleText("T", "B")
        )
    with pytest.raises(NotAllowed):
        services.article_retire(actor=people.actor(people.rita), article=article)


def test_a_title_is_required(people):
    with pytest.raises(InvalidInput, match="title"):
        services.article_create(actor=people.actor(people.alice), text=ArticleText(" ", "B"))


def test_another_tenants_category_is_refused(people):
    foreign = CategoryFactory(tenant=people.globex, name="Net", slug="net")
    with pytest.raises(InvalidInput, match="category"):
        services.article_create(
            actor=people.actor(people.alice), text=ArticleText("T", "B", category=foreign)
        )


def test_each_save_keeps_a_version_with_who_and_what(people, writer):
    article = writer.article(publish=False)
    article = services.article_update(
        actor=people.actor(people.bob),
        article=article,
        text=ArticleText("Reset the VPN certificate", "New steps.", audience=Audience.AGENTS),
        expected_version=1,
    )
    assert article.version == 2
    versions = list(ArticleVersion.objects.filter(article=article).order_by("number"))
    assert [(v.number, v.title, v.author) for v in versions] == [
        (1, "Reset your VPN certificate", people.alice),
        (2, "Reset the VPN certificate", people.bob),
    ]
    assert versions[1].body == "New steps."


def test_saving_nothing_new_keeps_the_version(people, writer):
    article = writer.article(publish=False)
    same = services.article_update(
        actor=people.actor(people.bob),
        article=article,
        text=ArticleText(article.title, article.body, audience=article.audience),
    )
    assert same.version == 1 and ArticleVersion.objects.filter(article=article).count() == 1


def test_a_stale_edit_is_refused(people, writer):
    article = writer.article(publish=False)
    services.article_update(
        actor=people.actor(people.bob), article=article, text=ArticleText("One", "B")
    )
    with pytest.raises(Conflict, match="version 2"):
        services.article_update(
            actor=people.actor(people.alice),
            article=article,
            text=ArticleText("Two", "B"),
            expected_version=1,
        )


def test_draft_published_retired_and_back(people, writer):
    alice = people.actor(people.alice)
    article = writer.article(publish=False)
    article = services.article_publish(actor=alice, article=article)
    assert article.state == "published" and article.published_at is not None
    with pytest.raises(Conflict):
        services.article_publish(actor=alice, article=article)
    article = services.article_retire(actor=alice, article=article)
    assert article.state == "retired"
    with pytest.raises(Conflict):
        services.article_retire(actor=alice, article=article)
    assert services.article_publish(actor=alice, article=article).state == "published"


def test_an_article_from_an_incident_links_it(people, desk):
    incident = desk.resolve(desk.report())
    article = services.article_create(
        actor=people.actor(people.alice), text=ArticleText("VPN", "B"), incident=incident
    )
    assert ArticleIncident.objects.get(article=article).incident == incident


def test_one_vote_per_reader_the_last_counts(people, writer):
    article = writer.article()
    rita = people.actor(people.rita)
    services.article_vote(actor=rita, article=article, helpful=True)
    services.article_vote(actor=rita, article=article, helpful=False)
    services.article_vote(actor=people.actor(people.bob), article=article, helpful=False)
    assert article_votes(article=article) == {"yes": 0, "no": 2}


def test_views_are_counted(people, writer):
    article = writer.article()
    services.article_viewed(actor=people.actor(people.rita), article=article)
    services.article_viewed(actor=people.actor(people.rita), article=article)
    assert Article.objects.get(pk=article.pk).view_count == 2


def test_a_deflection_is_counted_for_a_requesters_article_only(people, writer):
    rita = people.actor(people.rita)
    article = writer.article()
    services.deflection_record(actor=rita, article=article, text="vpn certificate expired")
    assert Deflection.objects.get(article=article).text == "vpn certificate expired"
    internal = writer.article("Internal", audience=Audience.AGENTS)
    with pytest.raises(InvalidInput):
        services.deflection_record(actor=rita, article=internal)


def test_sending_an_article_posts_a_public_reply_with_link_and_summary(people, writer, desk):
    incident = desk.accept(desk.report())
    article = writer.article(body="Open the VPN app and choose **Renew**.\n\nMore detail.")
    comment = desk.run(
        services.article_send,
        actor=people.actor(people.alice),
        article=article,
        incident=incident,
        url="http://testserver/t/acme/knowledge/1/",
    )
    comment = Comment.objects.get(pk=comment.pk)
    assert comment.public
    assert "Reset your VPN certificate" in comment.body
    assert "http://testserver/t/acme/knowledge/1/" in comment.body
    assert "Open the VPN app and choose Renew." in comment.body
    assert "More detail" not in comment.body


def test_an_agents_only_article_is_not_sent_to_requesters(people, writer, desk):
    incident = desk.accept(desk.report())
    article = writer.article(audience=Audience.AGENTS)
    with pytest.raises(InvalidInput):
        services.article_send(
            actor=people.actor(people.alice), article=article, incident=incident, url="u"
        )
