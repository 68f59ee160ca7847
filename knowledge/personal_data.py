"""What knowledge holds about a person (tenancy/personal_data.py): articles and versions they
wrote, their "Did this help?" votes and the reports an article spared them."""

from __future__ import annotations

from knowledge.models import Article, ArticleVersion, ArticleVote, Deflection
from tenancy.personal_data import Held, declare


def register() -> None:
    declare(
        "knowledge",
        [
            Held(Article, "created_by", "detach"),
            Held(ArticleVersion, "author", "detach", names=("author_name",)),
            Held(ArticleVote, "user", "delete"),
            Held(Deflection, "user", "detach"),
        ],
    )
