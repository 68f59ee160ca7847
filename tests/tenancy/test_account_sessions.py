"""The account page's "Where you're signed in": each session in words, ended for real."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tenancy.account.services import SEEN_KEY
from tenancy.models import Membership, Role, UserSession
from tests.factories import PASSWORD

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def browser(user_agent: str, email: str, address: str = "203.0.113.7") -> Client:
    """A browser that logged in through the log-in page, as a person does."""
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    response = client.post("/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def is_logged_in(client: Client) -> bool:
    response = client.get("/account/")
    return response.status_code == 200


def test_the_page_lists_each_session_in_words_and_marks_this_device(people):
    laptop = browser(CHROME_LINUX, "rita@acme.test", "203.0.113.7")
    browser(FIREFOX_WINDOWS, "rita@acme.test", "198.51.100.4")
    page = laptop.get("/account/").content.decode()
    assert "Where you're signed in" in page
    assert "Chrome on Linux <strong>(this device)</strong>" in page
    assert "Firefox on Windows" in page
    assert "198.51.100.4" in page and "203.0.113.7" in page
    assert "Sign out everywhere else" in page


def test_the_header_links_every_logged_in_person_to_their_account(people):
    rita = browser(CHROME_LINUX, "rita@acme.test")
    portal = rita.get("/t/acme/portal/").content.decode()
    assert 'href="/account/"' in portal
    alice = browser(CHROME_LINUX, "alice@acme.test")
    assert 'href="/account/"' in alice.get("/t/acme/desk/").content.decode()


def test_someone_not_logged_in_is_sent_to_log_in(client, people):
    response = client.get("/account/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_signing_out_another_session_logs_that_browser_out(people):
    laptop = browser(CHROME_LINUX, "rita@acme.test")
    phone = browser(FIREFOX_WINDOWS, "rita@acme.test")
    other = UserSession.objects.get(user=people.rita, user_agent=FIREFOX_WINDOWS)
    response = laptop.post(f"/account/sessions/{other.pk}/end/", follow=True)
    assert "That session is signed out." in response.content.decode()
    assert not is_logged_in(phone)
    assert is_logged_in(laptop)
    assert "Firefox on Windows" not in laptop.get("/account/").content.decode()


def test_someone_elses_session_cannot_be_ended(people):
    rita = browser(CHROME_LINUX, "rita@acme.test")
    alice = browser(CHROME_LINUX, "alice@acme.test")
    hers = UserSession.objects.get(user=people.alice)
    response = rita.post(f"/account/sessions/{hers.pk}/end/", follow=True)
    assert "That session has already ended." in response.content.decode()
    assert is_logged_in(alice)


def test_sign_out_everywhere_else_keeps_only_this_session(people):
    laptop = browser(CHROME_LINUX, "rita@acme.test")
    others = [browser(FIREFOX_WINDOWS, "rita@acme.test") for _ in range(2)]
    response = laptop.post("/account/sessions/end-others/", follow=True)
    assert "Signed out of 2 other sessions." in response.content.decode()
    assert [is_logged_in(other) for other in others] == [False, False]
    assert is_logged_in(laptop)
    assert UserSession.objects.filter(user=people.rita).count() == 1


def test_ending_sessions_is_recorded_in_each_of_the_persons_tenants(people, audit):
    Membership.objects.create(tenant=people.globex, user=people.rita, role=Role.REQUESTER)
    laptop = browser(CHROME_LINUX, "rita@acme.test", "203.0.113.9")
    browser(FIREFOX_WINDOWS, "rita@acme.test")
    laptop.post("/account/sessions/end-others/")
    for tenant in (people.acme, people.globex):
        [record] = [r for r in audit(tenant) if r.action == "session.ended_others"]
        assert record.actor_user_id == people.rita.pk
        assert record.after == {"sessions_ended": 1}
        assert record.address == "203.0.113.9"


def test_logging_out_takes_the_session_off_the_list(people):
    laptop = browser(CHROME_LINUX, "rita@acme.test")
    assert UserSession.objects.filter(user=people.rita).count() == 1
    laptop.post("/logout/")
    assert not UserSession.objects.filter(user=people.rita).exists()


def test_a_repeated_queue_page_writes_nothing_to_the_database(people):
    alice = browser(CHROME_LINUX, "alice@acme.test")
    alice.get("/t/acme/desk/")
    with CaptureQueriesContext(connection) as queries:
        assert alice.get("/t/acme/desk/").status_code == 200
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []


def test_last_active_is_brought_up_to_date_once_the_minute_has_passed(people):
    alice = browser(CHROME_LINUX, "alice@acme.test")
    row = UserSession.objects.get(user=people.alice)
    UserSession.objects.filter(pk=row.pk).update(last_seen_at=row.last_seen_at.replace(year=2020))
    alice.get("/t/acme/desk/")
    assert UserSession.objects.get(pk=row.pk).last_seen_at.year == 2020  # within the minute
    session = alice.session
    session[SEEN_KEY] = session[SEEN_KEY] - 61
    session.save()
    alice.get("/t/acme/desk/")
    assert UserSession.objects.get(pk=row.pk).last_seen_at.year > 2020


def test_a_session_from_before_the_list_existed_joins_it_on_its_next_request(people):
    laptop = browser(CHROME_LINUX, "rita@acme.test")
    UserSession.objects.all().delete()
    session = laptop.session
    del session[SEEN_KEY]
    session.save()
    laptop.get("/t/acme/portal/")
    assert UserSession.objects.filter(user=people.rita, user_agent=CHROME_LINUX).exists()


def test_an_agent_finds_which_mails_they_get_from_their_account(people):
    page = browser(CHROME_LINUX, "alice@acme.test").get("/account/").content.decode()
    assert 'href="/t/acme/notifications/mail/"' in page
    assert "Which mails you get from Acme Corporation" in page
    requester = browser(CHROME_LINUX, "rita@acme.test").get("/account/").content.decode()
    assert "Which mails you get" not in requester


def test_the_hourly_job_forgets_sessions_that_expired(people, settings):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from tenancy.tasks import prune_sessions

    assert settings.CELERY_BEAT_SCHEDULE["prune-sessions"]["task"] == prune_sessions.name
    laptop = browser(CHROME_LINUX, "rita@acme.test")
    phone = browser(FIREFOX_WINDOWS, "rita@acme.test")
    expired = phone.session.session_key
    Session.objects.filter(session_key=expired).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    assert prune_sessions.delay().get() == 1
    assert list(UserSession.objects.values_list("session_key", flat=True)) == [
        laptop.session.session_key
    ]
    assert not Session.objects.filter(session_key=expired).exists()
