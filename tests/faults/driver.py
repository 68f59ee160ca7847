"""The desk's own code, run as a separate process against the throwaway cluster, the way the web
process would: `python -m tests.faults.driver <command> ...` with DATABASE_URL and REDIS_URL set.
Each command prints one JSON line. New commands (the SLA sweep tests' clocks, say) go here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")


def setup(args: argparse.Namespace) -> dict:
    """A tenant with an admin and one webhook endpoint subscribed to `--events` (default:
    every event)."""
    from escalation.services.webhooks import EVENT_TYPES, webhook_endpoint_create
    from tenancy.actors import Actor
    from tenancy.models import Membership, Role, User
    from tenancy.services import tenant_create

    tenant = tenant_create(slug=args.slug, name=f"Faults {args.slug}")
    user = User.objects.create_user(f"admin@{args.slug}.test", full_name="Fault Admin")
    membership = Membership.objects.create(tenant=tenant, user=user, role=Role.ADMIN)
    endpoint = webhook_endpoint_create(
        actor=Actor.member(membership), url=args.url, events=args.events or list(EVENT_TYPES)
    )
    return {"tenant": tenant.pk, "endpoint": endpoint.pk, "secret": endpoint.secret}


def _admin(slug: str):
    from tenancy.actors import Actor
    from tenancy.models import Membership, Role

    membership = Membership.objects.select_related("tenant", "user").get(
        tenant__slug=slug, role=Role.ADMIN
    )
    return Actor.member(membership)


def report(args: argparse.Namespace) -> dict:
    """Report incidents one by one, each in its own transaction, as the portal would; in a
    `--category` they are routed (escalated) to its group. `--threads` N report side by side,
    as N web workers would in a burst."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    from incidents.models import Category
    from incidents.services import incident_report

    actor = _admin(args.slug)
    category = None
    if args.category:
        category = Category.objects.for_tenant(actor.tenant).get(slug=args.category)

    def one(n: int):
        return incident_report(
            actor=actor, title=f"{args.title} {n}", impact="high", category=category
        )

    def share(numbers: range) -> list:
        try:
            return [one(n) for n in numbers]
        finally:
            connection.close()  # each thread's own connection

    if args.threads <= 1:
        incidents = [one(n) for n in range(args.count)]
    else:
        parts = [range(k, args.count, args.threads) for k in range(args.threads)]
        with ThreadPoolExecutor(args.threads) as pool:
            incidents = [i for made in pool.map(share, parts) for i in made]
    return {
        "numbers": [incident.number for incident in incidents],
        "references": [incident.reference for incident in incidents],
    }


def sla(args: argparse.Namespace) -> dict:
    """Targets of seconds, around the clock, for the priority the reports get (high), and a
    desk-wide escalation policy whose levels come `--levels` seconds apart; a category whose
    incidents are escalated to a group, so that they climb it. Through the admin's services."""
    from escalation.models import EscalationPolicy, SlaPolicy
    from escalation.services.config import LevelInput, escalation_policy_save, sla_policy_save
    from escalation.services.defaults import around_the_clock_calendar
    from incidents.services.config import category_create, group_create

    actor = _admin(args.slug)
    policy = SlaPolicy.objects.for_tenant(actor.tenant).get(priority__slug="high")
    values = {
        "calendar": around_the_clock_calendar(actor.tenant),
        "response_seconds": args.response,
        "resolution_seconds": args.resolution,
        "warn_percents": args.warn,
        "pause_on": policy.pause_on,
    }
    sla_policy_save(actor=actor, policy=policy, values=values)
    if args.levels:  # none: the default desk-wide policy, whose first level is hours away
        desk_wide = EscalationPolicy.objects.for_tenant(actor.tenant).get(group=None)
        escalation_policy_save(
            actor=actor,
            policy=desk_wide,
            values={"calendar": None, "repeat_count": 0},
            levels=[LevelInput(after_seconds=s, notify="manager") for s in args.levels],
        )
    group = group_create(actor=actor, name="Operations")
    category_create(actor=actor, name="Outage", slug=args.category, group=group)
    return {"category": args.category}


def sweep(args: argparse.Namespace) -> dict:
    """Send the sweep trigger `times` times, as beat does once per interval."""
    from escalation.tasks import sweep_clocks

    for _ in range(args.times):
        sweep_clocks.delay()
    return {"sent": args.times}


def trigger(args: argparse.Namespace) -> dict:
    """Send the delivery trigger for each pending webhook row `times` times back to back, as
    racing relays would: two workers then take the same row at the same moment."""
    from escalation.models import Notification
    from escalation.tasks import deliver_notification

    ids = list(
        Notification.objects.filter(tenant__slug=args.slug, channel="webhook", status="pending")
        .order_by("id")
        .values_list("id", flat=True)
    )
    for notification_id in ids:
        for _ in range(args.times):
            deliver_notification.delay(notification_id)
    return {"triggered": ids}


