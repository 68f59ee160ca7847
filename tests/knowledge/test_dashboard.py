"""The dashboard's knowledge figures: deflection rate and the most helpful articles."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from knowledge import services
from knowledge.models import Deflection

pytestmark = pytest.mark.django_db

URL = reverse("knowledge-dashboard", args=["acme"])


def test_deflection_rate_and_most_helpful_articles(people, writer, desk, login):
    vpn = writer.article("Reset your VPN certificate")
    printer = writer.article("Printer on floor 3 jams")
    writer.article("Never voted")
    rita, bob = people.actor(people.rita), people.actor(people.bob)
    services.deflection_record(actor=rita, article=vpn, text="vpn")
    services.deflection_record(actor=rita, article=vpn, text="vpn again")
    desk.report(title="Mail is down")  # a report that became an incident
    services.article_vote(actor=rita, article=printer, helpful=True)
    services.article_vote(actor=bob, article=printer, helpful=True)
    services.article_vote(actor=rita, article=vpn, helpful=True)
    services.article_vote(actor=bob, article=vpn, helpful=False)
    page = login(people.max).get(URL).content.decode()
    assert "67%" in page and "2 reports ended by an article of 3 started" in page
    listed = page.split('data-testid="most-helpful"', 1)[1]
    assert listed.index("Printer on floor 3 jams") < listed.index("Reset your VPN certificate")
    assert "Never voted" not in listed
    assert "1 helpful · 1 not · 2 deflected" in listed


def test_the_panel_reads_in_fixed_queries(people, writer, login, django_assert_max_num_queries):
    client = login(people.max)
    with django_assert_max_num_queries(10) as few:
        client.get(URL)
    for n in range(5):
        article = writer.article(f"Article {n}")
        services.article_vote(actor=people.actor(people.rita), article=article, helpful=True)
        services.deflection_record(actor=people.actor(people.rita), article=article)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL)


def test_only_managers_see_it(people, login):
    assert login(people.alice).get(URL).status_code == 404
    assert login(people.rita).get(URL).status_code == 404
    assert login(people.charlie).get(URL).status_code == 404
    assert login(people.max).get(URL).status_code == 200


def test_the_dashboard_loads_the_panel(people, login):
    page = login(people.max).get(reverse("dashboards-home", args=["acme"]))
    assert URL in page.content.decode()


def test_the_deflection_rate_follows_the_dashboards_period(people, writer, desk, login):
    article = writer.article("Reset your VPN certificate")
    services.deflection_record(actor=people.actor(people.rita), article=article, text="vpn")
    Deflection.objects.update(created_at=timezone.now() - timedelta(days=40))
    desk.report(title="Mail is down")
    client = login(people.max)
    today = timezone.now().date()
    recent = client.get(URL).content.decode()  # no period: the last 30 days
    assert "0 reports ended by an article of 1 started" in recent
    wide = f"{URL}?from={today - timedelta(days=60)}&to={today}"
    page = client.get(wide).content.decode()
    assert "1 report ended by an article of 2 started" in page
    assert f"{(today - timedelta(days=60)).day} " in page  # the card names its period
    odd = client.get(f"{URL}?from=yesterday&to={today}").content.decode()
    assert "0 reports ended by an article of 1 started" in odd  # unreadable: the default


def test_the_dashboard_sends_its_period_to_the_panel(people, login):
    page = login(people.max).get(reverse("dashboards-home", args=["acme"]) + "?period=90")
    sent = page.content.decode().split(URL, 1)[1].split('"', 1)[0]
    first, last = sent.removeprefix("?from=").split("&amp;to=")
    assert (date.fromisoformat(last) - date.fromisoformat(first)).days in (89, 90)
