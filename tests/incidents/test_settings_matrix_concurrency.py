"""Two admins saving the priority matrix at the same moment (PostgreSQL row locks)."""

import threading

import pytest
from django.db import connection

from incidents.models import PriorityLevel
from incidents.services.defaults import ITIL_MATRIX, ITIL_SCALE
from incidents.services.priority import matrix_set
from tests.incidents.settings_support import cells_of, report

ITIL = [(slug, label) for slug, label, _ in ITIL_SCALE]
MATRIX = {str(i): {str(u): s for u, s in row.items()} for i, row in ITIL_MATRIX.items()}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_admins_applying_a_preset_at_once_both_succeed(people):
    for n in range(5):
        report(people.actor(people.rita), title=f"Open {n}", impact="high", urgency="high")
    ada = people.actor(people.ada)
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def save() -> None:
        try:
            start.wait(timeout=10)
            outcomes.append(matrix_set(actor=ada, scale=ITIL, matrix=MATRIX))
        except Exception as exc:  # the test reports whatever a thread hit
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=save) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # The second save queues behind the first and finds nothing left to re-derive.
    assert sorted(outcomes, key=str) == [0, 5], outcomes
    active = PriorityLevel.objects.for_tenant(people.acme).filter(is_active=True).order_by("rank")
    assert [lvl.slug for lvl in active] == [s for s, _ in ITIL]
    assert cells_of(people.acme) == MATRIX
