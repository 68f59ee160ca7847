"""The priority scale and matrix: matrix_set's rules and the admin's page."""

import re

import pytest

from incidents import services
from incidents.models import Category, EventKind, Incident, IncidentEvent, PriorityLevel
from incidents.services.defaults import DEFAULT_MATRIX, ITIL_MATRIX, ITIL_SCALE
from incidents.services.priority import matrix_changes_count, matrix_set
from incidents.settings.forms import preset_data, proposal_token
from tenancy.errors import InvalidInput, NotAllowed
from tests.incidents.settings_support import cells_of, input_value, page_text, report, url

LEVELS = ["high", "medium", "low"]
ITIL = [(slug, label) for slug, label, _ in ITIL_SCALE]
DEFAULT = [("high", "High"), ("medium", "Medium"), ("low", "Low")]


def plain(matrix):
    return {str(i): {str(u): s for u, s in row.items()} for i, row in matrix.items()}


def scale_of(tenant):
    levels = PriorityLevel.objects.for_tenant(tenant).filter(is_active=True).order_by("rank")
    return [(lvl.slug, lvl.label, lvl.rank) for lvl in levels]


@pytest.fixture
def open_incidents(people):
    """Four open incidents, one per corner and the middle, and a closed one."""
    rita = people.actor(people.rita)
    made = {
        (i, u): report(rita, title=f"{i} x {u}", impact=i, urgency=u)
        for i, u in [("high", "high"), ("high", "low"), ("medium", "medium"), ("low", "low")]
    }
    done = report(rita, title="Old one", impact="medium", urgency="medium")
    done = services.incident_cancel(
        incident=done, actor=people.actor(people.alice), reason="Duplicate"
    )
    return made, done


# --- matrix_set ---------------------------------------------------------------------------


def test_matrix_set_refuses_a_hole_with_the_cell_named(people):
    holed = plain(DEFAULT_MATRIX)
    holed["low"]["medium"] = ""
    with pytest.raises(InvalidInput) as refusal:
        matrix_set(actor=people.actor(people.ada), scale=DEFAULT, matrix=holed)
    assert refusal.value.message == (
        "The matrix has a hole: choose a priority for low impact x medium urgency."
    )
    assert cells_of(people.acme) == plain(DEFAULT_MATRIX)


def test_matrix_set_refuses_six_levels(people):
    six = [*ITIL, ("someday", "Someday")]
    with pytest.raises(InvalidInput) as refusal:
        matrix_set(actor=people.actor(people.ada), scale=six, matrix=plain(ITIL_MATRIX))
    assert refusal.value.message == "A priority scale has one to 5 levels (this one has 6)."
    assert [s for s, _, _ in scale_of(people.acme)] == LEVELS


@pytest.mark.parametrize(
    ("scale", "message"),
    [
        ([], "A priority scale has one to 5 levels (this one has 0)."),
        ([("high", "High"), ("high", "Higher"), ("low", "Low")], "high is used twice"),
        ([("Very High", "Very high"), ("low", "Low")], "'very high'"),
        ([("high", ""), ("low", "Low")], "needs a slug and a label"),
        ([("high", "H" * 65), ("low", "Low")], "up to 64 characters"),
    ],
)
def test_matrix_set_refuses_a_bad_scale(people, scale, message):
    scale = [(s.lower(), label) for s, label in scale]
    matrix = {i: {u: scale[0][0] if scale else "high" for u in LEVELS} for i in LEVELS}
    with pytest.raises(InvalidInput) as refusal:
        matrix_set(actor=people.actor(people.ada), scale=scale, matrix=matrix)
    assert message in refusal.value.message


def test_matrix_set_refuses_a_level_not_on_the_scale(people):
    matrix = plain(DEFAULT_MATRIX)
    matrix["high"]["high"] = "critical"
    with pytest.raises(InvalidInput) as refusal:
        matrix_set(actor=people.actor(people.ada), scale=DEFAULT, matrix=matrix)
    assert refusal.value.message == "The matrix names levels not on the scale: critical."


@pytest.mark.parametrize("who", ["max", "alice", "rita"])
def test_only_an_admin_sets_the_matrix(people, who):
    with pytest.raises(NotAllowed):
        matrix_set(actor=people.actor(getattr(people, who)), scale=ITIL, matrix=plain(ITIL_MATRIX))
    assert cells_of(people.acme) == plain(DEFAULT_MATRIX)


