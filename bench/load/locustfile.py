"""A working day at the desk, for Locust (bench/load/README.md). Started by bench/load/run.py:

    LOAD_PLAN=plan.json LOAD_SAMPLES=samples.csv locust -f bench/load/locustfile.py --headless ...

Who is on the desk, in the ratio of the User classes' `weight` (20 users = 10 requesters,
6 agents, 1 manager, 2 integrations, 1 monitoring feed), and how often each acts (`wait_time`):

- Requesters (10): most of the desk's people, but each visits rarely: every 5-15 s one of them
  reads their incidents (3 in 4) or reports one through the portal form (1 in 4).
- Agents (6): about one agent per ten to twenty requesters in a real desk, but they work the
  desk all day: every 2-6 s they page a queue (5 in 7) or act on an incident of a queue (2 in
  7): take it (accept) when it is offered, else resolve it (a transition) or add a note.
- Managers (1): a few per desk, opening the dashboard every 10-30 s (3 in 4) or the "breaching
  soon" queue (1 in 4).
- Integrations (2): other ITSM tools and scripts through the REST API, an API key each: every
  1-3 s they report an incident (1 in 2) or move one they reported along its lifecycle (accept
  with an assignee of its group, then resolve).
- Monitoring (1): an alert feed (POST /api/v1/alerts/) every 1-4 s, dedup keys drawn from a
  small pool per tenant, so most triggers add to an open incident instead of opening one.

A quarter of what requesters, integrations and alerts report is high impact and high urgency:
the "high" priority, whose SLA targets the seed made seconds long, so its warnings and breaches
come due during the run (their lateness is measured from the database afterwards).

Requests are named by endpoint class ("portal report", "desk queue", ...), so Locust's stats and
the run's figures are per class. A conflict (409: someone acted on the incident first) is what a
person would see and retry, not an error: it counts as a success and is recorded as a conflict.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import re
import threading
import time
import uuid
from typing import Any

from locust import HttpUser, LoadTestShape, between, events, task

PLAN: dict[str, Any] = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115
STEP_USERS = int(os.environ.get("LOAD_STEP_USERS", "20"))
STEP_SECONDS = float(os.environ.get("LOAD_STEP_SECONDS", "30"))
STEPS = int(os.environ.get("LOAD_STEPS", "8"))
HIGH_SHARE = 0.25
RESOLUTION_CODE = "solved-permanently"
WORDS = ("vpn", "printer", "email", "laptop", "wifi", "badge", "monitor", "server", "backup",
         "disk", "network", "phone")  # fmt: skip

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VERSION = re.compile(r'name="(\w+)-expected_version" value="(\d+)"')

# --- one sample per request, for the run's per-step figures ---------------------------------
_samples_lock = threading.Lock()
_samples_file = open(os.environ["LOAD_SAMPLES"], "w", newline="")  # noqa: SIM115
_samples = csv.writer(_samples_file)
_samples.writerow(["t", "name", "ms", "ok", "users"])
_started = [time.monotonic()]
_environment: list[Any] = []


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    _environment.append(environment)


@events.test_start.add_listener
def _test_start(**_: Any) -> None:
    _started[0] = time.monotonic()


@events.request.add_listener
def _on_request(name: str, response_time: float, exception: Any, **kw: Any) -> None:
    runner = _environment[0].runner if _environment else None
    users = runner.user_count if runner is not None else 0
    record(name, response_time, exception is None, users)


@events.quitting.add_listener
def _quitting(**_: Any) -> None:
    with _samples_lock:
        _samples_file.flush()


def record(name: str, ms: float, ok: bool, users: int = 0) -> None:
    with _samples_lock:
        _samples.writerow([f"{time.monotonic() - _started[0]:.3f}", name, f"{ms:.1f}", int(ok),
                           users])  # fmt: skip


# --- who logs in as whom -------------------------------------------------------------------
_turn = itertools.count()


def _pick(role: str) -> tuple[dict, str]:
    """Round-robin over the tenants and the role's people, so load spreads as in a real desk."""
    n = next(_turn)
    tenant = PLAN["tenants"][n % len(PLAN["tenants"])]
    people = tenant[role]
    return tenant, people[(n // len(PLAN["tenants"])) % len(people)]


def _title() -> str:
    return f"{random.choice(WORDS).capitalize()} does not work since {random.randint(7, 18)}h"


def _levels() -> tuple[str, str]:
    if random.random() < HIGH_SHARE:
        return "high", "high"
    return random.choice(["medium", "low"]), random.choice(["medium", "low", "high"])


class BrowserUser(HttpUser):
    """A person with a browser session made by the real log-in form (CSRF and all)."""

    abstract = True
    role = ""

    def on_start(self) -> None:
        self.tenant, self.email = _pick(self.role)
        self.slug = self.tenant["slug"]
        page = self.client.get("/login/", name="login")
        data = {"username": self.email, "password": PLAN["password"], **self._csrf(page.text)}
        with self.client.post("/login/", data=data, name="login", catch_response=True) as r:
            if "/login/" in r.url:
                r.failure(f"log-in refused for {self.email}")

    def _csrf(self, html: str) -> dict[str, str]:
        found = CSRF.search(html)
        token = found[1] if found else self.client.cookies.get("csrftoken", "")
        return {"csrfmiddlewaretoken": token}

    def post_form(self, url: str, page_html: str, data: dict, name: str) -> None:
        """POST a form of `page_html`; a 409 is a conflict a person would see, not an error."""
        body = {**data, **self._csrf(page_html)}
        with self.client.post(url, data=body, name=name, catch_response=True) as r:
            if r.status_code == 409:
                r.success()
                record(f"conflict: {name}", 0, True)
            elif r.status_code >= 400:
                r.failure(f"{r.status_code} on {name}")


class Requester(BrowserUser):
    weight = 10
    role = "requesters"
    wait_time = between(5, 15)

    @task(1)
    def report(self) -> None:
        base = f"/t/{self.slug}/portal/report/"
        form = self.client.get(base, name="portal report form")
        token = re.search(r'name="form_token" value="([^"]+)"', form.text)
        category = random.choice(self.tenant["categories"])
        impact, urgency = _levels()
        data = {
            "title": _title(),
            "description": "Reported by the load test.",
            "category": str(category["id"]),
            "impact": impact,
            "urgency": urgency,
            "form_token": token[1] if token else str(uuid.uuid4()),
        }
        self.post_form(base, form.text, data, "portal report")

    @task(3)
    def read(self) -> None:
        home = self.client.get(f"/t/{self.slug}/portal/", name="portal list")
        numbers = re.findall(rf"/t/{self.slug}/portal/incidents/(\d+)/", home.text)
        if numbers:
            number = random.choice(numbers)
            self.client.get(f"/t/{self.slug}/portal/incidents/{number}/", name="portal incident")


class Agent(BrowserUser):
    weight = 6
    role = "agents"
    wait_time = between(2, 6)
    QUEUES = ["mine", "unassigned", "open", "breaching", "on_hold"]

    @task(5)
    def page_queue(self) -> None:
        self.client.get(f"/t/{self.slug}/desk/?queue={random.choice(self.QUEUES)}",
                        name="desk queue")  # fmt: skip

    @task(2)
    def act(self) -> None:
        queue = random.choice(["unassigned", "mine"])
        page = self.client.get(f"/t/{self.slug}/desk/?queue={queue}", name="desk queue")
        numbers = re.findall(rf"/t/{self.slug}/desk/(\d+)/", page.text)
        if not numbers:
            return
        number = random.choice(numbers)
        detail = self.client.get(f"/t/{self.slug}/desk/{number}/", name="desk incident")
        offered = dict(VERSION.findall(detail.text))
        url = f"/t/{self.slug}/desk/{number}/do/"
        if "accept" in offered:
            name, data = "accept", {}
        elif "resolve" in offered and random.random() < 0.5:
            name = "resolve"
            data = {"resolution_code": RESOLUTION_CODE, "resolution_notes": "Fixed under load."}
        elif "note" in offered:
            name, data = "note", {"body": "Looked at it during the load test."}
        else:
            return
        fields = {f"{name}-{k}": v for k, v in data.items()}
        fields[f"{name}-expected_version"] = offered[name]
        label = {"accept": "desk take", "resolve": "desk transition", "note": "desk comment"}
        self.post_form(f"{url}{name}/", detail.text, fields, label[name])


class Manager(BrowserUser):
    weight = 1
    role = "managers"
    wait_time = between(10, 30)

    @task(3)
    def dashboard(self) -> None:
        self.client.get(f"/t/{self.slug}/dashboards/", name="dashboard")

    @task(1)
    def breaching(self) -> None:
        self.client.get(f"/t/{self.slug}/desk/?queue=breaching", name="desk queue")


class ApiUser(HttpUser):
    """An integration with the tenant's API key (a bearer token: no session, no CSRF)."""

    abstract = True

    def on_start(self) -> None:
        self.tenant = PLAN["tenants"][next(_turn) % len(PLAN["tenants"])]
        self.client.headers["Authorization"] = f"Bearer {self.tenant['api_key']}"

    def send(self, path: str, body: dict, name: str, ok: tuple[int, ...] = (200, 201)) -> Any:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        with self.client.post(path, json=body, headers=headers, name=name,
                              catch_response=True) as r:  # fmt: skip
            if r.status_code == 409:
                r.success()
                record(f"conflict: {name}", 0, True)
                return None
            if r.status_code not in ok:
                r.failure(f"{r.status_code} on {name}: {r.text[:200]}")
                return None
            return r.json() if r.status_code in (200, 201) else None


class Integration(ApiUser):
    weight = 2
    wait_time = between(1, 3)

    def on_start(self) -> None:
        super().on_start()
        self.mine: list[tuple[str, dict, str]] = []  # (number, category, next step)

    @task(1)
    def create(self) -> None:
        category = random.choice(self.tenant["categories"])
        impact, urgency = _levels()
        body = {
            "title": _title(),
            "description": "Opened by an integration under load.",
            "impact": impact,
            "urgency": urgency,
            "category": category["slug"],
            "reporter": {"email": "ops@load.example", "name": "Ops"},
        }
        made = self.send("/api/v1/incidents/", body, "api create")
        if made:
            self.mine.append((made["number"], category, "accept"))

    @task(1)
    def transition(self) -> None:
        if not self.mine:
            return
        number, category, step = self.mine.pop(0)
        path = f"/api/v1/incidents/{number}/{step}/"
        if step == "accept":
            body = {"assignee": random.choice(category["agents"])}
            if self.send(path, body, "api transition"):
                self.mine.append((number, category, "resolve"))
        else:
            body = {"resolution_code": RESOLUTION_CODE, "resolution_notes": "Fixed by the tool."}
            self.send(path, body, "api transition")

    @task(1)
    def read(self) -> None:
        self.client.get("/api/v1/incidents/?page_size=50", name="api list")


class Monitoring(ApiUser):
    weight = 1
    wait_time = between(1, 4)
    KEYS = [f"host{h}/{check}" for h in range(40) for check in ("disk", "cpu", "ping")]

    @task
    def alert(self) -> None:
        impact, urgency = _levels()
        body = {
            "dedup_key": random.choice(self.KEYS),
            "action": "trigger",
            "summary": "Check failing",
            "details": "From the load test's monitoring feed.",
            "impact": impact,
            "urgency": urgency,
            "category": random.choice(self.tenant["categories"])["slug"],
        }
        self.send("/api/v1/alerts/", body, "alert")


class StepLoad(LoadTestShape):
    """STEP_USERS more users every STEP_SECONDS, STEPS times, then stop: each step's figures
    (rate, p95 per class) are read from the samples by bench/load/run.py."""

    def tick(self) -> tuple[int, float] | None:
        step = int(self.get_run_time() // STEP_SECONDS)
        if step >= STEPS:
            return None
        return (step + 1) * STEP_USERS, max(STEP_USERS / 2, 1.0)
