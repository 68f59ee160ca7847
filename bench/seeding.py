"""Filling benchmark tenants fast: people, incidents in bulk_create batches with realistic
states, comments, events and SLA clocks on the open ones, and deleting them again. Shared by
queue_bench.py and tenants_bench.py; imported after django.setup() (the scripts set it up).
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from escalation.models import ClockState, Metric, SlaClock, SlaPolicy
from escalation.selectors.sla import sla_policies_for_tenant
from incidents.models import (
    AssignmentGroup,
    Category,
    Comment,
    GroupMember,
    HoldReason,
    Incident,
    IncidentEvent,
    ResolutionCode,
)
from incidents.services.common import event_row
from incidents.services.priority import matrix_for
from tenancy.actors import Actor
from tenancy.models import Membership, Role, Tenant, TenantCounter, User
from tenancy.services import tenant_create

BATCH = 5_000


@dataclass(frozen=True)
class Staff:
    """A tenant's people: groups of agents, requesters, categories each routed to a group."""

    groups: int = 8
    agents_per_group: int = 5
    requesters: int = 200
    categories: int = 12


QUEUE_STAFF = Staff()  # queue_bench's tenants (its agent 0-0 is in two of the eight groups)
OPEN_STATES = [("reported", 0.10), ("escalated", 0.30), ("diagnosing", 0.40), ("on_hold", 0.20)]
WORDS = (  # noqa: SIM905 (a sentence reads better than a column of quoted words)
    "vpn printer email laptop password wifi outlook teams badge monitor server backup disk "
    "network phone license invoice portal report database login screen keyboard camera"
).split()
# A word only RARE_COUNT incidents of each tenant hold (in the description), another only
# RARE_COUNT comments: the same handful at both sizes, so their search finds the same rows.
RARE_WORD, RARE_COMMENT_WORD, NO_MATCH_WORD, RARE_COUNT = "zeppelin", "kerberos", "quokka", 3
COMMENT_SHARE = 0.02  # incidents with one comment (a reply or an internal note)
PROBLEMS = (  # noqa: SIM905
    "drops, is slow, does not start, shows an error, is locked, keeps crashing, is missing, "
    "cannot connect, asks again and again, went offline"
).split(", ")


# --- filling ----------------------------------------------------------------------------------
def _people(tenant: Tenant, tag: str, staff: Staff) -> dict[str, Any]:
    """Groups of agents, requesters and routed categories; agent 0 is the one measured."""
    groups = [
        AssignmentGroup.objects.create(tenant=tenant, name=f"Group {g}", slug=f"group-{g}")
        for g in range(staff.groups)
    ]
    members: dict[int, list[User]] = {}
    for g, group in enumerate(groups):
        for a in range(staff.agents_per_group):
            user = User.objects.create_user(f"agent{g}-{a}@{tag}.bench", full_name=f"Agent {g}-{a}")
            Membership.objects.create(tenant=tenant, user=user, role=Role.AGENT)
            GroupMember.objects.create(tenant=tenant, group=group, user=user)
            members.setdefault(group.pk, []).append(user)
    measured = members[groups[0].pk][0]
    if len(groups) > 1:
        GroupMember.objects.create(tenant=tenant, group=groups[1], user=measured)
    requesters = []
    for r in range(staff.requesters):
        user = User.objects.create_user(f"user{r}@{tag}.bench", full_name=f"User {r}")
        Membership.objects.create(tenant=tenant, user=user, role=Role.REQUESTER)
        requesters.append(user)
    categories = [
        Category.objects.create(
            tenant=tenant,
            name=f"Category {c}",
            slug=f"category-{c}",
            group=groups[c % staff.groups],
        )
        for c in range(staff.categories)
    ]
    return {
        "groups": groups,
        "members": members,
        "requesters": requesters,
        "categories": categories,
        "measured": measured,
    }


def _pick_state(rng: random.Random, open_share: float) -> str:
    roll = rng.random()
    if roll < open_share:
        roll = rng.random()
        for state, weight in OPEN_STATES:
            if roll < weight:
                return state
            roll -= weight
        return "diagnosing"
    if roll < open_share + 0.02:
        return "resolved"
    return "cancelled" if rng.random() < 0.05 else "closed"


