"""What mail holds about a person (tenancy/personal_data.py): the messages they sent to an
intake address (the raw message holds their From header and words) and the automatic answers
sent to them."""

from __future__ import annotations

from mail.models import AutoAnswer, InboundMail
from tenancy.personal_data import Held, declare


def register() -> None:
    declare(
        "mail",
        [
            Held(InboundMail, "sender", "alias", clear=("raw",)),
            Held(AutoAnswer, "address", "alias"),
        ],
        kept={"mail.IntakeAddress.address": "The desk's own intake address, not a person's."},
    )
