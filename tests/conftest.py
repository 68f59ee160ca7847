"""Shared fixtures: tenant acme with alice and bob (agents, one group), rita (requester),
max (manager), ada (admin); tenant globex with charlie, who must get 404 everywhere in acme."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.conf import settings

from incidents.models import AssignmentGroup, Category
from tenancy import rls
from tenancy.actors import Actor
from tenancy.models import AuditRecord, Membership, Role, Tenant, User
from tests.factories import (
    PASSWORD,
    CategoryFactory,
    GroupFactory,
    UserFactory,
    add_to_group,
    make_tenant,
)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop beside the ORM
# Factories and fixtures write every tenant's rows; requests and tasks set their own scope.
os.environ.setdefault("DESK_RLS_DEFAULT", "bypass:tests")

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


def pytest_collection_modifyitems(config, items):
    if settings.IS_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under REQUIRE_POSTGRES=1 (CI) a skipped test is a failure: nothing may go untested."""
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_POSTGRES and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under REQUIRE_POSTGRES=1: {report.longrepr}"


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # The tests' webhook receivers run on this machine; test_webhook_addresses turns it off.
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    settings.MAIL_IMAP_ALLOW_PRIVATE_ADDRESSES = True  # the tests' Dovecot listens here
    from servicedesk.celery import app

    app.conf.task_always_eager = True
    # Each test starts in the tests' own bypass of the tenant wall, whatever a view called
    # without its middleware left behind (tenancy/rls.py).
    wall = rls._current.set(None)
    yield
    rls._current.reset(wall)
    app.conf.task_always_eager = False


@dataclass
class People:
    acme: Tenant
    globex: Tenant
    alice: User
    bob: User
    rita: User
    max: User
    ada: User
    charlie: User
    group: AssignmentGroup
    network: Category

    def actor(self, user: User, tenant: Tenant | None = None) -> Actor:
        membership = Membership.objects.select_related("tenant", "user").get(
            user=user, tenant=tenant or self.acme
        )
        return Actor.member(membership)


def _member(tenant: Tenant, email: str, name: str, role: str) -> User:
    user = UserFactory.create(email=email, full_name=name)
    Membership.objects.create(tenant=tenant, user=user, role=role)
    return user


@pytest.fixture
def people(db) -> People:
    acme = make_tenant("acme", "Acme Corporation")
    globex = make_tenant("globex", "Globex Inc.")
    alice = _member(acme, "alice@acme.test", "Alice Agent", Role.AGENT)
    bob = _member(acme, "bob@acme.test", "Bob Agent", Role.AGENT)
    rita = _member(acme, "rita@acme.test", "Rita Requester", Role.REQUESTER)
    max_ = _member(acme, "max@acme.test", "Max Manager", Role.MANAGER)
    ada = _member(acme, "ada@acme.test", "Ada Admin", Role.ADMIN)
    charlie = _member(globex, "charlie@globex.test", "Charlie Other", Role.AGENT)
    group = GroupFactory.create(tenant=acme, name="Service Desk", slug="service-desk")
    add_to_group(group, alice, bob)
    network = CategoryFactory.create(tenant=acme, name="Network", slug="network", group=group)
    return People(acme, globex, alice, bob, rita, max_, ada, charlie, group, network)


@pytest.fixture
def login(client):
    def _login(user: User):
        assert client.login(email=user.email, password=PASSWORD)
        return client

    return _login


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def audit(people):
    """The records written since the test began, oldest first (acme's, or a tenant's)."""
    start = AuditRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def new(tenant=None):
        rows = AuditRecord.objects.filter(id__gt=start, tenant=tenant or people.acme)
        return list(rows.order_by("id"))

    return new