def test_the_itil_scale_re_derives_open_incidents_with_one_event_each(people, open_incidents):
    made, done = open_incidents
    before = {key: inc.version for key, inc in made.items()}
    assert matrix_changes_count(tenant=people.acme, scale=ITIL, matrix=plain(ITIL_MATRIX)) == 4
    changed = matrix_set(actor=people.actor(people.ada), scale=ITIL, matrix=plain(ITIL_MATRIX))
    assert changed == 4
    for (i, u), incident in made.items():
        incident.refresh_from_db()
        assert (incident.priority.slug, incident.priority_rank) == (
            ITIL_MATRIX[i][u],
            dict((s, r) for s, _, r in ITIL_SCALE)[ITIL_MATRIX[i][u]],
        )
        assert incident.version == before[(i, u)] + 1
        # The latest change of fields (the SLA re-target after it is its own internal event).
        event = IncidentEvent.objects.filter(incident=incident).exclude(kind="sla").latest("id")
        assert event.kind == EventKind.FIELD_CHANGED
        assert event.actor_name == "Ada Admin" and event.actor_user == people.ada
        assert event.incident_version == incident.version
        assert event.reason == "The tenant's priority matrix changed."
    high_low = (
        IncidentEvent.objects.filter(incident=made["high", "low"]).exclude(kind="sla").latest("id")
    )
    assert high_low.data == {
        "changes": {"priority": ["medium", "moderate"], "priority_rank": [2, 3]}
    }
    version = done.version
    done.refresh_from_db()
    # A cancelled incident is history: it keeps the level it had, now off the scale.
    assert (done.priority.slug, done.priority.is_active, done.version) == ("medium", False, version)


def test_a_stale_page_of_a_re_derived_incident_is_refused(people, open_incidents):
    made, _ = open_incidents
    incident = made["medium", "medium"]
    seen = incident.version
    matrix_set(actor=people.actor(people.ada), scale=ITIL, matrix=plain(ITIL_MATRIX))
    from incidents.errors import StaleIncident

    # A change of the priority clashes with it, in words; a change of the title does not.
    with pytest.raises(StaleIncident, match="Ada Admin changed the priority to Moderate"):
        services.incident_update(
            incident=incident,
            actor=people.actor(people.alice),
            expected_version=seen,
            urgency="high",
            reason="More users",
        )
    services.incident_update(
        incident=incident, actor=people.actor(people.alice), expected_version=seen, title="x"
    )
    assert Incident.objects.get(pk=incident.pk).title == "x"


def test_reordering_the_scale_re_ranks_open_incidents(people, open_incidents):
    made, _ = open_incidents
    flipped = [("low", "Low"), ("medium", "Medium"), ("high", "High")]
    assert (
        matrix_changes_count(tenant=people.acme, scale=flipped, matrix=plain(DEFAULT_MATRIX)) == 2
    )
    assert (
        matrix_set(actor=people.actor(people.ada), scale=flipped, matrix=plain(DEFAULT_MATRIX)) == 2
    )
    incident = Incident.objects.get(pk=made["high", "high"].pk)
    assert (incident.priority.slug, incident.priority_rank) == ("high", 3)
    incident = Incident.objects.get(pk=made["low", "low"].pk)
    assert (incident.priority.slug, incident.priority_rank) == ("low", 1)
    unchanged = Incident.objects.get(pk=made["medium", "medium"].pk)
    assert unchanged.version == made["medium", "medium"].version


def test_relabelling_a_level_changes_no_incident(people, open_incidents):
    relabelled = [("high", "Urgent"), ("medium", "Medium"), ("low", "Low")]
    assert (
        matrix_set(actor=people.actor(people.ada), scale=relabelled, matrix=plain(DEFAULT_MATRIX))
        == 0
    )
    assert scale_of(people.acme)[0] == ("high", "Urgent", 1)


def test_the_same_preset_twice_keeps_the_levels(people):
    ada = people.actor(people.ada)
    matrix_set(actor=ada, scale=ITIL, matrix=plain(ITIL_MATRIX))
    ids = set(PriorityLevel.objects.for_tenant(people.acme).values_list("id", flat=True))
    matrix_set(actor=ada, scale=DEFAULT, matrix=plain(DEFAULT_MATRIX))
    matrix_set(actor=ada, scale=ITIL, matrix=plain(ITIL_MATRIX))
    assert set(PriorityLevel.objects.for_tenant(people.acme).values_list("id", flat=True)) == ids
    assert [s for s, _, _ in scale_of(people.acme)] == [s for s, _ in ITIL]


