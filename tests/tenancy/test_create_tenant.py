"""Platform operators create tenants with `manage.py create_tenant SLUG --name NAME`."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from incidents.models import PriorityMatrixCell, ResolutionCode
from tenancy.models import Tenant, TenantCounter


def create(*args: str) -> str:
    out = StringIO()
    call_command("create_tenant", *args, stdout=out)
    return out.getvalue()


def test_a_tenant_is_created_with_its_defaults(db):
    out = create("initech", "--name", "Initech", "--time-zone", "Europe/Paris")
    assert out.strip() == "Created tenant initech (Initech) at /t/initech/."
    tenant = Tenant.objects.get(slug="initech")
    assert (tenant.name, tenant.time_zone) == ("Initech", "Europe/Paris")
    assert PriorityMatrixCell.objects.for_tenant(tenant).count() == 9
    assert ResolutionCode.objects.for_tenant(tenant).filter(slug="solved-permanently").exists()
    assert TenantCounter.objects.for_tenant(tenant).get(name="incident").value == 0


def test_a_duplicate_slug_is_refused(db):
    create("initech", "--name", "Initech")
    with pytest.raises(CommandError, match="A tenant with slug 'initech' already exists."):
        create("initech", "--name", "Initech again")
    assert Tenant.objects.get(slug="initech").name == "Initech"


@pytest.mark.parametrize("slug", ["no spaces", "ünï", "a/b", "dot.ted"])
def test_a_bad_slug_is_refused(db, slug):
    with pytest.raises(CommandError, match="is not a valid slug: use letters, digits, - and _"):
        create(slug, "--name", "Bad")
    assert not Tenant.objects.exists()


def test_an_unknown_time_zone_is_refused(db):
    with pytest.raises(CommandError, match="'Mars/Olympus' is not a time zone"):
        create("initech", "--name", "Initech", "--time-zone", "Mars/Olympus")
    assert not Tenant.objects.exists()


@pytest.mark.parametrize("path", ["posix/Europe/London", "right/UTC", "posixrules", "localtime"])
def test_a_zoneinfo_file_that_is_not_a_zone_name_is_refused(db, path):
    """ZoneInfo opens these where the system's zoneinfo has them; the desk wants IANA names."""
    with pytest.raises(CommandError, match=f"'{path}' is not a time zone"):
        create("initech", "--name", "Initech", "--time-zone", path)
    assert not Tenant.objects.exists()


@pytest.mark.parametrize("zone", ["UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_any_iana_zone_name_is_accepted(db, zone):
    create("initech", "--name", "Initech", "--time-zone", zone)
    assert Tenant.objects.get(slug="initech").time_zone == zone


def test_a_name_is_required(db):
    with pytest.raises(CommandError, match="--name must not be empty"):
        create("initech", "--name", "  ")
