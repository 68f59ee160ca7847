"""Hooks: the one way a lower layer lets a higher one act (docs/ARCHITECTURE.md, "Hooks").

The layers are one-way: tenancy < incidents < mail < escalation < portal, desk, dashboards, imports.
Yet an operation of a lower layer sometimes has consequences a higher layer owns: a transition
starts and stops SLA clocks, an invitation is mailed through the notifications outbox. The lower
layer declares a Hook where that happens and calls it; the higher layer connects a receiver in
its AppConfig.ready(). No lower layer imports a higher one, not even inside a function.

The contract of every hook:
- Receivers run synchronously, in the order they connected (the order of INSTALLED_APPS),
  inside the caller's transaction and under its locks, with keyword arguments only. They see
  the rows the caller has not committed yet, and an exception in one rolls the whole operation
  back, as the direct call it stands for did.
- Work outside the database (delivery, Celery) is put off by the receiver with
  transaction.on_commit, as services always do.
- A hook declared `required` must have a receiver once the apps are ready: the system check
  tenancy.E001 fails otherwise, so a desk without its SLA clocks or its mail never starts.

Not Django signals: those are for third parties, and a signal without a receiver passes
silently; these are the desk's own flow, and a missing receiver stops the start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core import checks

Receiver = Callable[..., Any]


class Hook:
    registry: list[Hook] = []

    def __init__(self, name: str, *, required: bool = True) -> None:
        self.name = name
        self.required = required
        self.receivers: list[Receiver] = []
        Hook.registry.append(self)

    def connect(self, receiver: Receiver) -> Receiver:
        """Add a receiver (once); usable as a decorator."""
        if receiver not in self.receivers:
            self.receivers.append(receiver)
        return receiver

    def send(self, **kwargs: Any) -> list[Any]:
        """Call every receiver; what each returned, in order."""
        return [receiver(**kwargs) for receiver in self.receivers]

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self.receivers)} receivers>"


@checks.register()
def hooks_connected(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            f"The hook {hook.name} has no receiver.",
            hint="The app that owns what it triggers connects one in its AppConfig.ready().",
            id="tenancy.E001",
        )
        for hook in Hook.registry
        if hook.required and not hook.receivers
    ]


# --- tenancy's own hooks ----------------------------------------------------------------------

# tenant_provisioned(tenant): a new tenant gets each app's defaults, in INSTALLED_APPS order
# (incidents' priority levels first: escalation's SLA targets are made for them).
tenant_provisioned = Hook("tenant_provisioned")

# member_left(actor, membership): a member was deactivated; each receiver hands back what they
# held and returns what the admin is told of it ("" for nothing).
member_left = Hook("member_left")

# mail_queued(tenant, kind, address, subject, body, recipient=None, incident=None): a mail to
# one person, written to the notifications outbox in the caller's transaction (escalation).
mail_queued = Hook("mail_queued")
