"""Categories, groups and resolution codes as writable resources (admin scope or an admin's
session): create, read one, change, deactivate and reactivate, through the settings' services,
with what the portal and the desk offer following at once."""

import pytest
from rest_framework.test import APIClient

from incidents.models import AssignmentGroup, Category, ResolutionCode
from tests.api.helpers import problem

CATEGORIES = "/api/v1/categories/"
GROUPS = "/api/v1/groups/"
CODES = "/api/v1/resolution-codes/"


def _report(client, **body):
    return client.post("/api/v1/incidents/", {"title": "Printer jams", **body}, format="json")


def _accept_and_resolve(client, number, code):
    url = f"/api/v1/incidents/{number}"
    client.post(f"{url}/accept/", {"assignee": "alice@acme.test"}, format="json")
    body = {"resolution_code": code, "resolution_notes": "Done"}
    return client.post(f"{url}/resolve/", body, format="json")


# --- categories ---------------------------------------------------------------------------


def test_an_admin_key_creates_a_category_the_portal_offers_and_routing_follows(
    admin, people, login
):
    created = admin.post(CATEGORIES, {"name": "Printers", "group": "service-desk"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json() == {
        "slug": "printers",
        "name": "Printers",
        "group": "service-desk",
        "is_active": True,
    }
    assert created["Location"] == "/api/v1/categories/printers/"
    assert admin.get("/api/v1/categories/printers/").json()["name"] == "Printers"
    page = login(people.rita).get("/t/acme/portal/report/")
    assert b">Printers</option>" in page.content
    incident = _report(admin, category="printers").json()
    assert (incident["category"], incident["group"], incident["state"]) == (
        "printers",
        "service-desk",
        "escalated",
    )


def test_deactivating_a_category_takes_it_off_the_portal_but_not_off_its_incidents(
    admin, people, login
):
    number = _report(admin, category="network").json()["number"]
    changed = admin.patch("/api/v1/categories/network/", {"is_active": False}, format="json")
    assert changed.status_code == 200 and changed.json()["is_active"] is False
    assert b">Network</option>" not in login(people.rita).get("/t/acme/portal/report/").content
    assert admin.get(f"/api/v1/incidents/{number}/").json()["category"] == "network"
    refused = problem(_report(admin, category="network"), 400)
    assert "category" in refused["errors"]
    again = admin.patch("/api/v1/categories/network/", {"is_active": True}, format="json")
    assert again.json()["is_active"] is True
    assert b">Network</option>" in login(people.rita).get("/t/acme/portal/report/").content


def test_a_category_is_renamed_given_a_new_slug_and_unrouted(admin, people):
    changed = admin.patch(
        "/api/v1/categories/network/",
        {"name": "Networking", "slug": "net", "group": None},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json() == {"slug": "net", "name": "Networking", "group": None, "is_active": True}
    problem(admin.get("/api/v1/categories/network/"), 404)
    assert _report(admin, category="net").json()["state"] == "reported"  # Unassigned now


def test_a_patch_naming_only_the_name_keeps_the_route(admin, people):
    admin.patch("/api/v1/categories/network/", {"name": "LAN"}, format="json")
    category = Category.objects.get(tenant=people.acme, slug="network")
    assert (category.name, category.group) == ("LAN", people.group)


def test_a_new_route_to_an_inactive_group_is_refused(admin, people):
    admin.patch("/api/v1/groups/service-desk/", {"is_active": False}, format="json")
    refused = problem(
        admin.post(CATEGORIES, {"name": "Phones", "group": "service-desk"}, format="json"), 400
    )
    assert "inactive" in refused["errors"]["group"][0]
    # Keeping the rule a category already has is fine.
    kept = admin.patch("/api/v1/categories/network/", {"name": "Net"}, format="json")
    assert kept.status_code == 200 and kept.json()["group"] == "service-desk"


def test_a_renamed_slug_that_clashes_is_refused(admin, people):
    admin.post(CATEGORIES, {"name": "Phones"}, format="json")
    refused = problem(
        admin.patch("/api/v1/categories/phones/", {"slug": "network"}, format="json"), 400
    )
    assert "slug" in refused["errors"]
    assert Category.objects.get(tenant=people.acme, name="Phones").slug == "phones"


def test_create_inactive_creates_it_inactive(admin, people, login):
    created = admin.post(CATEGORIES, {"name": "Later", "is_active": False}, format="json")
    assert created.status_code == 201 and created.json()["is_active"] is False
    assert b">Later</option>" not in login(people.rita).get("/t/acme/portal/report/").content


# --- bad input ----------------------------------------------------------------------------

MODELS = {CATEGORIES: Category, GROUPS: AssignmentGroup, CODES: ResolutionCode}


@pytest.mark.parametrize(
    ("url", "body", "field", "words"),
    [
        (CATEGORIES, {"name": "Network", "slug": "network"}, "slug", "already uses the slug"),
        (CATEGORIES, {"name": "Phones", "group": "nobody"}, "group", "No group 'nobody' here"),
        (CATEGORIES, {"name": "x" * 101}, "name", "limited to 100 characters"),
        (CATEGORIES, {"name": "  "}, "name", "blank"),
        (CATEGORIES, {"name": "Phones", "slug": "Not a slug!"}, "slug", "lowercase letters"),
        (CATEGORIES, {"slug": "phones"}, "name", "required"),
        (CATEGORIES, {"name": "Phones", "is_active": "perhaps"}, "is_active", "valid boolean"),
        (GROUPS, {"name": "Field", "members": ["rita@acme.test"]}, "members", "not an active"),
        (GROUPS, {"name": "Field", "lead": "rita@acme.test"}, "lead", "not an active agent"),
        (GROUPS, {"name": "Field", "members": ["nobody@acme.test"]}, "members", "not a member"),
        (GROUPS, {"name": "F", "members": ["charlie@globex.test"]}, "members", "not a member"),
        (GROUPS, {"name": "F", "members": ["a@x.test", "b@x.test"]}, "members", "are not"),
        (GROUPS, {"name": "Field", "members": "alice@acme.test"}, "members", "list"),
        (GROUPS, {"name": "Field", "lead": "not-an-email"}, "lead", "valid email"),
        (GROUPS, {"name": "Service Desk"}, "slug", "already uses the slug"),
        (GROUPS, {"name": "y" * 101}, "name", "limited to 100 characters"),
        (CODES, {"label": "Solved", "slug": "solved-permanently"}, "slug", "already uses"),
        (CODES, {"label": "z" * 101}, "label", "limited to 100 characters"),
        (CODES, {"label": ""}, "label", "blank"),
    ],
)
def test_bad_input_is_a_field_error_and_nothing_is_saved(admin, people, url, body, field, words):
    rows = MODELS[url].objects.filter(tenant=people.acme)
    before = rows.count()
    refused = problem(admin.post(url, body, format="json"), 400)
    assert list(refused["errors"]) == [field]
    assert words in refused["errors"][field][0]
    assert rows.count() == before


# --- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize("scopes", [("read",), ("read", "write")])
def test_keys_without_the_admin_scope_get_403_and_change_nothing(api_for, people, scopes):
    client = api_for(scopes)
    for method, url, body in [
        ("post", CATEGORIES, {"name": "Phones"}),
        ("patch", "/api/v1/categories/network/", {"is_active": False}),
        ("post", GROUPS, {"name": "Field"}),
        ("patch", "/api/v1/groups/service-desk/", {"name": "Desk"}),
        ("post", CODES, {"label": "Won't fix"}),
        ("patch", "/api/v1/resolution-codes/solved-permanently/", {"is_active": False}),
    ]:
        body = problem(getattr(client, method)(url, body, format="json"), 403)
        assert "admin scope" in body["detail"]
    assert client.get("/api/v1/categories/network/").status_code == 200  # reading is fine
    category = Category.objects.get(tenant=people.acme, slug="network")
    assert category.is_active and Category.objects.filter(tenant=people.acme).count() == 1
    assert AssignmentGroup.objects.get(tenant=people.acme).name == "Service Desk"


def test_only_an_admins_session_writes(session_for, people):
    for user in (people.alice, people.max, people.rita):
        response = session_for(user).post(CATEGORIES, {"name": "Phones"}, format="json")
        assert problem(response, 403)["detail"].startswith("Only a tenant admin")
    created = session_for(people.ada).post(CATEGORIES, {"name": "Phones"}, format="json")
    assert created.status_code == 201


def test_a_session_must_send_the_csrf_token(session_for, people):
    client = session_for(people.ada, csrf=True)
    problem(client.post(CATEGORIES, {"name": "Phones"}, format="json"), 403)
    assert not Category.objects.filter(slug="phones").exists()


def test_no_key_is_401(people):
    problem(APIClient().post(CATEGORIES, {"name": "Phones"}, format="json"), 401)
    problem(APIClient().get("/api/v1/categories/network/"), 401)


def test_charlie_gets_404_for_acmes_items_and_cannot_route_to_acmes_group(admin, api_for, people):
    admin.post(CODES, {"label": "Acme only"}, format="json")
    charlie = api_for(("read", "write", "admin"), tenant=people.globex)
    for url in (
        "/api/v1/categories/network/",
        "/api/v1/groups/service-desk/",
        "/api/v1/resolution-codes/acme-only/",
    ):
        problem(charlie.get(url), 404)
        problem(charlie.patch(url, {"is_active": False}, format="json"), 404)
    refused = charlie.post(CATEGORIES, {"name": "Net", "group": "service-desk"}, format="json")
    assert "group" in problem(refused, 400)["errors"]
    assert Category.objects.filter(tenant=people.acme, is_active=True).count() == 1
    assert AssignmentGroup.objects.get(tenant=people.acme).is_active
    assert ResolutionCode.objects.get(tenant=people.acme, slug="acme-only").is_active


@pytest.mark.parametrize("url", [CATEGORIES, GROUPS, CODES])
def test_an_unknown_or_malformed_slug_is_404_never_500(admin, people, url):
    for slug in ("nope", "a%00b", "%C3%A9t%C3%A9", "x" * 300):
        problem(admin.get(f"{url}{slug}/"), 404)
        problem(admin.patch(f"{url}{slug}/", {"is_active": False}, format="json"), 404)


def test_nothing_is_deleted(admin, people):
    response = admin.delete("/api/v1/categories/network/")
    problem(response, 405)
    assert Category.objects.filter(tenant=people.acme, slug="network").exists()


def test_an_idempotency_key_replays_the_creation(admin, people):
    def send(body):
        return admin.post(CATEGORIES, body, format="json", HTTP_IDEMPOTENCY_KEY="cat-1")

    first, again = send({"name": "Phones"}), send({"name": "Phones"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert again["Location"] == "/api/v1/categories/phones/"
    assert Category.objects.filter(tenant=people.acme, slug="phones").count() == 1
    problem(send({"name": "Tablets"}), 422)
    assert not Category.objects.filter(slug="tablets").exists()


# --- groups -------------------------------------------------------------------------------


def test_an_admin_creates_a_group_the_desk_can_escalate_to(admin, people, login):
    created = admin.post(
        GROUPS,
        {
            "name": "Field Engineers",
            "description": "On site",
            "lead": "max@acme.test",
            "members": ["bob@acme.test", "ALICE@acme.test"],
            "auto_assign": True,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["slug"], body["lead"], body["auto_assign"], body["is_active"]) == (
        "field-engineers",
        "max@acme.test",
        True,
        True,
    )
    assert sorted(body["members"]) == ["alice@acme.test", "bob@acme.test"]
    assert created["Location"] == "/api/v1/groups/field-engineers/"
    number = _report(admin).json()["number"].removeprefix("INC-").lstrip("0")
    page = login(people.alice).get(f"/t/acme/desk/{number}/")
    assert b">Field Engineers</option>" in page.content
    escalated = admin.post(
        f"/api/v1/incidents/{number}/escalate/", {"group": "field-engineers"}, format="json"
    )
    assert escalated.json()["group"] == "field-engineers"
    # Configured as code: a category routed to the new group, which assigns on its own.
    admin.post(CATEGORIES, {"name": "On site", "group": "field-engineers"}, format="json")
    routed = _report(admin, category="on-site").json()
    assert routed["group"] == "field-engineers"
    assert routed["assignee"] in ("alice@acme.test", "bob@acme.test")


def test_patching_a_group_changes_only_what_it_names(admin, people):
    changed = admin.patch(
        "/api/v1/groups/service-desk/", {"members": ["alice@acme.test"]}, format="json"
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["members"] == ["alice@acme.test"]
    assert changed.json()["name"] == "Service Desk"
    changed = admin.patch("/api/v1/groups/service-desk/", {"lead": "bob@acme.test"}, format="json")
    assert changed.json()["members"] == ["alice@acme.test"] and changed.json()["lead"] == (
        "bob@acme.test"
    )


def test_a_deactivated_group_gets_no_new_incidents_from_its_categories(admin, people, login):
    changed = admin.patch("/api/v1/groups/service-desk/", {"is_active": False}, format="json")
    assert changed.json()["is_active"] is False
    incident = _report(admin, category="network").json()
    assert (incident["state"], incident["group"]) == ("reported", None)
    page = login(people.alice).get(f"/t/acme/desk/{incident['number'][4:].lstrip('0')}/")
    assert b">Service Desk</option>" not in page.content
    assert admin.patch("/api/v1/groups/service-desk/", {"is_active": True}, format="json").json()[
        "is_active"
    ]


def test_a_requester_may_not_read_the_groups(session_for, people):
    problem(session_for(people.rita).get("/api/v1/groups/service-desk/"), 403)
    assert session_for(people.alice).get("/api/v1/groups/service-desk/").status_code == 200


# --- resolution codes ---------------------------------------------------------------------


def test_a_new_resolution_code_is_offered_when_resolving(admin, people, login):
    created = admin.post(CODES, {"label": "Replaced hardware"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json() == {
        "slug": "replaced-hardware",
        "label": "Replaced hardware",
        "is_active": True,
    }
    number = _report(admin, category="network").json()["number"]
    page = login(people.alice).get(f"/t/acme/desk/{number[4:].lstrip('0')}/")
    assert b'value="replaced-hardware">Replaced hardware</option>' in page.content
    resolved = _accept_and_resolve(admin, number, "replaced-hardware")
    assert resolved.json()["resolution_code"] == "replaced-hardware"


def test_a_code_is_relabelled_but_keeps_its_slug(admin, people):
    url = "/api/v1/resolution-codes/solved-permanently/"
    changed = admin.patch(url, {"label": "Fixed for good"}, format="json")
    assert changed.json() == {
        "slug": "solved-permanently",
        "label": "Fixed for good",
        "is_active": True,
    }
    assert admin.patch(url, {"slug": "solved-permanently"}, format="json").status_code == 200
    refused = problem(admin.patch(url, {"slug": "fixed", "label": "Fixed"}, format="json"), 400)
    assert "keeps its slug" in refused["errors"]["slug"][0]
    assert ResolutionCode.objects.get(tenant=people.acme, slug="solved-permanently").label == (
        "Fixed for good"
    )


def test_a_deactivated_code_cannot_resolve_and_the_last_active_one_stays(admin, people):
    url = "/api/v1/resolution-codes/solved-permanently/"
    assert admin.patch(url, {"is_active": False}, format="json").json()["is_active"] is False
    number = _report(admin, category="network").json()["number"]
    refused = _accept_and_resolve(admin, number, "solved-permanently")
    assert "resolution_code" in problem(refused, 400)["errors"]
    active = ResolutionCode.objects.filter(tenant=people.acme, is_active=True)
    *others, last = list(active.values_list("slug", flat=True))
    for slug in others:
        admin.patch(f"{CODES}{slug}/", {"is_active": False}, format="json")
    body = problem(admin.patch(f"{CODES}{last}/", {"is_active": False}, format="json"), 400)
    assert "at least one active resolution code" in body["detail"]
    assert ResolutionCode.objects.get(tenant=people.acme, slug=last).is_active


def test_a_refused_deactivation_keeps_the_label_change_out_too(admin, people):
    codes = ResolutionCode.objects.filter(tenant=people.acme)
    codes.exclude(slug="solved-permanently").update(is_active=False)
    url = "/api/v1/resolution-codes/solved-permanently/"
    problem(admin.patch(url, {"label": "Renamed", "is_active": False}, format="json"), 400)
    assert codes.get(slug="solved-permanently").label != "Renamed"


def test_reading_one_item_costs_a_fixed_number_of_queries(
    admin, people, django_assert_max_num_queries
):
    for name in ("Field", "Lab", "Store"):
        services_group(people, name)
    with django_assert_max_num_queries(8):
        assert admin.get("/api/v1/groups/service-desk/").status_code == 200
    with django_assert_max_num_queries(8):
        assert len(admin.get(GROUPS).json()) == 4


def services_group(people, name):
    from incidents.services import config

    return config.group_create(
        actor=people.actor(people.ada), name=name, members=[people.alice, people.bob]
    )
