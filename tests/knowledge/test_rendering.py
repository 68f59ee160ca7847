"""Stored XSS: whatever an article's Markdown holds renders inert, on the page too."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from knowledge.rendering import render_markdown, summary

ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript&#58;alert(1))",
    "<svg onload=alert(1)><circle/></svg>",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](vbscript:msgbox(1))",
    "<iframe src=https://evil.test></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<details open ontoggle=alert(1)>",
]


class _Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


DANGEROUS_TAGS = {"script", "svg", "iframe", "object", "embed", "style", "details", "div", "math"}


def _is_inert(html: str) -> bool:
    parser = _Elements()
    parser.feed(html)
    for tag, attrs in parser.found:
        if tag in DANGEROUS_TAGS:
            return False
        for name, value in attrs:
            url = (value or "").strip().lower()
            if name.startswith("on") or name == "style" and "url(" in url:
                return False
            if name in ("href", "src") and not url.startswith(("http:", "https:", "mailto:")):
                return False
    return True


@pytest.mark.parametrize("attack", ATTACKS)
def test_markdown_attacks_render_inert(attack):
    html = render_markdown(attack)
    assert _is_inert(html), html


def test_plain_markdown_still_renders():
    html = render_markdown("# Steps\n\n1. **Open** [the app](https://vpn.test/)\n2. `renew`")
    assert "<h1>Steps</h1>" in html and "<strong>Open</strong>" in html
    assert '<a href="https://vpn.test/" rel="noopener noreferrer nofollow">the app</a>' in html
    assert "<code>renew</code>" in html


def test_a_summary_is_plain_text_of_the_first_paragraph():
    assert summary("Choose **Renew** <b>now</b>.\n\nThen restart.") == "Choose Renew <b>now</b>."


@pytest.mark.django_db
def test_the_stored_article_page_shows_the_attacks_as_text(people, writer, login):
    article = writer.article("Attacks", "\n\n".join(ATTACKS))
    page = login(people.rita).get(reverse("knowledge-article", args=["acme", article.pk]))
    body = page.content.decode()
    article_html = body.split('data-testid="article-body"', 1)[1].split("</article>", 1)[0]
    assert _is_inert(article_html), article_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in article_html
