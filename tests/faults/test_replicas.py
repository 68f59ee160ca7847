"""Read replicas against a real streaming replica (docs/replicas.md): the web as the Procfile
starts it (gunicorn) with DATABASE_URL on the session's cluster and DATABASE_REPLICA_URLS on a
standby made from it with pg_basebackup -R. Replay is paused on the standby
(pg_wal_replay_pause) to make it visibly behind: what a page shows then tells which server
answered it.
"""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.error
import urllib.request
import uuid

import pytest

from tests.faults.harness import free_port, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("faults")]


class Client:
    """One caller of the web: a browser (session cookie, and whatever cookies the desk sets) or
    an integration (an API key)."""

    def __init__(self, base: str, session: str = "", key: str = "") -> None:
        self.base = base
        self.key = key
        self.cookies: dict[str, str] = {"sessionid": session} if session else {}

    def request(self, path: str, method: str = "GET", body: dict | None = None, **headers: str):
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
        )
        if self.key:
            request.add_header("Authorization", f"Bearer {self.key}")
        if self.cookies:
            cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            request.add_header("Cookie", cookie)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in headers.items():
            request.add_header(name.replace("_", "-"), value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, answer, text = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, answer, text = exc.code, exc.headers, exc.read()
        for header in answer.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return status, text.decode()

    def open_now(self, slug: str) -> int:
        """The dashboard's "Open now" figure, from its CSV export (the page's own figures)."""
        status, text = self.request(f"/t/{slug}/dashboards/export.csv")
        assert status == 200, text[:2000]
        for row in csv.reader(io.StringIO(text)):
            if row and row[0] == "Open now":
                return int(row[2])
        raise AssertionError(f"no Open now row in the export:\n{text[:2000]}")

    def report_as_browser(self, slug: str, title: str) -> None:
        """An incident reported through the API from the browser's session, as the desk's own
        pages' scripts would (CSRF cookie and header)."""
        self.cookies["csrftoken"] = "r" * 32
        status, text = self.request(
            "/api/v1/incidents/",
            method="POST",
            body={"title": title},
            X_Tenant=slug,
            X_CSRFToken="r" * 32,
        )
        assert status == 201, text

    def incident_titles(self) -> set[str]:
        status, text = self.request("/api/v1/incidents/")
        assert status == 200, text
        return {row["title"] for row in json.loads(text)["results"]}


def _readyz(base: str) -> dict:
    status, text = Client(base).request("/readyz")
    assert status == 200, text
    return json.loads(text)


def _web(celery_procs, replica, **env: str) -> str:
    port = free_port()
    celery_procs.env.update(
        DATABASE_REPLICA_URLS=replica.url(),
        API_RATE_LIMIT_PER_MINUTE="1000000",
        **env,
    )
    celery_procs.web(port)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: Client(base).request("/readyz")[0] == 200, 60, "the web to be ready")
    return base


def _setup(desk, replica) -> tuple[str, dict]:
    slug = f"replica-{uuid.uuid4().hex[:8]}"
    made = desk.driver("replica_setup", "--slug", slug)
    desk.driver("report", "--slug", slug, "--count", "2", "--title", "Before")
    _caught_up(replica, slug, 2)
    return slug, made


def _caught_up(replica, slug: str, incidents: int) -> None:
    def replayed() -> bool:
        rows = replica.query(
            "SELECT count(*) FROM incidents_incident i JOIN tenancy_tenant t "
            "ON t.id = i.tenant_id WHERE t.slug = %s",
            (slug,),
        )
        return rows[0][0] == incidents

    wait_for(replayed, 30, f"the standby to hold {incidents} incidents of {slug}")


def _pause(replica) -> None:
    replica.query("SELECT pg_wal_replay_pause()", (), "postgres")
    wait_for(
        lambda: (
            replica.query("SELECT pg_get_wal_replay_pause_state()", (), "postgres")[0][0]
            == "paused"
        ),
        10,
        "replay to pause",
    )


