"""Email intake settings: the admin services (addresses, policy, retry) and their pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from desk.demo import demo_load
from incidents.models import Incident
from mail.models import InboundMail, InboundStatus, IntakeAddress, MailPolicy
from mail.services import admin
from mail.services.process import inbound_process
from mail.services.store import inbound_store
from tenancy.errors import Conflict, InvalidInput, NotAllowed
from tenancy.models import Role
from tests.factories import CategoryFactory, MembershipFactory
from tests.incidents.settings_support import input_value, page_text
from tests.mail.intake import mail


def url(name: str, *args: object, tenant: str = "acme") -> str:
    return reverse(name, args=[tenant, *args])


def intake_fields(**changes: object) -> dict[str, object]:
    """The add/edit form as a browser posts it."""
    fields: dict[str, object] = {
        "address": "help@acme.test",
        "category": "",
        "impact": "medium",
        "urgency": "medium",
        "imap_port": "993",
        "imap_security": "ssl",
        "imap_host": "",
        "imap_username": "",
        "imap_password": "",
        "imap_folder": "INBOX",
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


@pytest.fixture
def ada(people):
    return people.actor(people.ada)


@pytest.fixture
def intake(people, ada) -> IntakeAddress:
    return admin.intake_address_create(actor=ada, address="help@acme.test")


def failed_message(intake: IntakeAddress, sender: str = "rita@acme.test") -> InboundMail:
    """A stored message whose processing failed for good (as after a bug in the desk)."""
    raw = mail(sender=sender, to=intake.address, subject="VPN drops every hour").as_bytes()
    row, _ = inbound_store(raw=raw, intake=intake, via="smtp")
    InboundMail.objects.filter(pk=row.pk).update(
        status=InboundStatus.FAILED, attempts=5, reason="RuntimeError: the desk had a bug"
    )
    return InboundMail.objects.get(pk=row.pk)


# --- services -------------------------------------------------------------------------------


def test_an_admin_adds_an_address_with_its_defaults(people, ada):
    intake = admin.intake_address_create(
        actor=ada, address=" Help@Acme.TEST ", category=people.network, impact="high"
    )
    intake.refresh_from_db()
    assert (intake.address, intake.category, intake.impact, intake.urgency) == (
        "help@acme.test",
        people.network,
        "high",
        "medium",
    )
    assert intake.tenant == people.acme and intake.is_active


@pytest.mark.parametrize("who", ["alice", "max", "rita"])
def test_only_an_admin_manages_intake(people, who):
    actor = people.actor(getattr(people, who))
    with pytest.raises(NotAllowed):
        admin.intake_address_create(actor=actor, address="help@acme.test")
    with pytest.raises(NotAllowed):
        admin.mail_policy_set(actor=actor, unknown_senders="refuse", allowed_domains=[])
    assert not IntakeAddress.objects.exists() and not MailPolicy.objects.exists()


def test_an_address_of_another_desk_is_refused_without_naming_it(people, ada):
    globex_admin = MembershipFactory(tenant=people.globex, role=Role.ADMIN)
    admin.intake_address_create(
        actor=people.actor(globex_admin.user, people.globex), address="support@globex.test"
    )
    with pytest.raises(InvalidInput) as refusal:
        admin.intake_address_create(actor=ada, address="SUPPORT@globex.test")
    assert refusal.value.field == "address"
    assert refusal.value.message == "support@globex.test already receives mail for another desk."
    assert "Globex" not in refusal.value.message
    assert not IntakeAddress.objects.filter(tenant=people.acme).exists()


def test_an_address_already_ours_says_so_even_when_deactivated(ada, intake):
    with pytest.raises(InvalidInput) as refusal:
        admin.intake_address_create(actor=ada, address="help@acme.test")
    assert refusal.value.message == "help@acme.test is already one of yours."
    admin.intake_address_deactivate(actor=ada, intake=intake)
    with pytest.raises(InvalidInput) as refusal:
        admin.intake_address_create(actor=ada, address="help@acme.test")
    assert "deactivated: reactivate it" in refusal.value.message


@pytest.mark.parametrize(
    "address, said",
    [
        ("not an address", "is not a valid email address"),
        ("help@", "is not a valid email address"),
        ("", "Give the address people write to."),
    ],
)
def test_a_wrong_address_is_refused_by_field(ada, address, said):
    with pytest.raises(InvalidInput) as refusal:
        admin.intake_address_create(actor=ada, address=address)
    assert refusal.value.field == "address" and said in refusal.value.message


def test_impact_and_urgency_are_checked(ada):
    with pytest.raises(InvalidInput) as refusal:
        admin.intake_address_create(actor=ada, address="help@acme.test", urgency="urgent")
    assert refusal.value.field == "urgency"
    assert refusal.value.message == "Urgency must be one of high, medium or low (got 'urgent')."


def test_a_category_of_another_tenant_or_inactive_is_refused(people, ada, intake):
    theirs = CategoryFactory(tenant=people.globex, name="Globex things")
    with pytest.raises(InvalidInput) as refusal:
        admin.intake_address_create(actor=ada, address="it@acme.test", category=theirs)
    assert (refusal.value.field, refusal.value.message) == ("category", "No such category here.")
    retired = CategoryFactory(tenant=people.acme, name="Retired", is_active=False)
    with pytest.raises(InvalidInput) as refusal:
        admin.intake_address_create(actor=ada, address="it@acme.test", category=retired)
    assert "Retired is inactive" in refusal.value.message


def test_imap_fields_are_required_together_and_the_password_is_kept(ada, intake):
    with pytest.raises(InvalidInput) as refusal:
        admin.intake_address_update(
            actor=ada, intake=intake, address=intake.address, imap_enabled=True,
            imap_host="imap.acme.test", imap_username="help",
        )  # fmt: skip
    assert refusal.value.field == "imap_password"
    saved = admin.intake_address_update(
        actor=ada, intake=intake, address=intake.address, imap_enabled=True,
        imap_host="IMAP.acme.test", imap_username="help", imap_password="s3cret pass",
    )  # fmt: skip
    assert (saved.imap_host, saved.imap_password) == ("imap.acme.test", "s3cret pass")
    IntakeAddress.objects.filter(pk=intake.pk).update(imap_last_error="Log-in refused")
    again = admin.intake_address_update(
        actor=ada, intake=intake, address=intake.address, imap_enabled=True,
        imap_host="imap.acme.test", imap_username="helpdesk", imap_password="",
    )  # fmt: skip
    again.refresh_from_db()
    assert (again.imap_username, again.imap_password) == ("helpdesk", "s3cret pass")
    assert again.imap_last_error == ""  # it was about the user name just replaced


def test_a_bad_imap_host_or_port_is_refused(ada, intake):
    with pytest.raises(InvalidInput) as refusal:
        admin.intake_address_update(
            actor=ada, intake=intake, address=intake.address, imap_host="imap acme"
        )
    assert refusal.value.field == "imap_host"
    with pytest.raises(InvalidInput) as refusal:
        admin.intake_address_update(
            actor=ada, intake=intake, address=intake.address, imap_port=70000
        )
    assert refusal.value.field == "imap_port"


def test_the_policy_takes_a_clean_list_of_domains(people, ada):
    policy = admin.mail_policy_set(
        actor=ada, unknown_senders="domains", allowed_domains=["Partner.example", "@acme.test", ""]
    )
    assert policy.allowed_domains == ["partner.example", "acme.test"]
    assert MailPolicy.objects.get(tenant=people.acme).accepts("x@partner.example")
    with pytest.raises(InvalidInput) as refusal:
        admin.mail_policy_set(
            actor=ada, unknown_senders="domains", allowed_domains=["not a domain"]
        )
    assert refusal.value.field == "allowed_domains"
    assert "“not a domain” is not a domain name" in refusal.value.message
    with pytest.raises(InvalidInput) as refusal:
        admin.mail_policy_set(actor=ada, unknown_senders="domains", allowed_domains=[])
    assert refusal.value.message.startswith("List at least one domain")
    assert MailPolicy.objects.get(tenant=people.acme).allowed_domains == [
        "partner.example",
        "acme.test",
    ]


def test_retry_puts_a_failed_message_back_to_received_and_processes_it(
    people, ada, intake, django_capture_on_commit_callbacks
):
    row = failed_message(intake)
    with django_capture_on_commit_callbacks(execute=False) as triggers:
        admin.inbound_retry(actor=ada, inbound=row)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.reason) == (InboundStatus.RECEIVED, 0, "")
    assert len(triggers) == 1  # processing is triggered once the retry commits
    assert inbound_process(inbound_id=row.pk) == InboundStatus.DONE
    row.refresh_from_db()
    incident = Incident.objects.get(pk=row.incident_id)
    assert (incident.title, incident.reporter) == ("VPN drops every hour", people.rita)


def test_a_refused_message_is_retried_after_the_policy_changes(people, ada, intake):
    admin.mail_policy_set(actor=ada, unknown_senders="refuse", allowed_domains=[])
    raw = mail(sender="vendor@partner.example", to="help@acme.test").as_bytes()
    row, _ = inbound_store(raw=raw, intake=intake, via="smtp")
    assert inbound_process(inbound_id=row.pk) == InboundStatus.REFUSED
    admin.mail_policy_set(actor=ada, unknown_senders="contact", allowed_domains=[])
    admin.inbound_retry(actor=ada, inbound=row)
    assert inbound_process(inbound_id=row.pk) == InboundStatus.DONE


def test_a_processed_message_cannot_be_retried(people, ada, intake):
    row = failed_message(intake)
    InboundMail.objects.filter(pk=row.pk).update(status=InboundStatus.DONE)
    with pytest.raises(Conflict) as refusal:
        admin.inbound_retry(actor=ada, inbound=row)
    assert "this one is processed" in refusal.value.message
    with pytest.raises(NotAllowed):
        admin.inbound_retry(actor=people.actor(people.alice), inbound=row)


# --- pages ----------------------------------------------------------------------------------


def test_an_admin_adds_an_address_on_the_page(people, login):
    client = login(people.ada)
    answer = client.post(
        url("settings-mail-intake-create"),
        intake_fields(category=str(people.network.pk), urgency="high"),
    )
    assert answer.status_code == 302
    listing = page_text(client.get(url("settings-mail")))
    assert "help@acme.test" in listing and "Network" in listing
    assert "Impact medium, urgency high" in listing
    assert "Off (SMTP intake only)" in listing


def test_a_refused_address_keeps_everything_typed_but_the_password(people, login):
    client = login(people.ada)
    answer = client.post(
        url("settings-mail-intake-create"),
        intake_fields(
            address="help at acme",
            category=str(people.network.pk),
            impact="high",
            imap_enabled="on",
            imap_host="imap.acme.test",
            imap_username="helpdesk",
            imap_password="s3cret",
        ),
    )
    assert answer.status_code == 200
    text = page_text(answer)
    assert "“help at acme” is not a valid email address" in text
    assert input_value(answer, "address") == "help at acme"
    assert input_value(answer, "category") == str(people.network.pk)
    assert input_value(answer, "impact") == "high"
    assert input_value(answer, "imap_host") == "imap.acme.test"
    assert input_value(answer, "imap_username") == "helpdesk"
    assert "s3cret" not in answer.content.decode()
    assert "type it again" in text
    assert not IntakeAddress.objects.exists()


def test_an_address_of_another_desk_is_refused_on_the_page(people, login):
    IntakeAddress.objects.create(tenant=people.globex, address="help@globex.test")
    answer = login(people.ada).post(
        url("settings-mail-intake-create"), intake_fields(address="help@globex.test")
    )
    text = page_text(answer)
    assert "help@globex.test already receives mail for another desk." in text
    assert "Globex" not in text


def test_an_admin_edits_an_address_and_the_password_is_never_shown(people, login, ada, intake):
    admin.intake_address_update(
        actor=ada, intake=intake, address=intake.address, imap_enabled=True,
        imap_host="imap.acme.test", imap_username="help", imap_password="s3cret-pass",
    )  # fmt: skip
    client = login(people.ada)
    page = client.get(url("settings-mail-intake-edit", intake.pk))
    assert "s3cret-pass" not in page.content.decode()
    assert "A password is saved." in page_text(page)
    answer = client.post(
        url("settings-mail-intake-edit", intake.pk),
        intake_fields(
            address="desk@acme.test", imap_enabled="on", imap_host="imap.acme.test",
            imap_username="help", urgency="low",
        ),
    )  # fmt: skip
    assert answer.status_code == 302
    intake.refresh_from_db()
    assert (intake.address, intake.urgency, intake.imap_password) == (
        "desk@acme.test",
        "low",
        "s3cret-pass",
    )


def test_an_admin_deactivates_and_reactivates_an_address(people, login, intake):
    client = login(people.ada)
    client.post(url("settings-mail-intake-deactivate", intake.pk))
    intake.refresh_from_db()
    assert not intake.is_active
    assert "Deactivated" in page_text(client.get(url("settings-mail")))
    client.post(url("settings-mail-intake-reactivate", intake.pk))
    intake.refresh_from_db()
    assert intake.is_active


def test_the_imap_status_shows_on_the_list(people, login, intake):
    IntakeAddress.objects.filter(pk=intake.pk).update(
        imap_enabled=True,
        imap_host="imap.acme.test",
        imap_username="help",
        imap_last_error="Log-in refused by imap.acme.test:993",
    )
    text = page_text(login(people.ada).get(url("settings-mail")))
    assert "help at imap.acme.test:993" in text
    assert "Not polled yet" in text and "Last error: Log-in refused" in text


def test_an_admin_sets_the_policy_on_the_page(people, login):
    client = login(people.ada)
    refused = client.post(
        url("settings-mail-policy"), {"unknown_senders": "domains", "allowed_domains": ""}
    )
    assert "List at least one domain" in page_text(refused)
    client.post(
        url("settings-mail-policy"),
        {"unknown_senders": "domains", "allowed_domains": "partner.example\nacme.test"},
    )
    policy = MailPolicy.objects.get(tenant=people.acme)
    assert (policy.unknown_senders, policy.allowed_domains) == (
        "domains",
        ["partner.example", "acme.test"],
    )
    assert "partner.example, acme.test" in page_text(client.get(url("settings-mail")))


def test_received_mail_lists_newest_first_filters_and_links_the_incident(
    people, login, ada, intake
):
    done = failed_message(intake, sender="rita@acme.test")
    admin.inbound_retry(actor=ada, inbound=done)
    inbound_process(inbound_id=done.pk)
    done.refresh_from_db()
    failed = failed_message(intake, sender="bob@acme.test")
    client = login(people.ada)
    everything = client.get(url("settings-mail-messages"))
    rows = page_text(everything)
    assert rows.index("bob@acme.test") < rows.index("rita@acme.test")  # newest first
    link = url("desk-incident-detail", done.incident.number)
    assert f'href="{link}"' in everything.content.decode()
    only_failed = page_text(client.get(url("settings-mail-messages") + "?status=failed"))
    assert "bob@acme.test" in only_failed and "rita@acme.test" not in only_failed
    assert "RuntimeError: the desk had a bug" in only_failed
    answer = client.post(
        url("settings-mail-message-retry", failed.pk),
        {"next": url("settings-mail-messages") + "?status=failed"},
    )
    assert answer["Location"].endswith("?status=failed")
    failed.refresh_from_db()
    assert failed.status == InboundStatus.RECEIVED


def test_the_message_is_shown_as_escaped_text_only(people, login, intake):
    raw = mail(
        sender="eve@partner.example",
        to="help@acme.test",
        subject="<b>Hi</b>",
        body='<script>alert("x")</script><img src=x onerror=alert(1)>',
    ).as_bytes()
    row, _ = inbound_store(raw=raw, intake=intake, via="smtp")
    page = login(people.ada).get(url("settings-mail-message-detail", row.pk))
    html = page.content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Hi&lt;/b&gt;" in html


@pytest.mark.parametrize("who", ["alice", "max", "rita"])
def test_other_roles_get_404_on_every_page(people, login, intake, who):
    row = failed_message(intake)
    client = login(getattr(people, who))
    for page in [
        url("settings-mail"),
        url("settings-mail-intake-create"),
        url("settings-mail-intake-edit", intake.pk),
        url("settings-mail-policy"),
        url("settings-mail-messages"),
        url("settings-mail-message-detail", row.pk),
    ]:
        assert client.get(page).status_code == 404, page
    assert client.post(url("settings-mail-message-retry", row.pk)).status_code == 404
    assert client.post(url("settings-mail-intake-deactivate", intake.pk)).status_code == 404
    row.refresh_from_db()
    intake.refresh_from_db()
    assert row.status == InboundStatus.FAILED and intake.is_active


def test_another_tenants_address_and_message_are_404(people, login):
    theirs = IntakeAddress.objects.create(tenant=people.globex, address="help@globex.test")
    row = failed_message(theirs, sender="charlie@globex.test")
    client = login(people.ada)
    assert client.get(url("settings-mail-intake-edit", theirs.pk)).status_code == 404
    assert client.post(url("settings-mail-intake-deactivate", theirs.pk)).status_code == 404
    assert client.get(url("settings-mail-message-detail", row.pk)).status_code == 404
    assert client.post(url("settings-mail-message-retry", row.pk)).status_code == 404
    assert "charlie@globex.test" not in page_text(client.get(url("settings-mail-messages")))
    row.refresh_from_db()
    theirs.refresh_from_db()
    assert row.status == InboundStatus.FAILED and theirs.is_active


def test_the_settings_home_links_email_intake(people, login):
    page = login(people.ada).get(url("settings-home"))
    assert f'href="{url("settings-mail")}"' in page.content.decode()


def test_the_demo_has_one_intake_address_per_tenant_however_often_it_loads(db):
    demo_load()
    demo_load()
    rows = IntakeAddress.objects.order_by("address").values_list("tenant__slug", "address")
    assert list(rows) == [("acme", "help@acme.test"), ("globex", "help@globex.test")]
