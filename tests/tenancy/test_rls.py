"""The second wall between tenants (tenancy/rls.py): PostgreSQL row-level security holds when
the application's tenant filter is forgotten, and fails visibly when the wall is off."""

from __future__ import annotations

import logging

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from dashboards.tasks import refresh_tenant_rollups
from escalation.tasks import sweep_clocks
from incidents.services import incident_report
from servicedesk import celery as desk_celery
from tenancy import rls
from tenancy.models import TenantOwned
from tenancy.rls_migrations import POLICY
from tests.desk.desk_support import report

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=False)]


@pytest.fixture
def two_tenants(people):
    ours = report(people, "Acme printer jammed")
    theirs = incident_report(
        actor=people.actor(people.charlie, people.globex), title="Globex merger plans"
    )
    return ours, theirs


def _titles(client, people) -> list[str]:
    return client.get(f"/t/{people.acme.slug}/rls/titles/").json()["titles"]


def test_a_query_without_its_tenant_filter_sees_only_the_requests_tenant(
    people, login, settings, two_tenants
):
    settings.ROOT_URLCONF = "tests.rls_urls"
    assert _titles(login(people.alice), people) == ["Acme printer jammed"]


def test_without_the_wall_the_forgotten_filter_leaks_so_the_test_can_fail(
    people, login, settings, two_tenants
):
    settings.ROOT_URLCONF = "tests.rls_urls"
    settings.DATABASE_RLS = False
    assert _titles(login(people.alice), people) == ["Acme printer jammed", "Globex merger plans"]


def test_a_streamed_answer_keeps_its_requests_tenant(people, login, settings, two_tenants):
    settings.ROOT_URLCONF = "tests.rls_urls"
    response = login(people.alice).get(f"/t/{people.acme.slug}/rls/streamed/")
    assert b"".join(response.streaming_content).decode() == "Acme printer jammed\n"


def test_a_row_cannot_be_written_into_another_tenant(people, login, settings, two_tenants):
    settings.ROOT_URLCONF = "tests.rls_urls"
    ours, _ = two_tenants
    client = login(people.alice)
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        client.get(f"/t/{people.acme.slug}/rls/move/{ours.pk}/?tenant={people.globex.pk}")
    ours.refresh_from_db()
    assert ours.tenant_id == people.acme.pk


def _queue_titles(client, people) -> str:
    url = reverse("desk-queue", kwargs={"tenant_slug": people.acme.slug}) + "?queue=open"
    return client.get(url).content.decode()


def test_the_queue_with_its_tenant_filter_removed_still_shows_only_acme(
    people, login, settings, two_tenants
):
    settings.TEST_QUEUE_FORGETS_TENANT = True
    html = _queue_titles(login(people.alice), people)
    assert "Acme printer jammed" in html
    assert "Globex merger plans" not in html


def test_the_queue_with_its_tenant_filter_removed_leaks_without_the_wall(
    people, login, settings, two_tenants
):
    settings.TEST_QUEUE_FORGETS_TENANT = True
    settings.DATABASE_RLS = False
    assert "Globex merger plans" in _queue_titles(login(people.alice), people)


@pytest.mark.django_db(transaction=True)
def test_the_scope_ends_with_the_transaction_as_a_pooler_needs(people):
    """set_config(..., true) is SET LOCAL: the next transaction on the server connection (which
    PgBouncer may give to anyone) starts with no tenant and the connection's own role."""
    with transaction.atomic(), rls.tenant_scope(people.acme.pk), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_setting('desk.tenant', true)")
        assert cursor.fetchone() == ("desk_tenant", str(people.acme.pk))
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_setting('desk.tenant', true)")
        user, tenant = cursor.fetchone()
    assert user != "desk_tenant" and not tenant


def test_outside_every_scope_a_request_sees_no_tenants_rows(people, two_tenants):
    with rls.scoped(rls.NOTHING):
        from incidents.models import Incident

        assert Incident.objects.count() == 0
    assert Incident.objects.count() == 2  # the tests' own bypass


def test_a_person_sees_their_own_memberships_before_choosing_a_tenant(people):
    from tenancy.models import Membership

    with rls.person_scope(people.alice.pk):
        assert {m.user_id for m in Membership.objects.all()} == {people.alice.pk}


def test_a_task_given_a_tenant_runs_in_it_and_others_in_a_named_bypass(people, caplog):
    desk_celery._enter_scope(sender=refresh_tenant_rollups, task_id="a", args=(people.acme.pk,))
    assert rls.current() == rls.Scope(tenant_id=people.acme.pk)
    with caplog.at_level(logging.DEBUG, logger="desk.rls"):
        desk_celery._enter_scope(sender=sweep_clocks, task_id="b", args=())
    assert rls.current().bypass == "task escalation.sweep_clocks"
    assert "tenant wall bypassed: task escalation.sweep_clocks" in caplog.text
    desk_celery._leave_scope(task_id="b")
    desk_celery._leave_scope(task_id="a")
    assert rls.current().bypass == "tests"


def test_a_bypass_needs_a_reason():
    with pytest.raises(ValueError, match="needs a reason"):
        rls.bypass("")


def _tables_with_policy() -> dict[str, bool]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relrowsecurity AND EXISTS (
                SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname AND p.policyname = %s)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
            """,
            [POLICY],
        )
        return dict(cursor.fetchall())


def test_every_tenant_owned_table_has_its_policy():
    """A migration that adds a tenant-owned model must add tenancy.rls_migrations.TenantWall."""
    walled = _tables_with_policy()
    owned = [
        m._meta.db_table
        for m in apps.get_models()
        if issubclass(m, TenantOwned) or any(f.name == "tenant" for f in m._meta.concrete_fields)
    ]
    assert len(owned) > 50
    assert [table for table in owned if not walled.get(table)] == []


def test_every_table_with_a_tenant_column_has_its_policy():
    """The catalogue's side: a table made outside the models (raw SQL) is caught too."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND column_name = 'tenant_id'"
        )
        tables = [name for (name,) in cursor.fetchall()]
    walled = _tables_with_policy()
    assert [table for table in tables if not walled.get(table)] == []
