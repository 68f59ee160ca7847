"""The broker's queues as the desk uses them (routes in servicedesk/settings.py,
CELERY_TASK_ROUTES; docs/operations.md): SLA timers never wait behind deliveries.

- `timers`: the sweep, the notifier, the audit, auto-close and the outbox relay. Short tasks
  that keep every SLA deadline; a worker of their own (the Procfile's `timers`).
- `delivery` and `delivery_bulk`: the outbox's delivery triggers; a tenant in a storm sends
  its triggers to `delivery_bulk`, and the delivery worker takes from both in turn (lanes.py).
- `celery` (the default): mail in, IMAP polls, imports, dashboards, clean-ups.
"""

from __future__ import annotations

import logging

from celery import current_app

log = logging.getLogger(__name__)

TIMERS, DELIVERY, DELIVERY_BULK, DEFAULT = "timers", "delivery", "delivery_bulk", "celery"
QUEUES = (TIMERS, DELIVERY, DELIVERY_BULK, DEFAULT)
DELIVERY_LANES = (DELIVERY, DELIVERY_BULK)


def queue_depths(names: tuple[str, ...] = QUEUES) -> dict[str, int | None]:
    """Messages waiting in each queue (not those a worker holds); None where the broker could
    not be asked. Tasks run eagerly (tests, debugging) have no queue: 0."""
    app = current_app
    if app.conf.task_always_eager:
        return dict.fromkeys(names, 0)
    try:
        with app.connection_for_read() as conn:
            # One quick try: a caller (the relay, a scrape) wants an answer, not a wait.
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
            channel = conn.default_channel
            # Declared as the workers declare them: RabbitMQ refuses a declaration whose
            # arguments differ (a quorum queue asked for as a classic one).
            return {name: _declared(app, name, channel).message_count for name in names}
    except Exception as exc:  # the broker is away: say so rather than fail the caller
        log.warning("queue depths unknown: %r", exc)
        return dict.fromkeys(names)


def _declared(app, name: str, channel):
    return app.amqp.queues[name].bind(channel).queue_declare()


def queue_depth(name: str) -> int | None:
    return queue_depths((name,))[name]


def delivery_backlog() -> int | None:
    """Triggers waiting in both delivery lanes; None where the broker could not be asked."""
    depths = queue_depths(DELIVERY_LANES)
    if any(depth is None for depth in depths.values()):
        return None
    return sum(depth or 0 for depth in depths.values())
