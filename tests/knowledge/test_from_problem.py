"""Articles written from a known error: the problem page's button, the prefilled editor, the
saved link (shown on the article and listed on the problem page), and who may do it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from knowledge import services
from knowledge.models import Article, ArticleProblem, ArticleState
from knowledge.services import ArticleText
from problems import services as problems
from tenancy.errors import InvalidInput
from tests.problems.support import incident, known_error, problem

pytestmark = pytest.mark.django_db

NEW = reverse("knowledge-article-new", args=["acme"])


def _problem_page(number: int) -> str:
    return reverse("problems-problem-detail", args=["acme", number])


def _panel(number: int) -> str:
    return reverse("knowledge-problem-panel", args=["acme", number])


def _known(people):
    p = problem(people, incident(people))
    p.description = "The VPN drops every hour for people in Berlin."
    p.save(update_fields=["description"])
    return known_error(people, p)


def _post(client, p, **extra):
    data = {
        "title": "VPN drops every hour",
        "body": "## Workaround\n\nReconnect, then choose Frankfurt. (edited)",
        "category": "",
        "audience": "agents",
        "expected_version": "",
        "incident": "",
        "problem": str(p.number),
        **extra,
    }
    return client.post(NEW, data)


def _queries(client, url: str) -> int:
    """The queries of one page load."""
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_problem_page_offers_an_article_only_once_it_is_a_known_error(people, login):
    p = problem(people, incident(people))
    client = login(people.alice)
    assert (
        "Write an article from this known error"
        not in client.get(_problem_page(p.number)).content.decode()
    )
    known_error(people, p)
    page = client.get(_problem_page(p.number)).content.decode()
    assert "Write an article from this known error" in page
    assert f'href="{NEW}?problem={p.number}"' in page
    assert f'hx-get="{_panel(p.number)}"' in page


def test_the_editor_is_prefilled_with_symptoms_cause_and_workaround(people, login):
    p = _known(people)
    page = login(people.alice).get(f"{NEW}?problem={p.number}").content.decode()
    assert 'value="VPN concentrator drops tunnels"' in page
    assert "The VPN drops every hour for people in Berlin." in page
    assert "Firmware 4.2 leaks tunnel slots." in page
    assert "Reconnect the VPN client, then choose the Frankfurt gateway." in page
    assert "## Solution" not in page
    assert f'name="problem" value="{p.number}"' in page


def test_a_resolved_problems_fix_is_in_the_article_too(people, login):
    p = _known(people)
    problems.problem_resolve(
        problem=p,
        actor=people.actor(people.alice),
        fix="Firmware 4.3 installed on both concentrators.",
        change_reference="CHG-1",
    )
    page = login(people.alice).get(f"{NEW}?problem={p.number}").content.decode()
    assert "## Solution" in page and "Firmware 4.3 installed on both concentrators." in page
    assert "Write an article from this known error" in (
        login(people.alice).get(_problem_page(p.number)).content.decode()
    )


def test_saving_keeps_the_edited_text_as_a_draft_linked_to_the_problem(people, login):
    p = _known(people)
    client = login(people.alice)
    response = _post(client, p)
    article = Article.objects.get(tenant=people.acme)
    assert response.status_code == 302
    assert article.state == ArticleState.DRAFT
    assert article.body.endswith("(edited)")
    assert ArticleProblem.objects.filter(article=article, problem=p, tenant=people.acme).exists()
    page = client.get(reverse("knowledge-article", args=["acme", article.pk])).content.decode()
    assert f'Written from <a href="{_problem_page(p.number)}">PRB-000001</a>' in page
    panel = client.get(_panel(p.number)).content.decode()
    assert "VPN drops every hour" in panel and "Draft" in panel


def test_the_problem_panel_says_when_no_article_was_written(people, login):
    p = _known(people)
    panel = login(people.alice).get(_panel(p.number)).content.decode()
    assert "No article has been written from PRB-000001 yet." in panel


def test_requesters_do_not_see_where_a_published_article_came_from(people, login):
    p = _known(people)
    client = login(people.alice)
    _post(client, p, audience="requesters")
    article = Article.objects.get(tenant=people.acme)
    client.post(reverse("knowledge-article-publish", args=["acme", article.pk]))
    page = login(people.rita).get(reverse("knowledge-article", args=["acme", article.pk]))
    assert page.status_code == 200
    assert "PRB-000001" not in page.content.decode()


def test_another_tenants_problem_is_a_404_and_links_nothing(people, login):
    charlie = people.actor(people.charlie, people.globex)
    theirs = problems.problem_log(actor=charlie, title="Their VPN")
    theirs = problems.problem_record_known_error(
        problem=theirs, actor=charlie, root_cause="Their cause", workaround="Their workaround"
    )
    client = login(people.alice)
    assert client.get(f"{NEW}?problem={theirs.number}").status_code == 404
    assert client.get(_panel(theirs.number)).status_code == 404
    assert _post(client, theirs).status_code == 404
    assert not Article.objects.exists() and not ArticleProblem.objects.exists()


def test_charlie_gets_404_for_acmes_problem(people, login):
    p = _known(people)
    client = login(people.charlie)
    assert client.get(f"{NEW}?problem={p.number}").status_code == 404
    assert client.get(_panel(p.number)).status_code == 404


def test_a_requester_cannot_write_from_a_problem_or_list_its_articles(people, login):
    p = _known(people)
    client = login(people.rita)
    assert client.get(f"{NEW}?problem={p.number}").status_code == 404
    assert _post(client, p).status_code == 404
    assert client.get(_panel(p.number)).status_code == 404
    assert not Article.objects.exists()


def test_the_service_refuses_another_tenants_problem(people):
    charlie = people.actor(people.charlie, people.globex)
    theirs = problems.problem_log(actor=charlie, title="Their VPN")
    with pytest.raises(InvalidInput, match="No such problem here."):
        services.article_create(
            actor=people.actor(people.alice), text=ArticleText(title="VPN", body=""), problem=theirs
        )
    assert not Article.objects.exists()


def test_the_problem_panel_reads_in_fixed_queries(people, login):
    p = _known(people)
    client = login(people.alice)
    _post(client, p)
    few = _queries(client, _panel(p.number))
    assert 0 < few <= 10
    for n in range(4):
        _post(client, p, title=f"VPN article {n}")
    assert _queries(client, _panel(p.number)) == few
    assert "VPN article 3" in client.get(_panel(p.number)).content.decode()
