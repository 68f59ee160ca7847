"""For the import benchmark: an incident's source history driven through the live services, the
way agents would have had to do it (incident_report, then the transitions one at a time)."""

from __future__ import annotations

from dataclasses import dataclass

from imports.formats.servicenow import STATES
from incidents.models import AssignmentGroup, GroupMember, Incident
from incidents.services import (
    incident_accept,
    incident_close,
    incident_escalate,
    incident_hold,
    incident_reopen,
    incident_report,
    incident_resolve,
    incident_resume,
)
from tenancy.actors import Actor
from tenancy.models import Membership, Role, Tenant, User
from tenancy.services import tenant_create

CODE, NOTES = "solved-permanently", "Benchmark: the source's resolution."


@dataclass
class LiveDesk:
    tenant: Tenant
    agent: Actor
    system: Actor
    group: AssignmentGroup

    @classmethod
    def create(cls, slug: str) -> LiveDesk:
        tenant = tenant_create(slug=slug, name=slug)
        user = User.objects.create_user(f"agent@{slug}.test", full_name="Bench Agent")
        membership = Membership.objects.create(tenant=tenant, user=user, role=Role.AGENT)
        group = AssignmentGroup.objects.create(tenant=tenant, name="Bench", slug="bench")
        GroupMember.objects.create(tenant=tenant, group=group, user=user)
        return cls(tenant, Actor.member(membership), Actor.system(tenant, "Bench"), group)

    def replay(self, rows: list) -> Incident:
        first = rows[0]
        incident = incident_report(
            actor=self.agent,
            title=f"{first.number} (benchmark)",
            impact=first.impact,
            urgency=first.urgency,
            contact_name=first.caller,
        )
        for row in rows:
            incident = self.move(incident, *STATES[row.state])
        return incident

    def move(self, incident: Incident, target: str, hold_reason: str) -> Incident:
        """Step through the live transitions until the incident is where the row says."""
        for _ in range(6):
            if incident.state == target and incident.hold_reason == hold_reason:
                break
            step = self._step(incident, target, hold_reason)
            if step is None:
                break  # a move the live desk cannot make at all (Active -> New, after Closed)
            incident = step(incident)
        return incident

    def _step(self, incident: Incident, target: str, hold_reason: str):
        state, agent = incident.state, self.agent
        if state == "reported":
            if target == "reported":
                return None
            return lambda i: incident_escalate(incident=i, actor=agent, group=self.group,
                                               assignee=agent.user)  # fmt: skip
        if state == "escalated":
            if target in ("resolved", "closed"):
                return self._resolve
            return lambda i: incident_accept(incident=i, actor=agent)
        if state in ("diagnosing", "on_hold"):
            if target in ("resolved", "closed"):
                return self._resolve
            if state == "on_hold":
                return lambda i: incident_resume(incident=i, actor=agent)
            if target == "on_hold":
                return lambda i: incident_hold(incident=i, actor=agent, hold_reason=hold_reason)
            return None
        if state == "resolved":
            if target == "closed":
                return lambda i: incident_close(incident=i, actor=self.system)
            return lambda i: incident_reopen(incident=i, actor=agent, reason="Still broken")
        return None

    def _resolve(self, incident: Incident) -> Incident:
        return incident_resolve(
            incident=incident, actor=self.agent, resolution_code=CODE, resolution_notes=NOTES
        )
