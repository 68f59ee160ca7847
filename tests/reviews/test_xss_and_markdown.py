"""Review text is text: on the pages (stored XSS attempts render inert) and in the Markdown
export (user text cannot open headings, lists, links, code or raw HTML)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from reviews import services
from reviews.markdown import escape_block, escape_inline
from reviews.models import Review
from tests.desk.desk_support import queue_url
from tests.reviews.support import in_days, major_incident, published, review_url

ATTACKS = [
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(2)">click</a>',
    '<svg onload="alert(3)"><script>alert(4)</script></svg>',
]


class LiveMarkup(HTMLParser):
    """What a browser would run: inline scripts (in SVG too), event handlers (an SVG's onload
    too), javascript: links, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and not (names.get("src") or "").startswith("/static/"):
            self.found.append("inline script")
        if tag in ("iframe", "object", "embed"):
            self.found.append(tag)
        self.found += [f"{tag} {n}" for n in names if n.startswith("on")]
        for name in ("href", "src", "action", "formaction"):
            if (names.get(name) or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}=javascript:")


@pytest.fixture
def hostile(people):
    """A published review with hostile text in its summary, a timeline entry and an action."""
    incident = major_incident(people)[0]
    manager = people.actor(people.max)
    review = published(people, incident)
    text = "\n".join(ATTACKS)
    review = services.review_edit(actor=manager, review=review, summary=text, went_badly=text)
    services.timeline_entry_add(actor=manager, review=review, at=incident.reported_at, text=text)
    services.action_item_add(
        actor=manager, review=review, title=ATTACKS[1], owner=people.alice, due_date=in_days(1)
    )
    services.action_item_add(
        actor=manager, review=review, title=ATTACKS[3], owner=people.alice, due_date=in_days(2)
    )
    return incident


def _inert(html: str) -> None:
    parser = LiveMarkup()
    parser.feed(html)
    assert parser.found == []


def test_hostile_review_text_renders_inert_on_the_review_and_edit_pages(people, login, hostile):
    client = login(people.max)
    for name in ("review-detail", "review-edit"):
        html = client.get(review_url(people, name, hostile)).content.decode()
        assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in html  # shown, as text
        _inert(html)


def test_hostile_action_titles_render_inert_on_the_owners_desk(people, login, hostile):
    html = login(people.alice).get(queue_url(people)).content.decode()
    assert "Your review actions" in html and "&lt;svg onload=" in html
    _inert(html)


def test_hostile_text_stays_text_in_the_markdown_export(people, login, hostile):
    text = login(people.alice).get(review_url(people, "review-export", hostile)).content.decode()
    assert re.findall(r"(?<!\\)<", text) == []  # every < is escaped: no raw HTML
    assert "\\<script\\>" in text


def test_markdown_structure_in_user_text_is_escaped():
    block = escape_block(
        "# Not a heading\n> not a quote\n- not a list\n1. not numbered\n"
        "    not code\n```\n[link](javascript:alert(1))\n---"
    )
    lines = block.splitlines()
    assert lines[0] == "\\# Not a heading"
    assert lines[1] == "\\> not a quote"
    assert lines[2] == "\\- not a list"
    assert lines[3] == "1\\. not numbered"
    assert lines[4] == "not code"
    assert lines[5] == "\\`\\`\\`"
    assert lines[6] == "\\[link\\](javascript:alert(1))"
    assert lines[7] == "\\---"
    assert escape_inline("two\nlines # here") == "two lines # here"
    assert escape_block("") == "_Not written yet._"


def test_a_summary_line_cannot_forge_a_section_of_the_export(people, login):
    incident = major_incident(people)[0]
    review = published(people, incident)
    services.review_edit(
        actor=people.actor(people.max),
        review=Review.objects.get(pk=review.pk),
        summary="Fine\n## Root cause\nSomeone else",
    )
    text = login(people.max).get(review_url(people, "review-export", incident)).content.decode()
    assert text.count("\n## Root cause\n") == 1
    assert "\\## Root cause" in text