def _incident(tenant, number, rng, ctx, open_share, now, rare) -> Incident:
    state = _pick_state(rng, open_share)
    is_open = state in ("reported", "escalated", "diagnosing", "on_hold")
    # Open incidents are recent; the history spreads over three years.
    age = timedelta(seconds=rng.uniform(0, (60 if is_open else 3 * 365) * 86_400))
    impact, urgency = rng.choice("hml"), rng.choice("hml")
    names = {"h": "high", "m": "medium", "l": "low"}
    level = ctx["matrix"][names[impact]][names[urgency]]
    category = rng.choice(ctx["categories"])
    group = category.group if state != "reported" else None
    assignee = None
    if group is not None and (state != "escalated" or rng.random() < 0.5):
        assignee = rng.choice(ctx["members"][group.pk])
    reported_at = now - age
    return Incident(
        tenant=tenant,
        number=number,
        state=state,
        title=f"{rng.choice(WORDS).capitalize()} {rng.choice(PROBLEMS)}",
        description=f"Since this morning the {rng.choice(WORDS)} {rng.choice(PROBLEMS)}."
        + (f" The {RARE_WORD} sensor again." if number in rare else ""),
        impact=names[impact],
        urgency=names[urgency],
        priority=level,
        priority_rank=level.rank,
        reporter=rng.choice(ctx["requesters"]),
        category=category,
        group=group,
        assignee=assignee,
        reported_at=reported_at,
        updated_at=reported_at + timedelta(minutes=rng.randint(1, 600)),
        hold_reason=rng.choice(HoldReason.values) if state == "on_hold" else "",
        resolution_code=ctx["code"] if state in ("resolved", "closed") else None,
        resolution_notes="Fixed." if state in ("resolved", "closed") else "",
    )


def _events(tenant: Tenant, incidents: list[Incident]) -> list[IncidentEvent]:
    bench, routing = Actor.system(tenant, "Bench"), Actor.system(tenant, "Routing")
    events = []
    for i in incidents:
        events.append(
            event_row(
                actor=bench,
                incident_id=i.pk,
                version=1,
                at=i.reported_at,
                kind="reported",
                to_state="reported",
            )
        )
        if i.state != "reported":
            events.append(
                event_row(
                    actor=routing,
                    incident_id=i.pk,
                    version=2,
                    at=i.reported_at + timedelta(seconds=1),
                    kind="transition",
                    transition="escalate",
                    from_state="reported",
                    to_state="escalated",
                )
            )
    return events


def _comments(tenant: Tenant, incidents: list[Incident], rng, rare: set[int]) -> list[Comment]:
    """A reply or note on COMMENT_SHARE of the incidents; RARE_COUNT of them hold the rare word."""
    rows = []
    for i in incidents:
        if i.number in rare:
            body = f"Checked the {RARE_COMMENT_WORD} tickets: expired."
        elif rng.random() < COMMENT_SHARE:
            body = f"Tried again, the {rng.choice(WORDS)} still {rng.choice(PROBLEMS)}."
        else:
            continue
        rows.append(
            Comment(
                tenant=tenant,
                incident=i,
                author_name="Agent",
                body=body,
                public=rng.random() < 0.5,
                created_at=i.reported_at + timedelta(minutes=5),
            )
        )
    return rows


def fill(
    tenant: Tenant,
    n: int,
    *,
    open_share: float,
    events: bool,
    seed: int,
    staff: Staff = QUEUE_STAFF,
    quiet: bool = False,
) -> None:
    rng = random.Random(seed)
    rare = set(rng.sample(range(1, n + 1), min(n, RARE_COUNT)))
    rare_comment = set(rng.sample(range(1, n + 1), min(n, RARE_COUNT)))
    ctx = _people(tenant, tenant.slug, staff)
    ctx["matrix"] = matrix_for(tenant)
    ctx["code"] = ResolutionCode.objects.for_tenant(tenant).get(slug="solved-permanently")
    now = timezone.now()
    for start in range(0, n, BATCH):
        batch = [
            _incident(tenant, number, rng, ctx, open_share, now, rare)
            for number in range(start + 1, min(start + BATCH, n) + 1)
        ]
        with transaction.atomic():
            made = Incident.objects.bulk_create(batch)
            if events:
                IncidentEvent.objects.bulk_create(_events(tenant, made), batch_size=BATCH)
            Comment.objects.bulk_create(_comments(tenant, made, rng, rare_comment))
        if not quiet:
            print(f"  {tenant.slug}: {start + len(batch):,} / {n:,}", end="\r", flush=True)
    TenantCounter.objects.for_tenant(tenant).filter(name="incident").update(value=n)
    if not quiet:
        print()


