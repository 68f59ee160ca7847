"""Canned responses on the desk's pages: the picker's filled-in text, who may open which
settings page, and text that must stay text."""

from django.utils.html import escape

from incidents.services import canned
from tests.desk.desk_support import detail_url, routed

MINE = "/t/acme/settings/my-canned-responses/"
TENANT = "/t/acme/settings/canned-responses/"


def _make(people, user, name, body, personal=True):
    return canned.canned_response_create(
        actor=people.actor(user), name=name, body=body, personal=personal
    )


def test_the_picker_offers_the_text_filled_in_as_plain_escaped_text(people, login):
    incident = routed(people, "<script>alert(1)</script> in the title")
    _make(people, people.ada, "Welcome", "Hi {requester_first_name}: {title} {{ number }}", False)
    html = login(people.alice).get(detail_url(incident)).content.decode()
    filled = f"Hi Rita: <script>alert(1)</script> in the title {incident.reference}"
    assert f'data-text="{escape(filled)}"' in html
    assert "<script>alert(1)</script>" not in html


def test_who_may_open_which_canned_responses_page(people, login):
    bobs = _make(people, people.bob, "Bob's", "Hi")
    tenant_wide = _make(people, people.ada, "Welcome", "Hi", personal=False)
    alice = login(people.alice)
    assert alice.get(MINE).status_code == 200
    assert alice.get(TENANT).status_code == 404
    assert alice.get(f"{MINE}{bobs.pk}/").status_code == 404
    assert alice.post(f"{MINE}{bobs.pk}/delete/").status_code == 404
    # The organisation's response is not managed from an agent's own page, even an admin's.
    assert login(people.ada).get(f"{MINE}{tenant_wide.pk}/").status_code == 404
    assert login(people.rita).get(MINE).status_code == 404
    assert login(people.charlie).get(f"{TENANT}{tenant_wide.pk}/").status_code == 404


def test_an_agent_edits_and_deletes_her_own_and_a_clash_keeps_her_text(people, login):
    _make(people, people.alice, "Signature", "Regards")
    other = _make(people, people.alice, "Other", "Hello")
    alice = login(people.alice)
    page = alice.post(f"{MINE}{other.pk}/", {"name": "signature", "body": "Typed {title}"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "You already have a canned response named “signature”." in html
    assert "Typed {title}" in html
    assert alice.post(f"{MINE}{other.pk}/delete/").status_code == 302
    listed = alice.get(MINE).content.decode()
    assert "Deleted the canned response “Other”." in listed
    assert "<td>Signature</td>" in listed and "<td>Other</td>" not in listed
