"""The demo data of `make run`: tenants acme and globex and their people. Idempotent."""

from __future__ import annotations

from django.db import transaction

from incidents.models import AssignmentGroup, Category, GroupMember
from mail.models import IntakeAddress
from mail.services.admin import intake_address_create
from tenancy.actors import Actor
from tenancy.models import Role, Tenant, User
from tenancy.services import membership_add, tenant_create

DEMO_PASSWORD = "demo-pass-2026"

ACME_PEOPLE = [
    ("requester@acme.test", "Rita Requester", Role.REQUESTER),
    ("agent@acme.test", "Alice Agent", Role.AGENT),
    ("agent2@acme.test", "Bob Agent", Role.AGENT),
    ("lead@acme.test", "Lena Lead", Role.AGENT),
    ("manager@acme.test", "Max Manager", Role.MANAGER),
    ("admin@acme.test", "Ada Admin", Role.ADMIN),
]
ACME_CATEGORIES = [
    ("Network", "network", "service-desk"),
    ("Email", "email", "service-desk"),
    ("Hardware", "hardware", "service-desk"),
    ("Software", "software", "applications"),
    ("Access and accounts", "access", None),
]


def _user(email: str, name: str) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name)
    return user


def _intake(tenant: Tenant, address: str) -> None:
    """Mail to this address (the SMTP intake of `make run`) becomes the tenant's incidents."""
    if not IntakeAddress.objects.for_tenant(tenant).filter(address=address).exists():
        intake_address_create(actor=Actor.system(tenant, "Demo data"), address=address)


def _tenant(slug: str, name: str, time_zone: str) -> Tenant:
    return Tenant.objects.filter(slug=slug).first() or tenant_create(
        slug=slug, name=name, time_zone=time_zone
    )


@transaction.atomic
def demo_load() -> list[str]:
    acme = _tenant("acme", "Acme Corporation", "Europe/London")
    if not acme.signup_domains:
        acme.signup_domains = "acme.test"
        acme.save(update_fields=["signup_domains"])
    users = {}
    for email, name, role in ACME_PEOPLE:
        users[email] = _user(email, name)
        membership_add(tenant=acme, user=users[email], role=role)
    groups = {}
    for slug, name, lead in [
        ("service-desk", "Service Desk", "lead@acme.test"),
        ("applications", "Applications", "lead@acme.test"),
    ]:
        groups[slug], _ = AssignmentGroup.objects.get_or_create(
            tenant=acme, slug=slug, defaults={"name": name, "lead": users[lead]}
        )
    for email in ("agent@acme.test", "agent2@acme.test", "lead@acme.test"):
        GroupMember.objects.get_or_create(
            tenant=acme, group=groups["service-desk"], user=users[email]
        )
    GroupMember.objects.get_or_create(
        tenant=acme, group=groups["applications"], user=users["agent2@acme.test"]
    )
    for name, slug, group in ACME_CATEGORIES:
        Category.objects.get_or_create(
            tenant=acme,
            slug=slug,
            defaults={"name": name, "group": groups.get(group) if group else None},
        )
    globex = _tenant("globex", "Globex Inc.", "America/New_York")
    membership_add(tenant=globex, user=_user("agent@globex.test", "Gus Globex"), role=Role.AGENT)
    Category.objects.get_or_create(tenant=globex, slug="general", defaults={"name": "General"})
    _intake(acme, "help@acme.test")
    _intake(globex, "help@globex.test")
    return [email for email, _, _ in ACME_PEOPLE] + ["agent@globex.test"]
