"""The incident page: public parts only, replies and files, and the reporter's answer."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from incidents import services
from incidents.models import Attachment, Incident, IncidentMute

SECRET = "Internal: the admin password is on the sticky note"


def url(name: str, incident: Incident, *extra) -> str:
    return reverse(name, args=["acme", incident.number, *extra])


@pytest.fixture
def busy(people, desk):
    """Rita's incident with a public reply and file, an internal note and file, a diagnosis."""
    incident = desk.accept(desk.report())
    alice = people.actor(people.alice)
    desk.run(
        services.comment_add,
        incident=incident,
        actor=alice,
        body="Please restart the client.",
        files=[SimpleUploadedFile("howto.txt", b"1. restart")],
    )
    desk.run(
        services.comment_add,
        incident=incident,
        actor=alice,
        body=SECRET,
        public=False,
        files=[SimpleUploadedFile("secret-notes.txt", b"hunter2")],
    )
    desk.run(
        services.attachment_add,
        incident=incident,
        actor=alice,
        public=False,
        upload=SimpleUploadedFile("internal-trace.txt", b"trace"),
    )
    desk.run(
        services.incident_record_diagnosis,
        incident=incident,
        actor=alice,
        root_cause="Expired certificate on vpn-gw-2",
        workaround="Use vpn-gw-1",
    )
    return Incident.objects.get(pk=incident.pk)


def test_the_page_shows_number_state_priority_and_who_works_on_it(people, login, busy):
    html = login(people.rita).get(url("portal-incident-detail", busy)).content.decode()
    assert "INC-000001" in html and "VPN drops every hour" in html
    assert "In progress: someone is working on it" in html
    assert "Alice Agent (Service Desk)" in html
    assert "Medium" in html  # priority of medium x medium


def test_the_public_timeline_shows_replies_and_files_but_nothing_internal(people, login, busy):
    client = login(people.rita)
    for page in (
        client.get(url("portal-incident-detail", busy)).content.decode(),
        client.get(url("portal-incident-timeline", busy), HTTP_HX_REQUEST="true").content.decode(),
    ):
        assert "Please restart the client." in page and "howto.txt" in page
        assert "started working on it" in page
        assert SECRET not in page and "sticky note" not in page
        assert "secret-notes.txt" not in page and "internal-trace.txt" not in page
        assert "vpn-gw-2" not in page and "vpn-gw-1" not in page  # agent-only diagnosis


