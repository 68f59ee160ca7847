"""The desk on RabbitMQ (a throwaway node, tests/faults/rabbit.py): /readyz asks it, the desk's
queues are quorum queues, and a task sent with a countdown (the relay's follow-up, a retry's
back-off) waits in the broker, not in a worker, then runs. The fault tests taking `broker` run
on it as well as on Redis."""

from __future__ import annotations

import json

import pytest

from tests.faults.harness import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("faults")]

READYZ = """
import json
from django.test import Client
from escalation.services.queues import queue_depths
answer = Client().get("/readyz")
print(json.dumps({"status": answer.status_code, "checks": answer.json()["checks"],
                  "depths": queue_depths()}))
"""
# A relay follow-up in 3 s: Celery sends it through the delayed-delivery queues.
COUNTDOWN = """
from escalation.tasks import relay_notifications
relay_notifications.apply_async((True,), countdown=3)
"""
RAN = "Task escalation.relay_notifications["


def _shell(broker, code: str) -> str:
    return broker.desk.manage("shell", "-c", code, env=broker.env)


@pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)
def test_on_rabbitmq_readyz_answers_and_the_desk_queues_are_quorum_queues(broker, celery_procs):
    seen = json.loads(_shell(broker, READYZ).strip().splitlines()[-1])
    assert (seen["status"], seen["checks"]) == (200, {"database": "ok", "broker": "ok"})
    assert seen["depths"] == {"timers": 0, "delivery": 0, "delivery_bulk": 0, "celery": 0}

    types = broker.server.queue_types()
    queues = ("celery", "delivery", "delivery_bulk", "timers")
    assert {name: types.get(name) for name in queues} == dict.fromkeys(queues, "quorum")

    broker.stop()
    seen = json.loads(_shell(broker, READYZ).strip().splitlines()[-1])
    assert seen["status"] == 503 and seen["checks"]["broker"].startswith("error")
    assert seen["depths"] == dict.fromkeys(("timers", "delivery", "delivery_bulk", "celery"))
    broker.start()


@pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)
def test_on_rabbitmq_a_countdown_waits_in_the_broker_then_runs(broker, celery_procs):
    worker = celery_procs.worker("w1")
    assert "Failed to setup delayed delivery" not in worker.text()
    _shell(broker, COUNTDOWN)
    # Not in a worker's memory (where a kill would drop it and a long wait would trip
    # RabbitMQ's consumer timeout): in the broker's delay queues, 2 s and then 1 s.
    assert sum(broker.queued(f"celery_delayed_{level}") for level in range(2)) == 1
    assert RAN not in worker.text()
    wait_for(lambda: RAN in worker.text() and "succeeded" in worker.text(), 30, "the follow-up")
