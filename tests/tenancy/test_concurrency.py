"""Two admins demoting each other at once must leave one admin, never none."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from incidents import services as incident_services
from tenancy import services
from tenancy.errors import Refusal
from tenancy.models import Membership, Role


@pytest.mark.postgres
def test_two_admins_demoting_each_other_at_once_leave_one_admin(transactional_db, people):
    services.membership_set_role(
        actor=people.actor(people.ada),
        membership=Membership.objects.get(user=people.max),
        role=Role.ADMIN,
    )
    ada, max_ = people.actor(people.ada), people.actor(people.max)
    holding, release, second_ready = threading.Event(), threading.Event(), threading.Event()
    results: dict[str, str] = {}

    def demote(name: str, actor, target: Membership, hold: bool) -> None:
        try:
            connection.ensure_connection()
            if not hold:
                second_ready.set()
            with transaction.atomic():
                services.membership_set_role(actor=actor, membership=target, role=Role.AGENT)
                if hold:  # keep the first transaction open while the second one starts
                    holding.set()
                    release.wait(10)
            results[name] = "demoted"
        except Refusal as exc:
            results[name] = exc.message
        finally:
            connection.close()

    first = threading.Thread(target=demote, args=("ada", ada, max_.membership, True))
    second = threading.Thread(target=demote, args=("max", max_, ada.membership, False))
    first.start()
    assert holding.wait(10)
    second.start()
    assert second_ready.wait(10)
    time.sleep(0.5)  # the second one is now waiting for the admins' row locks
    release.set()
    first.join(10)
    second.join(10)
    assert results["ada"] == "demoted"
    assert results["max"] == "You are no longer an admin of this organisation."
    admins = Membership.objects.for_tenant(people.acme).filter(role=Role.ADMIN, is_active=True)
    assert list(admins.values_list("user__email", flat=True)) == ["ada@acme.test"]


@pytest.mark.postgres
def test_an_invitation_accepted_twice_at_once_makes_one_membership(
    transactional_db, people, django_capture_on_commit_callbacks
):
    invitation = services.membership_invite(
        actor=people.actor(people.ada), email="nina@acme.test", role=Role.AGENT
    )
    barrier = threading.Barrier(2)
    results: list[str] = []

    def accept() -> None:
        try:
            barrier.wait(5)
            services.invitation_accept(
                invitation=invitation, password="quiet-harbour-lantern-81", full_name="Nina"
            )
            results.append("joined")
        except Refusal as exc:
            results.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [
        "This invitation has already been used or was withdrawn.",
        "joined",
    ]
    assert Membership.objects.filter(user__email="nina@acme.test").count() == 1


@pytest.mark.postgres
def test_a_member_change_in_progress_does_not_hold_up_the_tenants_work(transactional_db, people):
    holding, release = threading.Event(), threading.Event()

    def deactivate_slowly() -> None:
        try:
            with transaction.atomic():
                services.membership_deactivate(
                    actor=people.actor(people.ada), membership=people.actor(people.bob).membership
                )
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=deactivate_slowly)
    thread.start()
    try:
        assert holding.wait(10)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")  # a lock wait fails the test
            incident = incident_services.incident_report(
                actor=people.actor(people.rita),
                title="Screen flickers",
                impact="low",
                urgency="low",
            )
        assert incident.reference == "INC-000001"
    finally:
        release.set()
        thread.join(10)
