"""Every field that can hold a person is covered by a registered eraser, so an app that adds one
cannot forget to export and erase it (tenancy/personal_data.py)."""

from __future__ import annotations

from django.apps import apps

from tenancy import personal_data


def test_every_field_that_can_hold_a_person_is_covered_by_a_registered_eraser():
    assert personal_data.uncovered() == set()


def test_the_walk_finds_links_to_people_addresses_and_names():
    found = personal_data.personal_fields()
    assert {
        "incidents.Incident.reporter",
        "incidents.Incident.contact_email",
        "incidents.Comment.author_name",
        "incidents.IncidentContact.name",
        "mail.InboundMail.sender",
        "knowledge.ArticleVote.user",
    } <= found
    assert "incidents.Category.name" not in found


def test_an_app_that_registered_nothing_is_caught(monkeypatch):
    holders = {k: v for k, v in personal_data.HOLDERS.items() if k != "knowledge"}
    monkeypatch.setattr(personal_data, "HOLDERS", holders)
    assert "knowledge.ArticleVote.user" in personal_data.uncovered()


def test_every_covered_or_kept_field_exists():
    for holder in personal_data.HOLDERS.values():
        for label in holder.covers | set(holder.kept):
            app_label, model_name, field = label.split(".")
            apps.get_model(app_label, model_name)._meta.get_field(field)


def test_every_app_holding_people_registered_a_holder():
    assert set(personal_data.HOLDERS) >= {
        "tenancy",
        "incidents",
        "mail",
        "escalation",
        "problems",
        "knowledge",
        "reviews",
        "portal",
        "desk",
        "dashboards",
        "imports",
    }
