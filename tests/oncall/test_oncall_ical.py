"""A person's shifts as an iCalendar feed at a signed URL, no log-in needed; any other token,
or the token in another tenant's URL, is a plain 404."""

from __future__ import annotations

from urllib.parse import urlsplit

from icalendar import Calendar

from oncall.ical import ical_url
from tests.oncall.helpers import daily_schedule


def _path(people, user) -> str:
    return urlsplit(ical_url(people.acme, user)).path


def test_the_feed_lists_the_persons_shifts_without_a_log_in(people, client):
    daily_schedule(people, people.alice, people.bob, name="Network")
    answer = client.get(_path(people, people.alice))
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(answer.content).walk("VEVENT")
    # Ten weeks of every other day, give or take the ends.
    assert 30 <= len(events) <= 40
    assert all(str(e["SUMMARY"]) == "On call: Network" for e in events)
    # Every other day at the 09:00 handoff (the first, cut at the feed's start, aside).
    starts = sorted(e.decoded("DTSTART") for e in events)[1:]
    assert all(s.hour == 9 and s.minute == 0 for s in starts)
    assert all((b - a).days == 2 for a, b in zip(starts, starts[1:], strict=False))


def test_a_damaged_token_or_another_tenants_url_is_a_404(people, client):
    daily_schedule(people, people.alice)
    path = _path(people, people.alice)
    assert client.get(path.replace(".ics", "x.ics")).status_code == 404
    assert client.get(path.replace("/t/acme/", "/t/globex/")).status_code == 404


def test_the_feed_stops_when_the_person_leaves_the_staff(people, client):
    daily_schedule(people, people.alice)
    path = _path(people, people.alice)
    people.alice.memberships.update(is_active=False)
    assert client.get(path).status_code == 404
