"""What the desk holds about a person (tenancy/personal_data.py): their saved queue views."""

from __future__ import annotations

from desk.models import SavedView
from tenancy.personal_data import Held, declare


def register() -> None:
    declare("desk", [Held(SavedView, "user", "delete")])