def test_the_dashboard_reads_the_replica_and_its_author_reads_own_writes(
    desk, replica, celery_procs
):
    slug, made = _setup(desk, replica)
    # A bound far above the pause: the paused standby stays in use.
    base = _web(celery_procs, replica, REPLICA_MAX_LAG_SECONDS="3600", REPLICA_PIN_SECONDS="30")
    manager = Client(base, session=made["session"])
    assert manager.open_now(slug) == 2
    assert _readyz(base)["replicas"]["replica1"].startswith("ok:")
    other_slug = f"other-{uuid.uuid4().hex[:8]}"
    desk.driver("replica_setup", "--slug", other_slug)
    desk.driver("report", "--slug", other_slug, "--count", "1", "--title", "Theirs")
    _caught_up(replica, other_slug, 1)

    _pause(replica)
    desk.driver("report", "--slug", slug, "--count", "3", "--title", "Elsewhere")
    # Someone else's reports are on the primary; the manager's dashboard reads the replica.
    assert manager.open_now(slug) == 2
    # The tenant wall holds on the replica's connections (the role set per statement).
    wall = desk.driver("replica_wall", "--slug", slug, env=celery_procs.env)
    assert wall["scoped"] == wall["own"] == 2 and wall["others"] == 0
    assert wall["everyone"] > wall["own"], "the other tenant's incident is on the standby"

    # Integrations: a key that writes reads its own write at once; another key reads the
    # replica, which has not replayed it.
    writer, other = Client(base, key=made["keys"][0]), Client(base, key=made["keys"][1])
    status, text = writer.request("/api/v1/incidents/", method="POST", body={"title": "Mine"})
    assert status == 201, text
    assert "Mine" in writer.incident_titles()
    assert "Mine" not in other.incident_titles()
    assert "Elsewhere 0" not in other.incident_titles()

    # The manager writes from the browser: pinned to the primary, their dashboard shows
    # everything, their own report and the others' included; without the pin it would not.
    manager.report_as_browser(slug, "From the browser")
    assert "desk_primary_until" in manager.cookies
    assert manager.open_now(slug) == 2 + 3 + 1 + 1
    unpinned = Client(base, session=made["session"])
    assert unpinned.open_now(slug) == 2

    replica.query("SELECT pg_wal_replay_resume()", (), "postgres")
    _caught_up(replica, slug, 7)
    assert unpinned.open_now(slug) == 7
    assert "Elsewhere 0" in other.incident_titles()


def test_a_replica_past_the_lag_bound_is_skipped(desk, replica, celery_procs):
    slug, made = _setup(desk, replica)
    base = _web(celery_procs, replica, REPLICA_MAX_LAG_SECONDS="2")
    manager = Client(base, session=made["session"])
    assert manager.open_now(slug) == 2

    _pause(replica)
    desk.driver("report", "--slug", slug, "--count", "3", "--title", "Elsewhere")
    # The standby has WAL it has not replayed: its lag is the time since its last replay.
    wait_for(lambda: (replica.replay_lag_seconds() or 0) > 4, 30, "the standby to fall behind")
    time.sleep(2)  # past the health answer each web process keeps (1.5 s)
    ready = _readyz(base)
    assert ready["status"] == "ok" and ready["replicas"]["replica1"].startswith("lagging:"), ready
    assert manager.open_now(slug) == 5, "a replica past the bound must not be read"


def test_a_stopped_replica_falls_back_to_the_primary_without_an_error_page(
    desk, replica, celery_procs
):
    slug, made = _setup(desk, replica)
    base = _web(celery_procs, replica, REPLICA_MAX_LAG_SECONDS="3600")
    manager, integration = Client(base, session=made["session"]), Client(base, key=made["keys"][0])
    assert manager.open_now(slug) == 2  # the web's kept connection to the standby is open now
    _pause(replica)
    desk.driver("report", "--slug", slug, "--count", "3", "--title", "Elsewhere")
    assert manager.open_now(slug) == 2

    replica.stop("immediate")
    # The kept connection dies mid-request: the view is run again on the primary.
    status, page = manager.request(f"/t/{slug}/dashboards/")
    assert status == 200, page[:2000]
    assert "Open now" in page
    assert manager.open_now(slug) == 5
    titles = integration.incident_titles()
    assert {"Elsewhere 0", "Elsewhere 1", "Elsewhere 2"} <= titles
    ready = _readyz(base)
    assert ready["status"] == "ok", ready
    assert ready["replicas"]["replica1"].startswith("down:"), ready
