"""The moments of an incident's life that a higher layer acts on (tenancy/hooks.py says how
hooks work). escalation connects each of them (escalation/receivers.py): the SLA clocks, the
alerts and the climb, the webhooks. Every hook runs inside the service's transaction."""

from __future__ import annotations

from tenancy.hooks import Hook

# incident_reported(incident, config, route_actor, group_id): a new incident, its id taken but
# its row not yet inserted (foreign keys are checked at commit) nor numbered. `config` is the
# report's ReportConfig, whose memo the receivers may keep their own readings in; a routed
# report names the routing's system actor and the group it escalated to (else both None).
incident_reported = Hook("incident_reported")

# incident_event(incident, event, actor, data=None, config=None): something integrations may
# subscribe to: incident.created, incident.transitioned, incident.commented, ... `config` when
# a report has one at hand.
incident_event = Hook("incident_event")

# incident_transitioned(incident, transition, actor): the locked incident went through a
# transition of its state machine, its event written.
incident_transitioned = Hook("incident_transitioned")

# incident_retargeted(incident, actor, reason): its priority changed (impact or urgency edited).
incident_retargeted = Hook("incident_retargeted")

# incidents_retargeted(actor, incident_ids): a change of the matrix moved these priorities.
incidents_retargeted = Hook("incidents_retargeted")

# incident_reassigned(incident, actor): its group or assignee changed.
incident_reassigned = Hook("incident_reassigned")

# incident_acknowledged(incident): the first response of the desk (its response is done).
incident_acknowledged = Hook("incident_acknowledged")
