"""Knowledge fixtures: a helper that writes articles through the services as an agent would,
the portal's Desk helper for incidents, and the API tests' clients (tests/api/conftest.py)."""

from __future__ import annotations

import pytest

from knowledge import services
from knowledge.models import Article, Audience
from knowledge.services import ArticleText
from tests.api.conftest import api, api_for, make_key, session_for
from tests.portal.conftest import Desk

__all__ = ["api", "api_for", "desk", "make_key", "session_for", "writer"]  # the API tests' clients


@pytest.fixture
def desk(people, django_capture_on_commit_callbacks):
    return Desk(people, django_capture_on_commit_callbacks)


class Writer:
    def __init__(self, people) -> None:
        self.people = people

    def article(
        self,
        title: str = "Reset your VPN certificate",
        body: str = "Open the VPN app and choose **Renew certificate**.",
        *,
        audience: str = Audience.REQUESTERS,
        publish: bool = True,
        tenant_user=None,
        **kwargs,
    ) -> Article:
        actor = self.people.actor(tenant_user or self.people.alice, kwargs.pop("tenant", None))
        text = ArticleText(title=title, body=body, audience=audience, **kwargs)
        article = services.article_create(actor=actor, text=text)
        if publish:
            article = services.article_publish(actor=actor, article=article)
        return article


@pytest.fixture
def writer(people) -> Writer:
    return Writer(people)
