"""Canned responses over the API: the organisation's (admin scope or an admin's session) and an
agent's own (their session); what each caller sees, the 404s, and the validation errors."""

from incidents.models import CannedResponse
from incidents.services import canned
from tests.api.helpers import problem

URL = "/api/v1/canned-responses/"
THANKS = {"name": "Thanks", "body": "Hello {requester_name}, thanks for reporting {number}."}


def _item(response) -> str:
    return f"{URL}{response.json()['id']}/"


def _personal(people, user, name="Mine", body="Hi {requester_first_name}"):
    actor = people.actor(user)
    return canned.canned_response_create(actor=actor, name=name, body=body, personal=True)


def test_an_admin_key_creates_reads_changes_and_deletes_a_tenant_response(admin, api_for):
    created = admin.post(URL, {**THANKS, "scope": "tenant"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "Thanks" and body["scope"] == "tenant" and body["owner"] is None
    assert body["placeholders"] == ["requester_name", "number"]
    assert created["Location"] == _item(created)

    reader = api_for(("read",))
    assert [r["name"] for r in reader.get(URL).json()] == ["Thanks"]
    assert reader.get(_item(created)).json()["body"] == THANKS["body"]

    changed = admin.patch(_item(created), {"name": "Thank you"}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "Thank you" and changed.json()["body"] == THANKS["body"]

    assert admin.delete(_item(created)).status_code == 204
    problem(admin.get(_item(created)), 404)
    assert not CannedResponse.objects.exists()


def test_a_key_without_the_admin_scope_may_not_change_the_tenants_responses(admin, api_for, people):
    writer, reader = api_for(("read", "write")), api_for(("read",))
    refused = problem(writer.post(URL, THANKS, format="json"), 403)
    assert "admin scope" in refused["detail"]
    assert problem(reader.post(URL, THANKS, format="json"), 403)["detail"].startswith(
        "This key is read-only"
    )
    item = _item(admin.post(URL, THANKS, format="json"))
    problem(writer.patch(item, {"name": "Other"}, format="json"), 403)
    problem(writer.delete(item), 403)
    assert CannedResponse.objects.get().name == "Thanks"


def test_a_key_cannot_make_a_personal_response(admin):
    refused = problem(admin.post(URL, {**THANKS, "scope": "personal"}, format="json"), 403)
    assert "belongs to a person" in refused["detail"]


def test_an_agent_manages_her_own_and_sees_the_tenants_but_not_a_colleagues(
    people, session_for, admin
):
    admin.post(URL, {"name": "Welcome", "body": "Welcome {requester_name}"}, format="json")
    bobs = _personal(people, people.bob, name="Bob's secret")
    alice = session_for(people.alice)

    created = alice.post(URL, {"name": "Signature", "body": "Regards, {agent_name}"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["scope"] == "personal"
    assert created.json()["owner"] == "alice@acme.test"

    listed = alice.get(URL).json()
    assert [(r["name"], r["scope"]) for r in listed] == [
        ("Welcome", "tenant"),
        ("Signature", "personal"),
    ]
    assert [r["name"] for r in alice.get(URL + "?scope=personal").json()] == ["Signature"]
    problem(alice.get(f"{URL}{bobs.pk}/"), 404)
    problem(alice.patch(f"{URL}{bobs.pk}/", {"name": "Stolen"}, format="json"), 404)
    problem(alice.delete(f"{URL}{bobs.pk}/"), 404)
    assert CannedResponse.objects.get(pk=bobs.pk).name == "Bob's secret"

    changed = alice.patch(_item(created), {"body": "Best, {agent_first_name}"}, format="json")
    assert changed.json()["body"] == "Best, {agent_first_name}"
    assert alice.delete(_item(created)).status_code == 204
    # An API key sees the organisation's responses, never anybody's own.
    assert [r["name"] for r in admin.get(URL).json()] == ["Welcome"]
    problem(admin.get(f"{URL}{bobs.pk}/"), 404)


def test_an_agent_may_use_but_not_change_the_tenants_responses(people, session_for, admin):
    item = _item(admin.post(URL, THANKS, format="json"))
    alice = session_for(people.alice)
    assert alice.get(item).status_code == 200
    problem(alice.post(URL, {**THANKS, "scope": "tenant"}, format="json"), 403)
    problem(alice.patch(item, {"name": "Mine now"}, format="json"), 403)
    problem(alice.delete(item), 403)
    ada = session_for(people.ada)
    assert ada.patch(item, {"name": "Thank you"}, format="json").status_code == 200


def test_charlie_gets_404_for_acmes_responses(people, session_for, admin, api_for):
    tenant_wide = _item(admin.post(URL, THANKS, format="json"))
    alices = _personal(people, people.alice)
    charlie = session_for(people.charlie)
    globex_key = api_for(("read", "write", "admin"), tenant=people.globex)
    for client in (charlie, globex_key):
        assert client.get(URL).json() == []
        problem(client.get(tenant_wide), 404)
        problem(client.get(f"{URL}{alices.pk}/"), 404)
        problem(client.patch(tenant_wide, {"name": "Ours"}, format="json"), 404)
        problem(client.delete(tenant_wide), 404)
    assert CannedResponse.objects.count() == 2


def test_a_requester_may_not_use_canned_responses(people, session_for, admin):
    admin.post(URL, THANKS, format="json")
    rita = session_for(people.rita)
    problem(rita.get(URL), 403)
    problem(rita.post(URL, THANKS, format="json"), 403)


def test_an_unknown_placeholder_is_refused_by_name(admin):
    body = {"name": "Typo", "body": "Hi {requester_nmae}, see {{ numbr }} and {title}."}
    refused = problem(admin.post(URL, body, format="json"), 400)
    assert refused["errors"]["body"] == [refused["detail"]]
    assert refused["detail"].startswith("Unknown placeholders {requester_nmae}, {numbr}.")
    assert "{requester_name}" in refused["detail"]
    assert not CannedResponse.objects.exists()


def test_a_name_is_unique_per_owner_whatever_its_case(admin, people, session_for):
    admin.post(URL, THANKS, format="json")
    refused = problem(admin.post(URL, {**THANKS, "name": "THANKS"}, format="json"), 400)
    assert refused["errors"] == {
        "name": ["The organisation already has a canned response named “THANKS”."]
    }
    # An agent's own may share the tenant's name, and bob's may share alice's.
    alice, bob = session_for(people.alice), session_for(people.bob)
    assert alice.post(URL, THANKS, format="json").status_code == 201
    assert bob.post(URL, THANKS, format="json").status_code == 201
    again = problem(alice.post(URL, {**THANKS, "name": " thanks "}, format="json"), 400)
    assert again["errors"] == {"name": ["You already have a canned response named “thanks”."]}
    other = _item(alice.post(URL, {**THANKS, "name": "Other"}, format="json"))
    clash = problem(alice.patch(other, {"name": "Thanks"}, format="json"), 400)
    assert "already have" in clash["detail"]


def test_missing_fields_and_a_changed_scope_are_field_errors(admin):
    missing = problem(admin.post(URL, {"name": ""}, format="json"), 400)
    assert set(missing["errors"]) == {"name", "body"}
    blank = problem(admin.post(URL, {"name": "Blank", "body": "   "}, format="json"), 400)
    assert blank["errors"] == {"body": ["Write the text of the canned response."]}
    item = _item(admin.post(URL, THANKS, format="json"))
    moved = problem(admin.patch(item, {"scope": "personal"}, format="json"), 400)
    assert "keeps its scope" in moved["errors"]["scope"][0]
    problem(admin.get(URL + "?scope=everyone"), 400)
    problem(admin.get(f"{URL}abc/"), 404)
