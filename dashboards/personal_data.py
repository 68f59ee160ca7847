"""What the dashboards hold about a person (tenancy/personal_data.py): the incident facts that
name them as assignee (rebuilt from the incidents, which are detached too)."""

from __future__ import annotations

from dashboards.models import IncidentFact
from tenancy.personal_data import Held, declare


def register() -> None:
    declare("dashboards", [Held(IncidentFact, "assignee", "detach")])
