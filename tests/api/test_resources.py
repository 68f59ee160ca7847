"""The other resources: transitions list, comments, events, attachments, configuration."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tenancy.models import ApiKey


def _new(api, **extra):
    body = {"title": "VPN drops", "category": "network", **extra}
    return api.post("/api/v1/incidents/", body, format="json").json()


def test_the_whole_lifecycle_through_the_api(api, people):
    number = _new(api)["number"]
    url = f"/api/v1/incidents/{number}"
    assert api.get(f"{url}/transitions/").json()["allowed"] == [
        "escalate",
        "accept",
        "hold",
        "resolve",
        "cancel",
    ]
    steps = [
        ("accept", {"assignee": people.alice.email}, "diagnosing"),
        ("hold", {"hold_reason": "awaiting_vendor", "note": "RMA"}, "on_hold"),
        ("resume", {"note": "Part arrived"}, "diagnosing"),
        (
            "resolve",
            {"resolution_code": "solved-permanently", "resolution_notes": "Swapped"},
            "resolved",
        ),
        ("reopen", {"reason": "Drops again"}, "diagnosing"),
        (
            "resolve",
            {"resolution_code": "solved-workaround", "resolution_notes": "New cable"},
            "resolved",
        ),
        ("close", {"rating": 4, "comment": "Thanks"}, "closed"),
    ]
    for action, body, state in steps:
        response = api.post(f"{url}/{action}/", body, format="json")
        assert response.status_code == 200, (action, response.json())
        assert response.json()["state"] == state
    final = api.get(f"{url}/").json()
    assert final["reopen_count"] == 1 and final["resolution_code"] == "solved-workaround"
    kinds = [e["transition"] for e in api.get(f"{url}/events/").json() if e["transition"]]
    assert kinds == [
        "escalate",
        "accept",
        "hold",
        "resume",
        "resolve",
        "reopen",
        "resolve",
        "close",
    ]


def test_accept_by_a_key_must_name_an_agent_of_the_group(api, people):
    number = _new(api)["number"]
    response = api.post(f"/api/v1/incidents/{number}/accept/", {}, format="json")
    assert response.status_code == 400 and "assignee" in response.json()["errors"]
    response = api.post(
        f"/api/v1/incidents/{number}/accept/", {"assignee": people.max.email}, format="json"
    )
    assert response.status_code == 403


def test_escalate_to_an_unknown_group_is_a_field_error(api, people):
    number = _new(api)["number"]
    response = api.post(f"/api/v1/incidents/{number}/escalate/", {"group": "nope"}, format="json")
    assert response.status_code == 400 and "group" in response.json()["errors"]


def test_cancel_as_duplicate_moves_the_reporter(api, people):
    first = _new(api, reporter={"email": "rita@acme.test"})["number"]
    second = _new(api, reporter={"email": "bob@acme.test"})["number"]
    response = api.post(
        f"/api/v1/incidents/{second}/cancel/", {"duplicate_of": first}, format="json"
    )
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    assert api.get(f"/api/v1/incidents/{first}/").json()["affected_count"] == 2


def test_patch_rederives_priority_and_priority_is_read_only(api, people):
    number = _new(api)["number"]
    response = api.patch(
        f"/api/v1/incidents/{number}/",
        {"impact": "high", "urgency": "high", "reason": "Whole floor", "priority": "low"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["priority"] == "high"
    event = [
        e
        for e in api.get(f"/api/v1/incidents/{number}/events/").json()
        if e["kind"] == "field_changed"
    ][-1]
    assert event["reason"] == "Whole floor"


def test_comments_and_attachments_round_trip(api, people):
    number = _new(api)["number"]
    url = f"/api/v1/incidents/{number}"
    assert api.post(f"{url}/comments/", {"body": "Looking"}, format="json").status_code == 201
    upload = SimpleUploadedFile("trace.txt", b"ping 10.0.0.1 timeout", content_type="text/plain")
    created = api.post(f"{url}/attachments/", {"file": upload})
    assert created.status_code == 201, created.content
    listed = api.get(f"{url}/attachments/").json()
    assert [a["name"] for a in listed] == ["trace.txt"]
    download = api.get(listed[0]["download"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"ping 10.0.0.1 timeout"


def test_configuration_reads(api, people):
    assert [c["slug"] for c in api.get("/api/v1/categories/").json()] == ["network"]
    groups = api.get("/api/v1/groups/").json()
    assert groups[0]["members"] == ["alice@acme.test", "bob@acme.test"]
    codes = {c["slug"] for c in api.get("/api/v1/resolution-codes/").json()}
    assert "solved-permanently" in codes
    matrix = api.get("/api/v1/priority-matrix/").json()
    assert matrix["matrix"]["high"]["low"] == "medium"


def test_the_matrix_is_writable_only_with_the_admin_scope(api, api_for, people):
    itil = {
        "scale": [
            {"slug": s, "label": s.title()}
            for s in ["critical", "high", "moderate", "low", "planning"]
        ],
        "matrix": {
            "high": {"high": "critical", "medium": "high", "low": "moderate"},
            "medium": {"high": "high", "medium": "moderate", "low": "low"},
            "low": {"high": "moderate", "medium": "low", "low": "planning"},
        },
    }
    assert api.put("/api/v1/priority-matrix/", itil, format="json").status_code == 403
    admin = api_for(("read", "write", "admin"))
    response = admin.put("/api/v1/priority-matrix/", itil, format="json")
    assert response.status_code == 200
    assert [lvl["slug"] for lvl in response.json()["scale"]][0] == "critical"
    hole = {**itil, "matrix": {**itil["matrix"], "low": {"high": "moderate"}}}
    refused = admin.put("/api/v1/priority-matrix/", hole, format="json")
    assert refused.status_code == 400 and "hole" in refused.json()["detail"]


# key lookup, last-used update, incidents page (one query with its joins), joined ids subquery
LIST_QUERIES = 4


def test_the_list_runs_a_fixed_number_of_queries(api, people, django_assert_max_num_queries):
    for i in range(3):
        _new(api, title=f"Incident {i}")
    with django_assert_max_num_queries(LIST_QUERIES):
        api.get("/api/v1/incidents/?page_size=3")
    for i in range(30):
        _new(api, title=f"More {i}")
    with django_assert_max_num_queries(LIST_QUERIES):
        assert len(api.get("/api/v1/incidents/?page_size=33").json()["results"]) == 33


def test_the_list_filters_and_pages_with_a_cursor(api, people):
    for i in range(5):
        _new(api, title=f"Disk {i}", impact="high" if i % 2 else "low")
    high = api.get("/api/v1/incidents/?priority=high").json()["results"]
    assert {i["priority"] for i in high} == {"high"} and len(high) == 2
    found = api.get("/api/v1/incidents/?q=disk 3").json()["results"]
    assert [i["title"] for i in found] == ["Disk 3"]
    page = api.get("/api/v1/incidents/?page_size=2").json()
    seen = [i["number"] for i in page["results"]]
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [i["number"] for i in page["results"]]
    assert sorted(seen) == [f"INC-00000{n}" for n in range(1, 6)]


def test_create_api_key_prints_the_key_alone_on_its_last_line(people, capsys):
    call_command("create_api_key", tenant="acme", name="Zabbix", scopes="read,write")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("sdk_") and " " not in last
    key = ApiKey.objects.get(name="Zabbix")
    assert key.hashed_secret not in last and key.scopes == "read,write"


def test_the_text_search_is_the_desks_full_text_search_with_the_apis_numbers(api, people):
    _new(api, title="Printer jams on floor 3", description="The tray keeps jamming.")
    _new(api, title="VPN drops", description="Since the router upgrade.")
    _new(api, title="Mail delayed")

    def titles(q: str) -> list[str]:
        response = api.get("/api/v1/incidents/", {"q": q})
        assert response.status_code == 200, response.content
        return [i["title"] for i in response.json()["results"]]

    assert titles("jamming printer") == ["Printer jams on floor 3"]  # words, any order, stems
    assert titles("rout") == ["VPN drops"]  # a half-typed word, in the description
    assert titles("INC-000003") == ["Mail delayed"]
    # A bare number is our number 3, and also a word of the text.
    assert set(titles("3")) == {"Mail delayed", "Printer jams on floor 3"}
    assert titles("nothing like it") == []
    assert titles("%_*:&|!") == []  # no words and no number: nothing, and no error
