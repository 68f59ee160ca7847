"""/api/v1/mail/: intake addresses, the policy for unknown senders and received mail, through
the same services as the settings pages; admin scope only."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from mail.models import InboundMail, InboundStatus, IntakeAddress, MailPolicy
from mail.services.store import inbound_store
from servicedesk.wsgi import application
from tests.api.helpers import problem
from tests.factories import CategoryFactory
from tests.mail.intake import mail

ADDRESSES = "/api/v1/mail/intake-addresses/"
MESSAGES = "/api/v1/mail/messages/"
POLICY = "/api/v1/mail/policy/"


@pytest.fixture
def keep_the_test_connection():
    """schemathesis calls the WSGI app itself, whose request signals would close the test's
    database connection mid-transaction; Django's test client disconnects them the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def stored(
    intake: IntakeAddress, *, sender: str, status: str, subject: str = "Printer"
) -> InboundMail:
    raw = mail(sender=sender, to=intake.address, subject=subject).as_bytes()
    row, _ = inbound_store(raw=raw, intake=intake, via="smtp")
    reason = "RuntimeError: a bug" if status == InboundStatus.FAILED else ""
    InboundMail.objects.filter(pk=row.pk).update(status=status, attempts=5, reason=reason)
    return InboundMail.objects.get(pk=row.pk)


