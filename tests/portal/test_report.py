"""Reporting through the portal: the form, its refusals, the confirmation, double submits."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from incidents.models import Attachment, Incident
from portal.models import ReportSubmission
from tests.factories import CategoryFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def report_url(slug: str = "acme") -> str:
    return reverse("portal-report", args=[slug])


def form_data(people, **over) -> dict:
    data = {
        "title": "Printer on floor 3 jams",
        "description": "Every second page jams since this morning.",
        "category": str(people.network.pk),
        "impact": "medium",
        "urgency": "high",
        "form_token": str(uuid.uuid4()),
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def post_report(client, data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(report_url(), data)


def test_the_tenant_home_offers_reporting_and_my_incidents(people, login):
    html = login(people.rita).get(reverse("tenant-home", args=["acme"])).content.decode()
    assert reverse("portal-report", args=["acme"]) in html
    assert "Report an incident" in html and "My incidents" in html


def test_every_field_has_a_label_and_plain_words(people, login):
    html = login(people.rita).get(report_url()).content.decode()
    for field_id in ("id_title", "id_description", "id_category", "id_attachments"):
        assert f'<label for="{field_id}"' in html
    assert "<legend" in html and "Who is affected?" in html
    assert "How much does it stop your work?" in html
    for words in (
        "Only me",
        "My team or department",
        "The whole organisation or our customers",
        "I can work around it",
        "My work is slowed down",
        "I cannot work at all",
    ):
        assert words in html
    assert 'name="form_token"' in html
    assert "multiple" in html  # several files at once


def test_reporting_creates_the_incident_and_confirms_its_number(
    people, login, django_capture_on_commit_callbacks
):
    client = login(people.rita)
    files = [SimpleUploadedFile("screen.png", PNG), SimpleUploadedFile("log.txt", b"jam at 9:02")]
    response = post_report(
        client, {**form_data(people), "attachments": files}, django_capture_on_commit_callbacks
    )
    incident = Incident.objects.get(tenant=people.acme)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal-incident-reported", args=["acme", 1])
    assert (incident.impact, incident.urgency, incident.priority.slug) == ("medium", "high", "high")
    assert incident.state == "escalated" and incident.group == people.group
    assert sorted(Attachment.objects.filter(incident=incident).values_list("name", flat=True)) == [
        "log.txt",
        "screen.png",
    ]
    page = client.get(response["Location"]).content.decode()
    assert "INC-000001" in page
    assert "Priority: <strong" in page and "High" in page
    # The person's own words, as they chose them: never lowercased ("i cannot work at all").
    assert 'impact-words">My team or department<' in page
    assert 'urgency-words">I cannot work at all<' in page
    assert "What happens next" in page and "Service Desk" in page
    assert [m.to for m in mail.outbox] == [["rita@acme.test"]]
    assert "INC-000001" in mail.outbox[0].subject


def test_an_unrouted_category_says_the_desk_will_pass_it_on(
    people, login, django_capture_on_commit_callbacks
):
    loose = CategoryFactory(tenant=people.acme, name="Other", slug="other", group=None)
    client = login(people.rita)
    post_report(
        client, form_data(people, category=str(loose.pk)), django_capture_on_commit_callbacks
    )
    incident = Incident.objects.get(tenant=people.acme)
    assert incident.state == "reported"
    page = client.get(reverse("portal-incident-reported", args=["acme", 1])).content.decode()
    assert "pass it to the team best placed to fix it" in page


def _radio_checked(html: str, name: str, value: str) -> bool:
    return re.search(rf'name="{name}" value="{value}"[^>]*checked', html) is not None


@pytest.mark.parametrize(
    ("change", "field_message"),
    [
        ({"title": ""}, "Give the incident a short title."),
        ({"title": "x" * 201}, "The title is limited to 200 characters."),
        ({"description": "y" * 20_001}, "The description is limited to 20,000 characters"),
        ({"impact": None}, "Tell us who is affected."),
        ({"urgency": "extreme"}, "Select a valid choice."),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_keeps_the_rest(
    people, login, change, field_message
):
    data = form_data(people, **change)
    response = login(people.rita).post(report_url(), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert field_message in html
    assert not Incident.objects.exists()
    kept = {k: v for k, v in form_data(people).items() if k not in change}
    if "title" in kept:
        assert f'value="{kept["title"]}"' in html
    if "description" in kept:
        assert kept["description"] in html
    if "impact" in kept:
        assert _radio_checked(html, "impact", kept["impact"])
    assert f'value="{data["form_token"]}"' in html  # the same form: still one incident at most


def test_a_category_of_another_tenant_is_refused(people, login):
    foreign = CategoryFactory(tenant=people.globex, name="Globex network", slug="gnet")
    response = login(people.rita).post(report_url(), form_data(people, category=str(foreign.pk)))
    html = response.content.decode()
    assert "Choose one of the categories offered." in html
    assert "Printer on floor 3 jams" in html
    assert not Incident.objects.exists()


def test_a_file_too_large_is_refused_and_the_files_must_be_chosen_again(people, login, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("huge.pdf", b"%PDF" + b"0" * (1024 * 1024 + 10))
    response = login(people.rita).post(report_url(), {**form_data(people), "attachments": [big]})
    html = response.content.decode()
    assert "huge.pdf is 1.0\xa0MB; files are limited to 1.0\xa0MB." in html
    assert "Your files were not kept" in html and "choose them again" in html
    assert "Printer on floor 3 jams" in html and "Every second page jams" in html
    assert not Incident.objects.exists()


def test_a_refused_file_type_is_named(people, login):
    exe = SimpleUploadedFile("setup.exe", b"MZ\x90\x00")
    response = login(people.rita).post(report_url(), {**form_data(people), "attachments": [exe]})
    html = response.content.decode()
    assert "setup.exe: this type of file is not accepted." in html
    assert not Incident.objects.exists()


def test_a_resubmitted_form_creates_one_incident_and_shows_the_first(
    people, login, django_capture_on_commit_callbacks
):
    client = login(people.rita)
    data = form_data(people)
    first = post_report(client, data, django_capture_on_commit_callbacks)
    second = post_report(client, data, django_capture_on_commit_callbacks)
    assert Incident.objects.filter(tenant=people.acme).count() == 1
    assert (
        first["Location"]
        == second["Location"]
        == reverse("portal-incident-reported", args=["acme", 1])
    )
    assert len(mail.outbox) == 1  # one acknowledgement, not two
    assert ReportSubmission.objects.get().incident.number == 1


def test_a_new_form_reports_a_new_incident(people, login, django_capture_on_commit_callbacks):
    client = login(people.rita)
    post_report(client, form_data(people), django_capture_on_commit_callbacks)
    post_report(client, form_data(people, title="Second"), django_capture_on_commit_callbacks)
    assert sorted(Incident.objects.values_list("number", flat=True)) == [1, 2]


def test_charlie_of_another_tenant_gets_404_on_the_report_form(people, login):
    assert login(people.charlie).get(report_url()).status_code == 404
