"""Recompute the dashboards' facts, calendar windows and daily rollups from the incidents."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from dashboards.services import rollups_rebuild
from tenancy.models import Tenant


class Command(BaseCommand):
    help = (
        "Rebuild the dashboard tables (incident facts, daily rollups, running totals) of every "
        "tenant, or of one with --tenant. Run it after changing a tenant's time zone or "
        "business calendars; the beat task keeps them current otherwise."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", metavar="SLUG", help="Only this tenant.")

    def handle(self, *args, tenant: str | None = None, **options) -> None:
        tenants = Tenant.objects.order_by("slug")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant with the slug {tenant!r}.")
        for each in tenants:
            started = time.monotonic()
            result = rollups_rebuild(tenant=each)
            took = time.monotonic() - started
            if result.skipped:
                self.stdout.write(f"{each.slug}: skipped, a refresh is running; try again.")
                continue
            self.stdout.write(
                f"{each.slug}: {result.incidents} incidents, {result.rows} rollup rows "
                f"in {took:.1f} s"
            )