def mail_setup(args: argparse.Namespace) -> dict:
    """A tenant with an admin, `--members` requesters and one intake address
    (help@<slug>.test, default policy: strangers become external contacts), through the
    admin's services. The mail fault tests write to it over SMTP."""
    from mail.services.admin import intake_address_create
    from tenancy.actors import Actor
    from tenancy.models import Membership, Role, User
    from tenancy.services import tenant_create

    tenant = tenant_create(slug=args.slug, name=f"Mail {args.slug}")
    admin = User.objects.create_user(f"admin@{args.slug}.test", full_name="Mail Admin")
    membership = Membership.objects.create(tenant=tenant, user=admin, role=Role.ADMIN)
    members = []
    for n in range(args.members):
        user = User.objects.create_user(f"member{n}@{args.slug}.test", full_name=f"Member {n}")
        Membership.objects.create(tenant=tenant, user=user, role=Role.REQUESTER)
        members.append(user.email)
    intake = intake_address_create(actor=Actor.member(membership), address=f"help@{args.slug}.test")
    return {"tenant": tenant.pk, "intake": intake.address, "members": members}


def replica_setup(args: argparse.Namespace) -> dict:
    """A tenant with a manager signed in (the session cookie a browser would hold) and two API
    keys, for the replica tests: the manager reads the dashboard, the keys list incidents."""
    from django.test import Client

    from tenancy.apikeys import api_key_create
    from tenancy.models import Membership, Role, User
    from tenancy.services import tenant_create

    tenant = tenant_create(slug=args.slug, name=f"Replica {args.slug}")
    manager = User.objects.create_user(f"manager@{args.slug}.test", full_name="Mara Manager")
    Membership.objects.create(tenant=tenant, user=manager, role=Role.MANAGER)
    admin = User.objects.create_user(f"admin@{args.slug}.test", full_name="Fault Admin")
    Membership.objects.create(tenant=tenant, user=admin, role=Role.ADMIN)
    client = Client()
    client.force_login(manager)
    keys = [api_key_create(tenant=tenant, name=name, scopes=["read", "write"])[1] for name in "ab"]
    return {"tenant": tenant.pk, "session": client.cookies["sessionid"].value, "keys": keys}


def replica_wall(args: argparse.Namespace) -> dict:
    """Incidents counted on the replica alias without any tenant filter: in `--slug`'s scope
    (the wall must leave only its rows) and in a bypass (every tenant's)."""
    from incidents.models import Incident
    from tenancy import rls
    from tenancy.models import Tenant

    with rls.bypass("replica test: find the tenant"):
        tenant = Tenant.objects.get(slug=args.slug)
    with rls.tenant_scope(tenant.pk):
        scoped = Incident.objects.using("replica1").count()
        others = Incident.objects.using("replica1").exclude(tenant=tenant).count()
    with rls.bypass("replica test: every tenant's rows"):
        everyone = Incident.objects.using("replica1").count()
        own = Incident.objects.using("replica1").filter(tenant=tenant).count()
    return {"scoped": scoped, "others": others, "everyone": everyone, "own": own}


def _names(text: str) -> list[str]:
    return [name for name in text.split(",") if name]


def _numbers(text: str) -> list[int]:
    return [int(n) for n in _names(text)]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tests.faults.driver")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("setup")
    p.add_argument("--slug", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--events", type=_names, default=[])
    p = commands.add_parser("report")
    p.add_argument("--slug", required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--title", default="Fault drill")
    p.add_argument("--category", default="")
    p.add_argument("--threads", type=int, default=1)
    p = commands.add_parser("sla")
    p.add_argument("--slug", required=True)
    p.add_argument("--response", type=int, required=True)
    p.add_argument("--resolution", type=int, required=True)
    p.add_argument("--warn", type=_numbers, default=[50])
    p.add_argument("--levels", type=_numbers, default=[])
    p.add_argument("--category", default="outage")
    p = commands.add_parser("sweep")
    p.add_argument("--times", type=int, default=1)
    p = commands.add_parser("trigger")
    p.add_argument("--slug", required=True)
    p.add_argument("--times", type=int, default=2)
    p = commands.add_parser("mail_setup")
    p.add_argument("--slug", required=True)
    p.add_argument("--members", type=int, default=10)
    p = commands.add_parser("replica_setup")
    p.add_argument("--slug", required=True)
    p = commands.add_parser("replica_wall")
    p.add_argument("--slug", required=True)
    commands.add_parser("serve")
    return parser


COMMANDS = {
    "setup": setup,
    "report": report,
    "trigger": trigger,
    "sla": sla,
    "sweep": sweep,
    "mail_setup": mail_setup,
    "replica_setup": replica_setup,
    "replica_wall": replica_wall,
}


def serve() -> None:
    """Run commands read one per line (a JSON list of arguments), answering one JSON line each:
    a long-lived process like a web worker, without paying Django's start-up per command."""
    from django.db import connection

    for line in sys.stdin:
        args = _parser().parse_args(json.loads(line))
        connection.close()  # a database restarted since the last command: start afresh
        answer: dict[str, object]
        try:
            answer = {"result": COMMANDS[args.command](args)}
        except Exception:
            answer = {"error": traceback.format_exc()}
        print(json.dumps(answer), flush=True)


def main(argv: list[str]) -> None:
    args = _parser().parse_args(argv)
    import django

    django.setup()
    if args.command == "serve":
        serve()
    else:
        print(json.dumps({"result": COMMANDS[args.command](args)}))


if __name__ == "__main__":
    main(sys.argv[1:])
