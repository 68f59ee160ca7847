"""What problems hold about a person (tenancy/personal_data.py): problems they own and the lines
of problem timelines they wrote."""

from __future__ import annotations

from problems.models import Problem, ProblemEvent
from tenancy.personal_data import Held, Mentioned, declare


def register() -> None:
    declare(
        "problems",
        [
            Held(Problem, "owner", "detach"),
            Held(ProblemEvent, "actor_user", "detach", names=("actor_name",)),
        ],
        mentioned=[Mentioned(ProblemEvent, "data")],
    )
