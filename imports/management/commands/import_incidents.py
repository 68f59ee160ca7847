from __future__ import annotations

import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug

from imports.formats import FORMATS
from imports.models import ImportRun, RunState
from imports.report import report_lines
from imports.services.runs import import_file_check, import_run_create, import_run_execute
from tenancy.actors import Actor
from tenancy.errors import Refusal
from tenancy.models import Tenant
from tenancy.services import tenant_create


class Command(BaseCommand):
    help = (
        "Import incident history from another tool into a tenant. Importing the same file "
        "again changes nothing; see docs/imports.md."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the file to import (CSV)")
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument(
            "--create-tenant",
            action="store_true",
            help="make a new empty tenant of that slug first",
        )
        parser.add_argument("--format", required=True, choices=sorted(FORMATS))
        parser.add_argument(
            "--adopt-source-matrix",
            action="store_true",
            help="set the tenant's priority scale and matrix to the ones the file shows",
        )
        parser.add_argument(
            "--time-zone", default="", help="zone of the file's times (default: the tenant's)"
        )

    def handle(self, *args, **options) -> None:
        path = str(Path(options["file"]).resolve())
        try:
            # A wrong file is refused before anything is written, a new tenant included (the
            # run refuses a contradicting matrix itself, before its first incident).
            whole = options["adopt_source_matrix"] and options["create_tenant"]
            import_file_check(format=options["format"], path=path, whole=whole)
        except Refusal as exc:
            raise CommandError(exc.message) from None
        tenant = self._tenant(options["tenant"], options["create_tenant"])
        try:
            run = import_run_create(
                actor=Actor.system(tenant, "Import"),
                format=options["format"],
                path=path,
                time_zone=options["time_zone"],
                adopt_matrix=options["adopt_source_matrix"],
                enqueue=False,
            )
        except Refusal as exc:
            raise CommandError(exc.message) from None
        run = import_run_execute(run_id=run.pk, on_progress=self._progress) or run
        self.stderr.write("")
        for line in report_lines(run):
            self.stdout.write(line)
        if run.state != RunState.DONE:
            raise CommandError(run.error or "The import did not finish.")

    def _tenant(self, slug: str, create: bool) -> Tenant:
        found = Tenant.objects.filter(slug=slug).first()
        if not create:
            if found is None:
                raise CommandError(f"No tenant {slug!r} (add --create-tenant to make it).")
            return found
        if found is not None:
            raise CommandError(
                f"A tenant {slug!r} already exists; leave out --create-tenant to import into it."
            )
        try:
            validate_slug(slug)
        except ValidationError:
            raise CommandError(
                f"{slug!r} is not a valid slug: use letters, digits, - and _."
            ) from None
        tenant = tenant_create(slug=slug, name=slug)
        self.stdout.write(f"Created tenant {slug} at /t/{slug}/.")
        return tenant

    def _progress(self, run: ImportRun) -> None:
        end = "\r" if sys.stderr.isatty() else "\n"  # one updating line on a terminal
        self.stderr.write(
            f"{run.percent:3d}%  {run.incidents_done}/{run.incidents_total} incidents, "
            f"{run.events_created} events",
            ending=end,
        )
