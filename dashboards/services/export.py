"""A download of the dashboard's figures is a data export: the audit log says who took which
period and filters (issue 17). The CSV itself is written by the view (dashboards/views/export.py).
"""

from __future__ import annotations

from datetime import date

from django.db import transaction

from incidents.services.audited import audit_change
from tenancy.actors import Actor


@transaction.atomic
def dashboard_export_record(
    *, actor: Actor, date_from: date, date_to: date, filters: str, file_name: str
) -> None:
    audit_change(
        actor=actor,
        action="dashboard.exported",
        target_label="dashboard figures (CSV)",
        after={
            "period": f"{date_from.isoformat()} to {date_to.isoformat()}",
            "filters": filters,
            "file": file_name,
        },
        always=True,
    )
