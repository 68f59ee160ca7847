"""What the portal holds about a person (tenancy/personal_data.py): their report submissions."""

from __future__ import annotations

from portal.models import ReportSubmission
from tenancy.personal_data import Held, declare


def register() -> None:
    declare("portal", [Held(ReportSubmission, "user", "delete")])