def _clock(incident: Incident, policy: SlaPolicy, metric: str, now) -> SlaClock:
    """A clock as the services leave it, in wall-clock time (the bench needs the rows and their
    states, not calendar arithmetic): running until due, then breached; the response clock met
    once an agent took the incident; paused while on hold awaiting the caller."""
    target = policy.target_for(metric)
    started = incident.reported_at
    due = started + timedelta(seconds=target)
    first = min([p for p in policy.warn_percents if 0 < p < 100] or [100])
    clock = SlaClock(
        tenant_id=incident.tenant_id,
        incident=incident,
        metric=metric,
        policy=policy,
        calendar_id=policy.calendar_id,
        priority_slug=policy.priority.slug,
        target_seconds=target,
        warn_percents=policy.warn_percents,
        pause_on=policy.pause_on,
        started_at=started,
    )
    if metric == Metric.RESPONSE and incident.state not in ("reported", "escalated"):
        clock.state, clock.stopped_at = ClockState.MET, started + timedelta(minutes=10)
        clock.spent = timedelta(minutes=10)
    elif incident.state == "on_hold" and incident.hold_reason in policy.pause_on:
        clock.state, clock.spent = ClockState.PAUSED, timedelta(seconds=target // 2)
    else:
        clock.running_since, clock.due_at = started, due
        clock.warn_at = started + timedelta(seconds=target * first / 100)
        ahead = [[p, (started + timedelta(seconds=target * p / 100)).isoformat()]
                 for p in [*policy.warn_percents, 100]]  # fmt: skip
        clock.checkpoints = [c for c in ahead if c[1] > now.isoformat()]
        if due <= now:
            clock.state, clock.breached_at = ClockState.BREACHED, due
        else:
            clock.next_check_at = min(datetime.fromisoformat(c[1]) for c in clock.checkpoints)
    return clock


def add_clocks(tenant: Tenant) -> int:
    """Response and resolution clocks on every open incident (the desk's rows show them, and
    "Breaching soon" reads them); made once, kept with the tenant."""
    if SlaClock.objects.for_tenant(tenant).exists():
        return 0
    now = timezone.now()
    policies = {p.priority_id: p for p in sla_policies_for_tenant(tenant)}
    open_ = Incident.objects.for_tenant(tenant).filter(state__in=[s for s, _ in OPEN_STATES])
    made = 0
    for start in range(0, open_.count(), BATCH):
        batch = list(open_.order_by("id")[start : start + BATCH])
        clocks = [
            _clock(i, policies[i.priority_id], metric, now)
            for i in batch
            for metric in (Metric.RESPONSE, Metric.RESOLUTION)
        ]
        made += len(SlaClock.objects.bulk_create(clocks))
    return made


def tenant_for(
    slug: str,
    n: int,
    *,
    fresh: bool,
    open_share: float,
    events: bool = False,
    staff: Staff = QUEUE_STAFF,
    quiet: bool = False,
    exact: bool = True,
) -> Tenant:
    """The bench tenant `slug` with `n` incidents: kept from an earlier run (rebuilt with
    `fresh`), else made and filled. `exact=False` accepts a kept tenant that has grown since
    (a bench that reports incidents into it)."""
    tenant = Tenant.objects.filter(slug=slug).first()
    if tenant is not None and fresh:
        drop(tenant)
        tenant = None
    if tenant is not None:
        count = Incident.objects.for_tenant(tenant).count()
        if count < n or (exact and count != n):
            sys.exit(f"{slug} holds {count:,} incidents, not {n:,}: run again with --fresh.")
        if not quiet:
            print(f"  {slug}: reusing {count:,} incidents")
        if (made := add_clocks(tenant)) and not quiet:
            print(f"  {slug}: {made:,} SLA clocks on its open incidents")
        return tenant
    tenant = tenant_create(slug=slug, name=f"Bench {n:,}")
    started = time.perf_counter()
    fill(tenant, n, open_share=open_share, events=events, seed=n, staff=staff, quiet=quiet)
    made = add_clocks(tenant)
    if not quiet:
        print(f"  {slug}: {made:,} SLA clocks on its open incidents")
        print(f"  {slug}: filled in {time.perf_counter() - started:.0f} s")
    return tenant


def drop(tenant: Tenant) -> None:
    """Delete a bench tenant; its big tables first, in SQL (the ORM would load every row). Its
    audit records go with it, as the retention job's do (the log is otherwise append-only)."""
    from tenancy.audit import prune_allowed

    with transaction.atomic(), prune_allowed(), connection.cursor() as cursor:
        # Matrix cells PROTECT their levels and SLA policies their calendars, so they go before
        # the tenant's cascade.
        tables = (
            "escalation_slaclock",
            "escalation_slapolicy",
            "incidents_comment",
            "incidents_incidentevent",
            "incidents_incident",
            "incidents_prioritymatrixcell",
        )
        for table in tables:
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
        User.objects.filter(memberships__tenant=tenant).delete()
        tenant.delete()