def test_an_admin_key_creates_reads_and_changes_an_address(admin, people):
    created = admin.post(
        ADDRESSES,
        {"address": "Help@Acme.test", "category": "network", "impact": "high"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["address"], body["category"], body["impact"], body["urgency"]) == (
        "help@acme.test",
        "network",
        "high",
        "medium",
    )
    assert created["Location"] == f"{ADDRESSES}{body['id']}/"
    assert admin.get(ADDRESSES).json() == [body]
    patched = admin.patch(
        f"{ADDRESSES}{body['id']}/",
        {"urgency": "low", "category": None, "imap_enabled": True, "imap_host": "imap.acme.test",
         "imap_username": "help", "imap_password": "s3cret"},
        format="json",
    )  # fmt: skip
    assert patched.status_code == 200, patched.content
    changed = patched.json()
    assert (changed["urgency"], changed["category"], changed["impact"]) == ("low", None, "high")
    assert changed["imap_password_set"] is True and "imap_password" not in changed
    assert "s3cret" not in patched.content.decode()
    again = admin.patch(f"{ADDRESSES}{body['id']}/", {"imap_port": 143}, format="json").json()
    assert again["imap_port"] == 143
    assert IntakeAddress.objects.get(pk=body["id"]).imap_password == "s3cret"


def test_delete_deactivates_and_patch_brings_it_back(admin, people):
    intake = admin.post(ADDRESSES, {"address": "help@acme.test"}, format="json").json()
    assert admin.delete(f"{ADDRESSES}{intake['id']}/").status_code == 204
    assert admin.get(f"{ADDRESSES}{intake['id']}/").json()["is_active"] is False
    back = admin.patch(f"{ADDRESSES}{intake['id']}/", {"is_active": True}, format="json")
    assert back.json()["is_active"] is True


def test_refusals_are_problems_naming_the_field(admin, people):
    IntakeAddress.objects.create(tenant=people.globex, address="help@globex.test")
    taken = problem(admin.post(ADDRESSES, {"address": "help@globex.test"}, format="json"), 400)
    assert taken["errors"] == {
        "address": ["help@globex.test already receives mail for another desk."]
    }
    bad = problem(admin.post(ADDRESSES, {"address": "nobody"}, format="json"), 400)
    assert "is not a valid email address" in bad["errors"]["address"][0]
    CategoryFactory(tenant=people.globex, slug="globex-only")
    theirs = problem(
        admin.post(
            ADDRESSES, {"address": "it@acme.test", "category": "globex-only"}, format="json"
        ),
        400,
    )
    assert theirs["errors"] == {"category": ["No category 'globex-only' here."]}
    imap = problem(
        admin.post(ADDRESSES, {"address": "it@acme.test", "imap_enabled": True}, format="json"), 400
    )
    assert list(imap["errors"]) == ["imap_host"]
    assert not IntakeAddress.objects.filter(tenant=people.acme).exists()


def test_the_policy_is_read_and_replaced(admin, people):
    assert admin.get(POLICY).json()["unknown_senders"] == "contact"
    put = admin.put(
        POLICY,
        {"unknown_senders": "domains", "allowed_domains": ["Partner.example"]},
        format="json",
    )
    assert put.status_code == 200, put.content
    assert put.json()["allowed_domains"] == ["partner.example"]
    assert MailPolicy.objects.get(tenant=people.acme).unknown_senders == "domains"
    wrong = problem(
        admin.put(
            POLICY, {"unknown_senders": "domains", "allowed_domains": ["a b"]}, format="json"
        ),
        400,
    )
    assert "allowed_domains" in wrong["errors"]


def test_received_mail_is_listed_newest_first_and_filtered(admin, people):
    intake = IntakeAddress.objects.create(tenant=people.acme, address="help@acme.test")
    stored(intake, sender="rita@acme.test", status=InboundStatus.DONE, subject="First")
    stored(intake, sender="bob@acme.test", status=InboundStatus.FAILED, subject="Second")
    page = admin.get(MESSAGES).json()
    assert [m["subject"] for m in page["results"]] == ["Second", "First"]
    assert page["results"][0]["intake"] == "help@acme.test"
    failed = admin.get(MESSAGES, {"status": "failed"}).json()["results"]
    assert [(m["sender"], m["reason"]) for m in failed] == [
        ("bob@acme.test", "RuntimeError: a bug")
    ]
    assert "raw" not in failed[0]
    problem(admin.get(MESSAGES, {"status": "lost"}), 400)


def test_retry_moves_a_failed_message_to_received(
    admin, people, django_capture_on_commit_callbacks
):
    intake = IntakeAddress.objects.create(tenant=people.acme, address="help@acme.test")
    row = stored(intake, sender="rita@acme.test", status=InboundStatus.FAILED)
    with django_capture_on_commit_callbacks(execute=False) as triggers:
        answer = admin.post(f"{MESSAGES}{row.pk}/retry/")
    assert answer.status_code == 202, answer.content
    assert (answer.json()["status"], answer.json()["attempts"], answer.json()["reason"]) == (
        "received",
        0,
        "",
    )
    assert len(triggers) == 1
    row.refresh_from_db()
    assert row.status == InboundStatus.RECEIVED
    problem(admin.post(f"{MESSAGES}{row.pk}/retry/"), 409)  # waiting already


@pytest.mark.parametrize("scopes", [("read",), ("read", "write")])
def test_a_key_without_the_admin_scope_gets_403(api_for, people, scopes):
    client = api_for(scopes)
    intake = IntakeAddress.objects.create(tenant=people.acme, address="help@acme.test")
    row = stored(intake, sender="rita@acme.test", status=InboundStatus.FAILED)
    for answer in [
        client.get(ADDRESSES),
        client.post(ADDRESSES, {"address": "it@acme.test"}, format="json"),
        client.get(f"{ADDRESSES}{intake.pk}/"),
        client.delete(f"{ADDRESSES}{intake.pk}/"),
        client.get(POLICY),
        client.put(POLICY, {"unknown_senders": "refuse"}, format="json"),
        client.get(MESSAGES),
        client.post(f"{MESSAGES}{row.pk}/retry/"),
    ]:
        problem(answer, 403)
    row.refresh_from_db()
    assert row.status == InboundStatus.FAILED and IntakeAddress.objects.count() == 1


def test_an_agents_session_gets_403_and_an_admins_works(session_for, people):
    assert session_for(people.alice).get(ADDRESSES).status_code == 403
    assert session_for(people.ada).get(ADDRESSES).status_code == 200


def test_another_tenants_address_and_message_are_404(admin, people):
    theirs = IntakeAddress.objects.create(tenant=people.globex, address="help@globex.test")
    row = stored(theirs, sender="charlie@globex.test", status=InboundStatus.FAILED)
    problem(admin.get(f"{ADDRESSES}{theirs.pk}/"), 404)
    problem(admin.patch(f"{ADDRESSES}{theirs.pk}/", {"urgency": "low"}, format="json"), 404)
    problem(admin.delete(f"{ADDRESSES}{theirs.pk}/"), 404)
    problem(admin.post(f"{MESSAGES}{row.pk}/retry/"), 404)
    assert admin.get(ADDRESSES).json() == []
    assert admin.get(MESSAGES).json()["results"] == []
    theirs.refresh_from_db()
    row.refresh_from_db()
    assert theirs.is_active and row.status == InboundStatus.FAILED


def test_real_answers_match_the_schema(people, make_key, keep_the_test_connection):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    intake = IntakeAddress.objects.create(tenant=people.acme, address="help@acme.test")
    row = stored(intake, sender="rita@acme.test", status=InboundStatus.FAILED)
    auth = {"Authorization": f"Bearer {make_key(('read', 'write', 'admin'))}"}
    calls = [
        ("/api/v1/mail/intake-addresses/", "POST", {}, {"address": "it@acme.test"}),
        ("/api/v1/mail/intake-addresses/", "GET", {}, None),
        ("/api/v1/mail/intake-addresses/{id}/", "PATCH", {"id": intake.pk}, {"impact": "low"}),
        ("/api/v1/mail/policy/", "PUT", {}, {"unknown_senders": "refuse"}),
        ("/api/v1/mail/messages/", "GET", {}, None),
        ("/api/v1/mail/messages/{id}/retry/", "POST", {"id": row.pk}, None),
    ]
    for path, method, parameters, body in calls:
        operation = schema[path][method]
        extra = {} if body is None else {"body": body, "media_type": "application/json"}
        case = operation.Case(path_parameters=parameters, headers=auth, **extra)
        response = case.call_and_validate(
            checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
        )
        assert response.status_code in (200, 201, 202), (path, response.text)
