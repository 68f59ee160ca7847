"""What reviews hold about a person (tenancy/personal_data.py): reviews they wrote and the
action items they own."""

from __future__ import annotations

from reviews.models import ActionItem, Review, TimelineEntry
from tenancy.personal_data import Held, Written, declare


def register() -> None:
    declare(
        "reviews",
        [
            Held(Review, "author", "detach", names=("author_name",)),
            Held(ActionItem, "owner", "detach"),
        ],
        # The timeline is copied from the incident's events, names and all.
        mentioned=[Written(TimelineEntry, "text")],
    )
