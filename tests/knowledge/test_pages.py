"""The knowledge pages: who sees what (404s), the editor, publishing, history, votes, views,
the portal's suggestions and "This solved it", and the desk incident page's articles."""

from __future__ import annotations

import pytest
from django.urls import reverse

from incidents.models import Comment, Incident
from knowledge.models import Article, ArticleVersion, ArticleVote, Audience, Deflection

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(name, args=["acme", *args])


def test_requesters_read_published_requester_articles_only(people, writer, login):
    public = writer.article("Reset your VPN certificate")
    internal = writer.article("Rotate the VPN CA", audience=Audience.AGENTS)
    draft = writer.article("Draft on printers", publish=False)
    client = login(people.rita)
    listing = client.get(url("knowledge-article-list")).content.decode()
    assert "Reset your VPN certificate" in listing
    assert "Rotate the VPN CA" not in listing and "Draft on printers" not in listing
    assert client.get(url("knowledge-article", public.pk)).status_code == 200
    assert client.get(url("knowledge-article", internal.pk)).status_code == 404
    assert client.get(url("knowledge-article", draft.pk)).status_code == 404


def test_requesters_never_reach_the_editor(people, writer, login):
    article = writer.article()
    client = login(people.rita)
    for page in (
        url("knowledge-article-new"),
        url("knowledge-article-edit", article.pk),
        url("knowledge-article-history", article.pk),
    ):
        assert client.get(page).status_code == 404
    assert client.post(url("knowledge-article-retire", article.pk)).status_code == 404


def test_charlie_gets_404(people, writer, login):
    article = writer.article()
    client = login(people.charlie)
    assert client.get(url("knowledge-article-list")).status_code == 404
    assert client.get(url("knowledge-article", article.pk)).status_code == 404
    # In his own tenant, acme's article does not exist either.
    globex = reverse("knowledge-article", args=["globex", article.pk])
    assert client.get(globex).status_code == 404


def test_requesters_search_from_the_portal_home(people, writer, login):
    writer.article("Reset your VPN certificate")
    writer.article("Printer on floor 3 jams", "Open tray 2 and remove the paper.")
    client = login(people.rita)
    home = client.get(reverse("portal-home", args=["acme"])).content.decode()
    assert url("knowledge-article-list") in home
    found = client.get(url("knowledge-article-list"), {"q": "printer"}).content.decode()
    assert "Printer on floor 3 jams" in found and "Reset your VPN" not in found


def test_an_agent_previews_then_saves_a_draft(people, login):
    client = login(people.alice)
    data = {"title": "Printer jams", "body": "Open **tray 2**.", "audience": "requesters"}
    preview = client.post(url("knowledge-article-new"), {**data, "preview": "1"})
    assert "<strong>tray 2</strong>" in preview.content.decode()
    assert not Article.objects.exists()
    saved = client.post(url("knowledge-article-new"), data)
    article = Article.objects.get()
    assert saved.url == url("knowledge-article", article.pk)
    assert (article.state, article.audience) == ("draft", "requesters")


def test_a_missing_title_keeps_the_text(people, login):
    client = login(people.alice)
    page = client.post(url("knowledge-article-new"), {"title": "", "body": "Kept words"})
    assert page.status_code == 400
    assert "Give the article a title." in page.content.decode()
    assert "Kept words" in page.content.decode()


def test_a_stale_edit_keeps_the_text_and_says_why(people, writer, login):
    article = writer.article(publish=False)
    client = login(people.alice)
    fields = {"body": "B", "audience": "agents", "expected_version": "1"}
    client.post(url("knowledge-article-edit", article.pk), {**fields, "title": "First"})
    page = client.post(url("knowledge-article-edit", article.pk), {**fields, "title": "Mine"})
    assert page.status_code == 409
    assert "Someone saved this article" in page.content.decode()
    assert 'value="Mine"' in page.content.decode()


