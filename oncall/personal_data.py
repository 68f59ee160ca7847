"""What on call holds about a person (tenancy/personal_data.py): their turns in rotations, the
overrides they cover or added, and the schedules that fall back to them. Erasing takes them out
of the rotations and removes the overrides they cover."""

from __future__ import annotations

from oncall.models import LayerMember, Override, Schedule
from tenancy.personal_data import Held, declare


def register() -> None:
    declare(
        "oncall",
        [
            Held(LayerMember, "user", "delete"),
            Held(Override, "user", "delete"),
            Held(Override, "created_by", "detach"),
            Held(Schedule, "fallback", "detach"),
        ],
    )