def test_another_tenant_keeps_its_matrix(people):
    matrix_set(actor=people.actor(people.ada), scale=ITIL, matrix=plain(ITIL_MATRIX))
    assert cells_of(people.globex) == plain(DEFAULT_MATRIX)


# --- the page -----------------------------------------------------------------------------


def grid(response):
    """The current-matrix table as {impact: [label per urgency high, medium, low]}."""
    html = response.content.decode()
    table = re.search(r'<table class="matrix-grid".*?</table>', html, re.S).group(0)
    rows = re.findall(r'<th scope="row">(\w+) impact</th>(.*?)</tr>', table, re.S)
    return {i.lower(): re.findall(r"<td[^>]*>([^<]*)</td>", cells) for i, cells in rows}


def test_the_page_shows_the_matrix_in_use_as_a_grid(people, login):
    response = login(people.ada).get(url("settings-matrix"))
    assert grid(response) == {
        "high": ["High", "High", "Medium"],
        "medium": ["High", "Medium", "Low"],
        "low": ["Medium", "Low", "Low"],
    }
    assert input_value(response, "level-1-slug") == "high"
    assert input_value(response, "level-4-slug") == ""
    assert input_value(response, "cell-low-high") == "medium"


def test_the_itil_preset_applies_at_once_when_no_open_incident_changes(people, login):
    response = login(people.ada).post(url("settings-matrix"), {"preset": "itil"}, follow=True)
    assert response.redirect_chain[-1][0] == url("settings-matrix")
    assert "No open incident changed priority." in page_text(response)
    assert cells_of(people.acme) == plain(ITIL_MATRIX)
    assert scale_of(people.acme) == ITIL_SCALE
    assert grid(response) == {
        "high": ["Critical", "High", "Moderate"],
        "medium": ["High", "Moderate", "Low"],
        "low": ["Moderate", "Low", "Planning"],
    }


@pytest.mark.parametrize("impact", LEVELS)
@pytest.mark.parametrize("urgency", LEVELS)
def test_after_the_itil_preset_every_cell_derives_its_itil_priority(people, login, impact, urgency):
    login(people.ada).post(url("settings-matrix"), {"preset": "itil"})
    incident = report(people.actor(people.rita), impact=impact, urgency=urgency)
    assert incident.priority.slug == ITIL_MATRIX[impact][urgency]
    assert incident.priority_rank == [s for s, _ in ITIL].index(ITIL_MATRIX[impact][urgency]) + 1


def test_a_preset_that_moves_open_incidents_asks_to_confirm_first(people, login, open_incidents):
    client = login(people.ada)
    response = client.post(url("settings-matrix"), {"preset": "itil"})
    assert response.status_code == 200
    assert "Saving this changes the priority of 4 open incidents." in page_text(response)
    assert cells_of(people.acme) == plain(DEFAULT_MATRIX)  # nothing saved yet
    assert input_value(response, "level-1-slug") == "critical"  # the proposal is shown
    assert input_value(response, "cell-low-low") == "planning"
    token = re.search(r'name="confirm" value="(\w+)"', response.content.decode()).group(1)
    confirmed = client.post(url("settings-matrix"), {**preset_data("itil"), "confirm": token})
    assert confirmed.status_code == 302
    assert cells_of(people.acme) == plain(ITIL_MATRIX)
    made, _ = open_incidents
    for (i, u), incident in made.items():
        incident.refresh_from_db()
        assert incident.priority.slug == ITIL_MATRIX[i][u]
        assert IncidentEvent.objects.filter(
            incident=incident, kind=EventKind.FIELD_CHANGED, actor_user=people.ada
        ).exists()
    text = page_text(client.get(url("settings-matrix")))
    assert "4 open incidents changed priority; each change is on its timeline." in text


def test_a_confirmation_of_another_proposal_is_asked_again(people, login, open_incidents):
    client = login(people.ada)
    stale = proposal_token(ITIL, plain(ITIL_MATRIX))
    data = preset_data("itil")
    data["cell-high-high"] = "high"  # edited after the confirmation was shown
    response = client.post(url("settings-matrix"), {**data, "confirm": stale})
    assert response.status_code == 200
    assert "Saving this changes the priority of 4 open incidents." in page_text(response)
    assert input_value(response, "cell-high-high") == "high"
    assert cells_of(people.acme) == plain(DEFAULT_MATRIX)


