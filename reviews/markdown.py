"""A review as a Markdown file. User text is escaped so that it stays text: it cannot open a
heading, a list, a quote, a code block, a table, a link or raw HTML of its own."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils import timezone

from problems.models import Problem
from reviews.models import ActionItem, Review, TimelineEntry

# Inline syntax, escaped anywhere in a line (CommonMark: any ASCII punctuation may be escaped).
INLINE = re.compile(r"([\\`*_\[\]<>|~!])")
# Syntax that only means something at the start of a line: headings, quotes, lists, rules,
# setext underlines, fences and numbered lists.
LEADING = re.compile(r"^([#>+\-=]|\d+[.)])")


def escape_line(line: str) -> str:
    # Leading spaces would make an indented code block (or a list's continuation).
    line = INLINE.sub(r"\\\1", line.strip())
    return LEADING.sub(lambda m: m.group(1)[:-1] + "\\" + m.group(1)[-1], line)


def escape_block(text: str) -> str:
    """Paragraphs of user text: lines kept, each escaped; runs of blank lines become one."""
    lines = [escape_line(line) for line in (text or "").splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip() or "_Not written yet._"


def escape_inline(text: str) -> str:
    """A one-line value (a list item, a title): line breaks become spaces."""
    return escape_line(" ".join((text or "").split()))


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _section(title: str, body: str) -> list[str]:
    return [f"## {title}", "", body, ""]


def _root_cause(review: Review, problem: Problem | None) -> str:
    """The review's own root cause; while it has none, the problem's, said to be the problem's."""
    if review.root_cause.strip() or problem is None or not problem.root_cause.strip():
        return escape_block(review.root_cause)
    return f"_From {problem.reference}:_\n\n{escape_block(problem.root_cause)}"


def _problem(problem: Problem | None, url: str) -> list[str]:
    if problem is None:
        return []
    lines = [
        "## Problem",
        "",
        f"- {problem.reference} {escape_inline(problem.title)}",
        f"- State: {problem.get_state_display()}",
    ]
    if url:
        lines.append(f"- Link: <{url}>")
    lines.append("")
    lines += ["### Root cause", "", escape_block(problem.root_cause), ""]
    lines += ["### Workaround", "", escape_block(problem.workaround), ""]
    return lines


def review_markdown(
    review: Review,
    timeline: Iterable[TimelineEntry],
    actions: Iterable[ActionItem],
    *,
    problem: Problem | None = None,
    problem_url: str = "",
) -> str:
    incident = review.incident
    lines = [
        f"# Post-incident review: {incident.reference} {escape_inline(incident.title)}",
        "",
        f"- State: {review.get_state_display()}",
        f"- Author: {escape_inline(review.author_name)}",
        f"- Published: {_when(review.published_at) if review.published_at else 'not yet'}",
        "",
        *_section("Summary", escape_block(review.summary)),
        *_section("Customer impact", escape_block(review.customer_impact)),
        "## Timeline",
        "",
    ]
    entries = [f"- {_when(e.at)}: {escape_inline(e.text)}" for e in timeline]
    lines += [*(entries or ["_No entries._"]), ""]
    lines += _section("Root cause", _root_cause(review, problem))
    lines += _problem(problem, problem_url)
    lines += _section("What went well", escape_block(review.went_well))
    lines += _section("What went badly", escape_block(review.went_badly))
    lines += ["## Action items", ""]
    items = [
        f"- [{'x' if a.done else ' '}] {escape_inline(a.title)} "
        f"(owner: {escape_inline(a.owner.display_name if a.owner else 'nobody')}, "
        f"due {a.due_date:%Y-%m-%d})"
        for a in actions
    ]
    lines += [*(items or ["_No action items._"]), ""]
    return "\n".join(lines)
