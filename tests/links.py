"""What a link page answers when the link does not work: the site's plain 404, the very page a
path that does not exist gets, naming nothing of what the link pointed at."""

from __future__ import annotations

import difflib
import re

NOWHERE = "/t/no-such-organisation/no-such-page/"
# Every page carries a fresh masked CSRF token (htmx headers, forms): the rest must be equal.
CSRF = re.compile(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[A-Za-z0-9]+')
# Flash messages are the visitor's own, from their earlier requests (e.g. "We sent a link").
MESSAGES = re.compile(r'<div class="messages" role="status">.*?</div>', re.S)


def page_text(response) -> str:
    text = MESSAGES.sub("", CSRF.sub(r"\1<csrf>", response.content.decode()))
    return "\n".join(line for line in text.splitlines() if line.strip())


def assert_plain_404(client, response, *unseen: str) -> None:
    assert response.status_code == 404
    body, nowhere = page_text(response), page_text(client.get(NOWHERE))
    differ = difflib.unified_diff(nowhere.splitlines(), body.splitlines(), lineterm="", n=1)
    assert body == nowhere, "\n".join(differ)
    for text in unseen:
        assert text not in body