def test_a_hole_is_refused_and_everything_typed_is_kept(people, login):
    data = preset_data("itil")
    data["level-5-label"] = "Some day"
    data["cell-low-medium"] = ""
    response = login(people.ada).post(url("settings-matrix"), data)
    assert response.status_code == 200
    assert "The matrix has a hole: choose a priority for low impact x medium urgency." in page_text(
        response
    )
    assert input_value(response, "level-5-label") == "Some day"
    assert input_value(response, "cell-low-medium") == ""
    assert input_value(response, "cell-low-low") == "planning"
    assert re.search(
        r'<select name="cell-low-medium"[^>]*aria-invalid="true"', response.content.decode()
    )
    assert cells_of(people.acme) == plain(DEFAULT_MATRIX)


def test_six_levels_are_refused_and_the_sixth_row_is_kept(people, login):
    data = {**preset_data("itil"), "level-6-slug": "someday", "level-6-label": "Someday"}
    response = login(people.ada).post(url("settings-matrix"), data)
    assert response.status_code == 200
    assert "A priority scale has one to 5 levels (this one has 6)." in page_text(response)
    assert input_value(response, "level-6-slug") == "someday"
    assert [s for s, _, _ in scale_of(people.acme)] == LEVELS


def test_a_cell_naming_a_removed_level_is_refused_and_kept(people, login):
    data = preset_data("default")
    data["level-3-slug"], data["level-3-label"] = "", ""  # drop "low" but cells still name it
    response = login(people.ada).post(url("settings-matrix"), data)
    assert "The matrix names levels not on the scale: low." in page_text(response)
    assert input_value(response, "cell-low-low") == "low"
    assert "low (not on the scale)" in page_text(response)


def test_updating_the_choices_offers_new_levels_without_saving(people, login):
    data = {**preset_data("default"), "level-4-slug": "Planning", "level-4-label": "Planning"}
    response = login(people.ada).post(url("settings-matrix"), {**data, "refresh": "1"})
    assert response.status_code == 200
    assert '<option value="planning">Planning</option>' in response.content.decode()
    assert [s for s, _, _ in scale_of(people.acme)] == LEVELS


def test_renaming_a_label_saves_without_a_confirmation(people, login, open_incidents):
    data = {**preset_data("default"), "level-1-label": "Urgent"}
    response = login(people.ada).post(url("settings-matrix"), data, follow=True)
    assert "No open incident changed priority." in page_text(response)
    assert scale_of(people.acme)[0] == ("high", "Urgent", 1)
    assert grid(response)["high"] == ["Urgent", "Urgent", "Medium"]


def test_saving_the_matrix_in_use_says_nothing_changed(people, login):
    response = login(people.ada).post(url("settings-matrix"), preset_data("default"), follow=True)
    assert "Nothing to save: this is the scale and matrix in use." in page_text(response)


def test_the_default_preset_brings_back_the_three_levels(people, login, open_incidents):
    ada = people.actor(people.ada)
    matrix_set(actor=ada, scale=ITIL, matrix=plain(ITIL_MATRIX))
    client = login(people.ada)
    response = client.post(url("settings-matrix"), {"preset": "default"})
    assert "Saving this changes the priority of 4 open incidents." in page_text(response)
    token = re.search(r'name="confirm" value="(\w+)"', response.content.decode()).group(1)
    client.post(url("settings-matrix"), {**preset_data("default"), "confirm": token})
    assert cells_of(people.acme) == plain(DEFAULT_MATRIX)
    assert [s for s, _, _ in scale_of(people.acme)] == LEVELS
    made, _ = open_incidents
    assert Incident.objects.get(pk=made["high", "high"].pk).priority.slug == "high"


def test_the_matrix_page_runs_a_fixed_number_of_queries(
    people, login, open_incidents, django_assert_max_num_queries
):
    client = login(people.ada)
    client.get(url("settings-matrix"))
    with django_assert_max_num_queries(8):
        client.get(url("settings-matrix"))
    for n in range(30):
        report(people.actor(people.rita), title=f"More {n}", impact="high", urgency="high")
    with django_assert_max_num_queries(9):
        response = client.post(url("settings-matrix"), {"preset": "itil"})
    assert "Saving this changes the priority of 34 open incidents." in page_text(response)
    network = Category.objects.get(pk=people.network.pk)
    assert network.group == people.group
