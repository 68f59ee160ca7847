"""A CSV export of the dashboard is a data export (issue 17): the audit log says who took
which period and filters. Someone refused the export leaves no record."""

from __future__ import annotations

import pytest

from tenancy.audit import changes_in_words
from tenancy.models import AuditRecord

pytestmark = pytest.mark.django_db

EXPORT = "/t/acme/dashboards/export.csv"
PERIOD = "period=custom&date_from=2026-11-30&date_to=2026-12-06"


@pytest.fixture
def audit(people):
    """The records written since the test began, but the sign-ins of its logins."""
    start = AuditRecord.objects.order_by("-id").values_list("id", flat=True).first() or 0

    def new(tenant=None):
        rows = AuditRecord.objects.filter(id__gt=start, tenant=tenant or people.acme)
        rows = rows.exclude(action__startswith="signin.").exclude(action="signout")
        return list(rows.order_by("id"))

    return new


def test_an_export_records_who_took_which_period_and_filters(people, login, audit):
    response = login(people.max).get(f"{EXPORT}?{PERIOD}&group={people.group.pk}")
    assert response.status_code == 200
    [record] = audit()
    assert (record.action, record.actor_name, record.actor_user_id) == (
        "dashboard.exported",
        "Max Manager",
        people.max.pk,
    )
    assert record.target_label == "dashboard figures (CSV)"
    assert record.after == {
        "period": "2026-11-30 to 2026-12-06",
        "filters": "Group: Service Desk",
        "file": "dashboard-acme-2026-11-30-2026-12-06.csv",
    }
    assert "Filters: Group: Service Desk" in changes_in_words(record)


def test_each_export_is_its_own_record(people, login, audit):
    client = login(people.max)
    client.get(f"{EXPORT}?{PERIOD}")
    client.get(f"{EXPORT}?{PERIOD}")
    assert [r.after["filters"] for r in audit()] == ["none", "none"]


@pytest.mark.parametrize("who", ["alice", "rita", "charlie"])
def test_someone_refused_the_export_leaves_no_record(people, login, audit, who):
    assert login(getattr(people, who)).get(f"{EXPORT}?{PERIOD}").status_code == 404
    assert audit() == [] and audit(people.globex) == []


def test_charlies_tenant_gets_none_of_acmes_records(people, login, audit):
    login(people.max).get(f"{EXPORT}?{PERIOD}")
    assert len(audit()) == 1
    assert audit(people.globex) == []
