"""Markdown to safe HTML: the only way an article's body reaches a page.

Two fences: markdown-it-py with raw HTML off (typed tags come out as text) and its own link
check (no javascript:, vbscript:, file: or data: links), then nh3 with a short list of tags,
attributes and URL schemes, so nothing the parser lets through (or a future option turns on)
can carry a script, an event handler, an SVG or a dangerous URL.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
SCHEMES = {"http", "https", "mailto"}

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_parser.enable("strikethrough")


def render_markdown(text: str) -> str:
    """The article's Markdown as HTML that is safe to mark safe."""
    html = _parser.render(text or "")
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        link_rel="noopener noreferrer nofollow",
        filter_style_properties={"text-align"},
    )


def summary(text: str, limit: int = 280) -> str:
    """The body's first paragraph as plain text, cut at a word: what a reply quotes."""
    first = next((part.strip() for part in (text or "").split("\n\n") if part.strip()), "")
    plain = " ".join(html.unescape(nh3.clean(_parser.render(first), tags=set())).split())
    if len(plain) <= limit:
        return plain
    return plain[:limit].rsplit(" ", 1)[0] + "…"
