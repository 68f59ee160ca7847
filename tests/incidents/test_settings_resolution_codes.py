"""Resolution codes: add, rename, deactivate (never delete), on the services and the page."""

import pytest

from incidents import services
from incidents.models import Category, ResolutionCode
from incidents.services import config
from incidents.services.defaults import DEFAULT_RESOLUTION_CODES
from tenancy.errors import InvalidInput, NotAllowed
from tests.incidents.settings_support import input_value, page_text, report, url


def code(people, slug):
    return ResolutionCode.objects.for_tenant(people.acme).get(slug=slug)


def resolved_incident(people, slug="solved-permanently"):
    incident = report(people.actor(people.rita), category=Category.objects.get(slug="network"))
    incident = services.incident_accept(incident=incident, actor=people.actor(people.alice))
    return services.incident_resolve(
        incident=incident,
        actor=people.actor(people.alice),
        resolution_code=slug,
        resolution_notes="Restarted the switch.",
    )


# --- services -----------------------------------------------------------------------------


def test_a_new_tenant_starts_with_the_default_codes(people):
    codes = ResolutionCode.objects.for_tenant(people.acme).filter(is_active=True)
    assert set(codes.values_list("slug", flat=True)) == {s for s, _ in DEFAULT_RESOLUTION_CODES}


def test_an_admin_adds_a_code_and_agents_can_resolve_with_it(people):
    added = config.resolution_code_create(actor=people.actor(people.ada), label="Replaced hardware")
    assert (added.slug, added.tenant) == ("replaced-hardware", people.acme)
    assert resolved_incident(people, "replaced-hardware").resolution_code == added


def test_a_code_slug_already_used_is_a_field_error(people):
    with pytest.raises(InvalidInput) as refusal:
        config.resolution_code_create(actor=people.actor(people.ada), label="Known error")
    assert refusal.value.field == "slug"


def test_renaming_keeps_the_slug(people):
    renamed = config.resolution_code_rename(
        actor=people.actor(people.ada), code=code(people, "user-error"), label="User training"
    )
    assert (renamed.slug, code(people, "user-error").label) == ("user-error", "User training")


def test_a_code_in_use_is_deactivated_never_deleted(people):
    incident = resolved_incident(people)
    used = code(people, "solved-permanently")
    config.resolution_code_deactivate(actor=people.actor(people.ada), code=used)
    incident.refresh_from_db()
    assert incident.resolution_code == used
    assert not code(people, "solved-permanently").is_active
    with pytest.raises(InvalidInput) as refusal:
        resolved_incident(people, "solved-permanently")
    assert refusal.value.field == "resolution_code"


def test_the_last_active_code_cannot_be_deactivated(people):
    ada = people.actor(people.ada)
    *others, last = ResolutionCode.objects.for_tenant(people.acme).order_by("slug")
    for other in others:
        config.resolution_code_deactivate(actor=ada, code=other)
    with pytest.raises(InvalidInput) as refusal:
        config.resolution_code_deactivate(actor=ada, code=last)
    assert "at least one active resolution code" in refusal.value.message
    assert code(people, last.slug).is_active


@pytest.mark.parametrize("who", ["max", "alice"])
def test_only_an_admin_changes_codes(people, who):
    actor = people.actor(getattr(people, who))
    with pytest.raises(NotAllowed):
        config.resolution_code_create(actor=actor, label="Magic")
    with pytest.raises(NotAllowed):
        config.resolution_code_deactivate(actor=actor, code=code(people, "known-error"))
    assert code(people, "known-error").is_active


def test_another_tenants_code_cannot_be_renamed(people):
    theirs = ResolutionCode.objects.for_tenant(people.globex).get(slug="known-error")
    with pytest.raises(InvalidInput):
        config.resolution_code_rename(actor=people.actor(people.ada), code=theirs, label="Ours")
    theirs.refresh_from_db()
    assert theirs.label == "Known error"


# --- pages --------------------------------------------------------------------------------


def test_the_admin_adds_a_code_from_the_list_page(people, login):
    response = login(people.ada).post(
        url("settings-resolution-codes"), {"label": "Replaced hardware", "slug": ""}, follow=True
    )
    assert response.redirect_chain[-1][0] == url("settings-resolution-codes")
    assert code(people, "replaced-hardware").label == "Replaced hardware"
    assert "Replaced hardware replaced-hardware Active" in page_text(response)


def test_a_refused_code_keeps_what_the_admin_typed(people, login):
    response = login(people.ada).post(
        url("settings-resolution-codes"), {"label": "Known problem", "slug": "known-error"}
    )
    assert response.status_code == 200
    assert "Another resolution code already uses the slug “known-error”." in page_text(response)
    assert input_value(response, "label") == "Known problem"
    assert input_value(response, "slug") == "known-error"


def test_a_code_without_a_label_is_refused(people, login):
    response = login(people.ada).post(url("settings-resolution-codes"), {"label": " ", "slug": "x"})
    assert response.status_code == 200
    assert "Label This field is required." in page_text(response)
    assert input_value(response, "slug") == "x"


def test_the_admin_renames_a_code(people, login):
    client = login(people.ada)
    rename = url("settings-resolution-code-rename", code(people, "user-error").pk)
    assert input_value(client.get(rename), "label") == "User error or training"
    response = client.post(rename, {"label": "User training"}, follow=True)
    assert "User training user-error Active" in page_text(response)


def test_an_empty_rename_is_refused_with_the_form_shown_again(people, login):
    rename = url("settings-resolution-code-rename", code(people, "user-error").pk)
    response = login(people.ada).post(rename, {"label": ""})
    assert response.status_code == 200
    assert "This field is required." in page_text(response)
    assert code(people, "user-error").label == "User error or training"


def test_the_admin_deactivates_a_code_in_use_and_reactivates_it(people, login):
    resolved_incident(people)
    used = code(people, "solved-permanently")
    client = login(people.ada)
    response = client.post(url("settings-resolution-code-deactivate", used.pk), follow=True)
    text = page_text(response)
    assert "Solved (permanently) is deactivated" in text
    assert "Solved (permanently) solved-permanently Inactive" in text
    assert ResolutionCode.objects.filter(pk=used.pk).exists()
    client.post(url("settings-resolution-code-reactivate", used.pk))
    assert code(people, "solved-permanently").is_active


def test_deactivating_the_last_code_shows_why_not(people, login):
    ResolutionCode.objects.for_tenant(people.acme).exclude(slug="known-error").update(
        is_active=False
    )
    last = code(people, "known-error")
    response = login(people.ada).post(
        url("settings-resolution-code-deactivate", last.pk), follow=True
    )
    assert "Keep at least one active resolution code" in page_text(response)
    assert code(people, "known-error").is_active


def test_the_code_list_runs_a_fixed_number_of_queries(people, login, django_assert_max_num_queries):
    client = login(people.ada)
    client.get(url("settings-resolution-codes"))
    ResolutionCode.objects.bulk_create(
        ResolutionCode(tenant=people.acme, slug=f"code-{n}", label=f"Code {n:02}")
        for n in range(50)
    )
    with django_assert_max_num_queries(5):
        response = client.get(url("settings-resolution-codes"))
    assert page_text(response).count(" Active Rename ") == 56


def test_a_code_needs_a_label(people):
    with pytest.raises(InvalidInput) as refusal:
        config.resolution_code_create(actor=people.actor(people.ada), label=" ")
    assert (refusal.value.field, refusal.value.message) == (
        "label",
        "Give the resolution code a label.",
    )