def test_publish_retire_and_history(people, writer, login):
    article = writer.article(publish=False)
    client = login(people.bob)
    client.post(
        url("knowledge-article-edit", article.pk),
        {"title": "Second title", "body": "B", "audience": "requesters", "expected_version": "1"},
    )
    client.post(url("knowledge-article-publish", article.pk))
    assert Article.objects.get(pk=article.pk).state == "published"
    client.post(url("knowledge-article-retire", article.pk))
    assert Article.objects.get(pk=article.pk).state == "retired"
    history = client.get(url("knowledge-article-history", article.pk)).content.decode()
    assert "Version 2 · Bob Agent" in history and "Version 1 · Alice Agent" in history
    assert ArticleVersion.objects.filter(article=article).count() == 2


def test_did_this_help_counts_one_vote_per_reader_and_views(people, writer, login):
    article = writer.article()
    client = login(people.rita)
    client.get(url("knowledge-article", article.pk))
    client.post(url("knowledge-article-vote", article.pk), {"helpful": "yes"})
    client.post(url("knowledge-article-vote", article.pk), {"helpful": "yes"})
    assert ArticleVote.objects.filter(article=article, helpful=True).count() == 1
    page = login(people.alice).get(url("knowledge-article", article.pk)).content.decode()
    assert "2 views" in page and "helpful 1 / not 0" in page


def test_the_portal_suggests_published_requester_articles_while_typing(people, writer, login):
    writer.article("Reset your VPN certificate")
    writer.article("VPN concentrator internals", audience=Audience.AGENTS)
    writer.article("VPN draft", publish=False)
    client = login(people.rita)
    page = client.get(
        reverse("portal-similar", args=["acme"]), {"title": "vpn certif"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Reset your VPN certificate" in page and "This solved it" in page
    assert "internals" not in page and "VPN draft" not in page
    assert "Not what I need" in page


def test_this_solved_it_ends_the_report_without_an_incident(people, writer, login):
    article = writer.article()
    client = login(people.rita)
    done = client.post(url("knowledge-article-solved", article.pk), {"text": "vpn cert expired"})
    assert done.url == reverse("portal-home", args=["acme"])
    assert not Incident.objects.exists()
    assert Deflection.objects.get(article=article).text == "vpn cert expired"


def test_an_agents_only_article_cannot_deflect(people, writer, login):
    article = writer.article(audience=Audience.AGENTS)
    client = login(people.rita)
    assert client.post(url("knowledge-article-solved", article.pk)).status_code == 404
    assert not Deflection.objects.exists()


def test_the_desk_offers_matching_articles_and_sends_one(people, writer, login, desk):
    article = writer.article("Reset your VPN certificate")
    writer.article("VPN concentrator internals", audience=Audience.AGENTS)
    incident = desk.accept(desk.report(title="VPN certificate expired"))
    client = login(people.alice)
    panel = client.get(url("knowledge-incident-panel", incident.number)).content.decode()
    assert "Reset your VPN certificate" in panel and "VPN concentrator internals" in panel
    assert "Write an article from this incident" not in panel  # not resolved yet
    sent = client.post(url("knowledge-incident-send", incident.number, article.pk))
    assert sent.url == url("desk-incident-detail", incident.number)
    reply = Comment.objects.get(incident=incident)
    assert reply.public and f"/t/acme/knowledge/{article.pk}/" in reply.body


def test_requesters_get_404_on_the_desk_panel(people, writer, login, desk):
    incident = desk.report()
    assert (
        login(people.rita).get(url("knowledge-incident-panel", incident.number)).status_code == 404
    )


def test_writing_an_article_from_a_resolved_incident_is_prefilled(people, login, desk):
    incident = desk.resolve(desk.report(title="VPN drops every hour"))
    client = login(people.alice)
    panel = client.get(url("knowledge-incident-panel", incident.number)).content.decode()
    assert "Write an article from this incident" in panel
    form = client.get(url("knowledge-article-new"), {"incident": incident.number}).content.decode()
    assert 'value="VPN drops every hour"' in form
    assert "Replaced the VPN concentrator&#x27;s certificate." in form
    client.post(
        url("knowledge-article-new"),
        {"title": "VPN drops", "body": "B", "audience": "agents", "incident": incident.number},
    )
    assert Article.objects.get().incident_links.get().incident == incident


def test_the_desk_incident_page_loads_the_panel(people, login, desk):
    incident = desk.report()
    page = login(people.alice).get(url("desk-incident-detail", incident.number)).content.decode()
    assert url("knowledge-incident-panel", incident.number) in page
