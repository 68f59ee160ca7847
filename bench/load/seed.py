"""The load test's tenants, made once on the primary before the run: people, API keys, routed
categories and a history of incidents (bench/queue_bench.py's bulk fill, reused), and SLA
targets of seconds on the "high" priority so that the load's urgent incidents warn and breach
while the run lasts. Prints the plan the locustfile reads (JSON) on its last line.

    DATABASE_URL=postgres://... python bench/load/seed.py --tenants 3 --incidents 2000

Run by bench/load/run.py with the topology's environment; not meant to be run by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCH))
os.environ.setdefault("LOG_LEVEL", "WARNING")

import queue_bench  # noqa: E402, F401  (sets Django up on DATABASE_URL)
import seeding  # noqa: E402  (queue_bench's bulk fill)
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402

from escalation.models import SlaPolicy  # noqa: E402
from escalation.services.config import sla_policy_save  # noqa: E402
from escalation.services.defaults import around_the_clock_calendar  # noqa: E402
from incidents.models import Category, GroupMember  # noqa: E402
from tenancy.actors import Actor  # noqa: E402
from tenancy.apikeys import api_key_create  # noqa: E402
from tenancy.models import Membership, Role, Tenant, User  # noqa: E402
from tenancy.services import tenant_create  # noqa: E402

PASSWORD = "load-test-password"  # noqa: S105 (a throwaway cluster's people)
MANAGERS = 3
# Short enough that an incident reported in the first minutes warns and breaches within a run
# of five: the lateness of those alerts is one of the run's figures.
SLA_RESPONSE_SECONDS, SLA_RESOLUTION_SECONDS, SLA_WARN = 30, 90, [50]


def _people(tenant: Tenant) -> dict[str, list[str]]:
    admin = User.objects.create_user(f"admin@{tenant.slug}.bench", full_name="Load Admin")
    Membership.objects.create(tenant=tenant, user=admin, role=Role.ADMIN)
    for m in range(MANAGERS):
        user = User.objects.create_user(f"manager{m}@{tenant.slug}.bench", full_name=f"Mgr {m}")
        Membership.objects.create(tenant=tenant, user=user, role=Role.MANAGER)
    # One hash for all: set in one statement, the log-in form checks it as any other.
    User.objects.filter(email__endswith=f"@{tenant.slug}.bench").update(
        password=make_password(PASSWORD)
    )
    by_role: dict[str, list[str]] = {}
    for email, role in Membership.objects.for_tenant(tenant).values_list("user__email", "role"):
        by_role.setdefault(role, []).append(email)
    return {k: sorted(v) for k, v in by_role.items()}


def _short_sla(tenant: Tenant) -> None:
    """Targets of seconds, around the clock, for the high priority, through the admin's service."""
    admin = Membership.objects.select_related("tenant", "user").get(tenant=tenant, role=Role.ADMIN)
    policy = SlaPolicy.objects.for_tenant(tenant).get(priority__slug="high")
    values = {
        "calendar": around_the_clock_calendar(tenant),
        "response_seconds": SLA_RESPONSE_SECONDS,
        "resolution_seconds": SLA_RESOLUTION_SECONDS,
        "warn_percents": SLA_WARN,
        "pause_on": policy.pause_on,
    }
    sla_policy_save(actor=Actor.member(admin), policy=policy, values=values)


def seed_tenant(slug: str, incidents: int, seed: int) -> dict:
    tenant = tenant_create(slug=slug, name=f"Load {slug}")
    seeding.fill(tenant, incidents, open_share=0.15, events=True, seed=seed)
    seeding.add_clocks(tenant)
    people = _people(tenant)
    _short_sla(tenant)  # after the history's clocks: those keep the targets they were made with
    _, key = api_key_create(tenant=tenant, name="Load integration", scopes=["read", "write"])
    categories = Category.objects.for_tenant(tenant).select_related("group").order_by("id")
    groups: dict[str, list[str]] = {}
    for email, group_slug in GroupMember.objects.for_tenant(tenant).values_list(
        "user__email", "group__slug"
    ):
        groups.setdefault(group_slug, []).append(email)
    return {
        "slug": slug,
        "api_key": key,
        "agents": people.get(Role.AGENT, []),
        "requesters": people.get(Role.REQUESTER, []),
        "managers": people.get(Role.MANAGER, []),
        "categories": [
            {"id": c.pk, "slug": c.slug, "agents": sorted(groups.get(c.group.slug, []))}
            for c in categories
            if c.group is not None
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=3)
    parser.add_argument("--incidents", type=int, default=2000, help="history per tenant")
    args = parser.parse_args()
    plan = {
        "password": PASSWORD,
        "tenants": [
            seed_tenant(f"load-{n}", args.incidents, seed=n + 1) for n in range(args.tenants)
        ],
    }
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as docs/deployment.md asks after a bulk load
    print(json.dumps(plan))


if __name__ == "__main__":
    main()
