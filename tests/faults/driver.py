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
    """A tenant with an admin and one webhook endpoint subscribed to every event."""
    from escalation.webhooks import EVENT_TYPES, webhook_endpoint_create
    from tenancy.actors import Actor
    from tenancy.models import Membership, Role, User
    from tenancy.services import tenant_create

    tenant = tenant_create(slug=args.slug, name=f"Faults {args.slug}")
    user = User.objects.create_user(f"admin@{args.slug}.test", full_name="Fault Admin")
    membership = Membership.objects.create(tenant=tenant, user=user, role=Role.ADMIN)
    endpoint = webhook_endpoint_create(
        actor=Actor.member(membership), url=args.url, events=list(EVENT_TYPES)
    )
    return {"tenant": tenant.pk, "endpoint": endpoint.pk, "secret": endpoint.secret}


def report(args: argparse.Namespace) -> dict:
    """Report incidents one by one, each in its own transaction, as the portal would."""
    from incidents.services import incident_report
    from tenancy.actors import Actor
    from tenancy.models import Membership, Role

    membership = Membership.objects.select_related("tenant", "user").get(
        tenant__slug=args.slug, role=Role.ADMIN
    )
    actor = Actor.member(membership)
    numbers = [
        incident_report(actor=actor, title=f"{args.title} {n}", impact="high").number
        for n in range(args.count)
    ]
    return {"numbers": numbers}


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tests.faults.driver")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("setup")
    p.add_argument("--slug", required=True)
    p.add_argument("--url", required=True)
    p = commands.add_parser("report")
    p.add_argument("--slug", required=True)
    p.add_argument("--count", type=int, default=1)
    p.add_argument("--title", default="Fault drill")
    p = commands.add_parser("trigger")
    p.add_argument("--slug", required=True)
    p.add_argument("--times", type=int, default=2)
    commands.add_parser("serve")
    return parser


COMMANDS = {"setup": setup, "report": report, "trigger": trigger}


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
