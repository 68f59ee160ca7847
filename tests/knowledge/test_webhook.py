"""article.published: an endpoint subscribed to it hears each publication, once."""

from __future__ import annotations

import json

from escalation.models import Notification
from escalation.services.webhooks import webhook_endpoint_create
from knowledge import services


def test_publishing_an_article_sends_article_published_once(people, writer):
    webhook_endpoint_create(
        actor=people.actor(people.ada),
        url="https://hooks.example.test/kb",
        events=["article.published"],
    )
    draft = writer.article(publish=False)
    assert not Notification.objects.filter(kind="article.published").exists()  # a draft: quiet
    article = services.article_publish(actor=people.actor(people.alice), article=draft)

    rows = Notification.objects.for_tenant(people.acme).filter(kind="article.published")
    assert rows.count() == 1
    data = json.loads(rows.get().body)["data"]["article"]
    assert data["title"] == "Reset your VPN certificate"
    assert data["url"].endswith(f"/t/acme/knowledge/{article.pk}/")
    assert data["audience"] == "requesters"