def test_public_files_download_and_internal_ones_are_404(people, login, busy):
    client = login(people.rita)
    files = {a.name: a for a in Attachment.objects.filter(incident=busy)}
    response = client.get(url("portal-attachment", busy, files["howto.txt"].pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"1. restart"
    assert "attachment" in response["Content-Disposition"]
    for name in ("secret-notes.txt", "internal-trace.txt"):
        assert client.get(url("portal-attachment", busy, files[name].pk)).status_code == 404


def test_another_requester_gets_404_everywhere_on_the_incident(people, login, busy, rosa):
    client = login(rosa)
    public_file = Attachment.objects.get(incident=busy, name="howto.txt")
    for name in ("portal-incident-detail", "portal-incident-timeline", "portal-incident-reported"):
        assert client.get(url(name, busy)).status_code == 404
    assert client.get(url("portal-attachment", busy, public_file.pk)).status_code == 404
    for name in (
        "portal-incident-comment",
        "portal-incident-fixed",
        "portal-incident-broken",
        "portal-incident-emails",
    ):
        assert client.post(url(name, busy), {"body": "hi"}).status_code == 404
    assert busy.comments.count() == 2


def test_charlie_of_another_tenant_gets_404(people, login, busy):
    assert login(people.charlie).get(url("portal-incident-detail", busy)).status_code == 404


def test_a_joined_user_sees_the_public_page(people, login, busy, paul, desk):
    desk.join(busy, paul)
    html = login(paul).get(url("portal-incident-detail", busy)).content.decode()
    assert "Please restart the client." in html and SECRET not in html


def test_the_reporter_replies_with_files(people, login, busy, django_capture_on_commit_callbacks):
    client = login(people.rita)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("portal-incident-comment", busy),
            {
                "body": "Restarted, same thing.",
                "attachments": [SimpleUploadedFile("shot.png", b"\x89PNG")],
            },
            follow=True,
        )
    html = response.content.decode()
    assert "Your message was added." in html
    assert "Restarted, same thing." in html and "shot.png" in html
    assert Attachment.objects.get(name="shot.png").public is True


def test_an_empty_reply_is_refused_and_a_bad_file_keeps_the_text(people, login, busy):
    client = login(people.rita)
    html = client.post(url("portal-incident-comment", busy), {"body": "  "}).content.decode()
    assert "Write a message or attach a file." in html
    html = client.post(
        url("portal-incident-comment", busy),
        {"body": "Here is the installer", "attachments": [SimpleUploadedFile("x.exe", b"MZ")]},
    ).content.decode()
    assert "x.exe: this type of file is not accepted." in html
    assert "Here is the installer" in html and "Your files were not kept" in html
    assert busy.comments.count() == 2


def test_a_reply_while_awaiting_the_caller_resumes_work(people, login, busy, desk):
    desk.run(
        services.incident_hold,
        incident=busy,
        actor=people.actor(people.alice),
        hold_reason="awaiting_caller",
        note="Which VPN client version do you run?",
    )
    client = login(people.rita)
    html = client.get(url("portal-incident-detail", busy)).content.decode()
    assert "Waiting for your reply" in html
    assert "Which VPN client version do you run?" in html
    client.post(url("portal-incident-comment", busy), {"body": "Version 5.1"})
    busy.refresh_from_db()
    assert busy.state == "diagnosing"
    html = client.get(url("portal-incident-detail", busy)).content.decode()
    assert "resumed work" in html


def test_nothing_can_be_added_to_a_closed_incident(people, login, desk):
    incident = desk.resolve(desk.report())
    desk.run(services.incident_close, incident=incident, actor=people.actor(people.rita), rating=3)
    client = login(people.rita)
    html = client.get(url("portal-incident-detail", incident)).content.decode()
    assert "Add a message" not in html and "Rated 3 out of 5" in html
    html = client.post(url("portal-incident-comment", incident), {"body": "hello"}).content.decode()
    assert "report a new incident if the problem is back" in html


def test_a_resolved_incident_shows_the_resolution_and_two_choices(people, login, desk):
    incident = desk.resolve(desk.report())
    html = login(people.rita).get(url("portal-incident-detail", incident)).content.decode()
    assert "Resolution: Solved (permanently)" in html
    assert "Replaced the VPN concentrator" in html
    assert "Yes, it's fixed" in html and "No, still broken" in html


def test_yes_its_fixed_closes_with_a_rating(people, login, desk):
    incident = desk.resolve(desk.report())
    response = login(people.rita).post(
        url("portal-incident-fixed", incident),
        {"fixed-rating": "4", "fixed-comment": "Quick, thanks", "fixed-version": incident.version},
        follow=True,
    )
    incident.refresh_from_db()
    assert (incident.state, incident.satisfaction_rating) == ("closed", 4)
    assert incident.satisfaction_comment == "Quick, thanks"
    assert "Thank you. INC-000001 is closed." in response.content.decode()


def test_yes_its_fixed_asks_for_a_rating(people, login, desk):
    incident = desk.resolve(desk.report())
    html = (
        login(people.rita)
        .post(
            url("portal-incident-fixed", incident),
            {"fixed-comment": "kept text", "fixed-version": incident.version},
        )
        .content.decode()
    )
    assert "Choose a rating from 1 to 5." in html and "kept text" in html
    incident.refresh_from_db()
    assert incident.state == "resolved"


def test_no_still_broken_reopens_with_the_reason(people, login, desk):
    incident = desk.resolve(desk.report())
    client = login(people.rita)
    html = client.post(
        url("portal-incident-broken", incident),
        {"broken-reason": " ", "broken-version": incident.version},
    ).content.decode()
    assert "Say what is still wrong" in html
    response = client.post(
        url("portal-incident-broken", incident),
        {"broken-reason": "Dropped again at 10:00", "broken-version": incident.version},
        follow=True,
    )
    incident.refresh_from_db()
    assert (incident.state, incident.reopen_count) == ("diagnosing", 1)
    html = response.content.decode()
    assert "INC-000001 is reopened" in html and "Dropped again at 10:00" in html


def test_an_answer_on_a_stale_page_is_refused_and_keeps_the_text(people, login, desk):
    incident = desk.resolve(desk.report())
    seen = incident.version
    # The desk reopened and resolved it again meanwhile: transitions clash with the answer.
    desk.run(
        services.incident_reopen,
        incident=incident,
        actor=people.actor(people.alice),
        reason="The cert has to be renewed as well",
    )
    incident = desk.resolve(incident)
    html = (
        login(people.rita)
        .post(
            url("portal-incident-fixed", incident),
            {"fixed-rating": "5", "fixed-comment": "great job", "fixed-version": seen},
        )
        .content.decode()
    )
    assert "was changed by someone else since you opened it: Alice Agent moved it to" in html
    assert "great job" in html
    incident.refresh_from_db()
    assert incident.state == "resolved"
    assert f'name="fixed-version" value="{incident.version}"' in html  # a retry now works


def test_an_answer_goes_through_after_a_reply_meanwhile(people, login, desk):
    incident = desk.resolve(desk.report())
    seen = incident.version
    desk.reply(incident, "One more thing: the cert was renewed.")  # talk never conflicts
    login(people.rita).post(
        url("portal-incident-fixed", incident),
        {"fixed-rating": "5", "fixed-comment": "great job", "fixed-version": seen},
    )
    incident.refresh_from_db()
    assert (incident.state, incident.satisfaction_rating) == ("closed", 5)


def test_only_the_reporter_gets_the_choices(people, login, desk, paul):
    incident = desk.report()
    desk.join(incident, paul)
    incident = desk.resolve(incident)
    client = login(paul)
    html = client.get(url("portal-incident-detail", incident)).content.decode()
    assert "No, still broken" not in html
    html = client.post(
        url("portal-incident-fixed", incident),
        {"fixed-rating": "1", "fixed-version": incident.version},
    ).content.decode()
    assert "Only the person who reported the incident can confirm or reopen it." in html
    incident.refresh_from_db()
    assert incident.state == "resolved"


def test_stop_and_restart_emails_from_the_page(people, login, desk):
    incident = desk.report()
    client = login(people.rita)
    html = client.post(
        url("portal-incident-emails", incident), {"muted": "1"}, follow=True
    ).content.decode()
    assert "You will no longer get emails about INC-000001." in html
    assert "Send me emails again" in html
    assert IncidentMute.objects.filter(incident=incident, address="rita@acme.test").exists()
    client.post(url("portal-incident-emails", incident), {"muted": "0"})
    assert not IncidentMute.objects.exists()


def test_the_page_renders_in_fixed_queries(people, login, desk, django_assert_max_num_queries):
    incident = desk.accept(desk.report())
    client = login(people.rita)
    with django_assert_max_num_queries(12) as few:
        client.get(url("portal-incident-detail", incident))
    for n in range(8):
        desk.reply(incident, f"Update {n}")
        desk.run(
            services.attachment_add,
            incident=incident,
            actor=people.actor(people.alice),
            upload=SimpleUploadedFile(f"f{n}.txt", b"x"),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url("portal-incident-detail", incident)).content.decode()
    assert "Update 7" in html and "f7.txt" in html
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("portal-incident-timeline", incident))
