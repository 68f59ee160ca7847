from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug

from tenancy.errors import Refusal
from tenancy.models import Tenant
from tenancy.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant (organisation) with the default priority matrix and resolution codes."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="The tenant's address: /t/<slug>/")
        parser.add_argument("--name", required=True, help="The organisation's name")
        parser.add_argument("--time-zone", default="UTC", help="e.g. Europe/London (default UTC)")

    def handle(self, *args, slug: str, name: str, time_zone: str, **options) -> None:
        try:
            validate_slug(slug)
        except ValidationError as exc:
            raise CommandError(
                f"{slug!r} is not a valid slug: use letters, digits, - and _."
            ) from exc
        if not name.strip():
            raise CommandError("--name must not be empty.")
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(f"A tenant with slug {slug!r} already exists.")
        try:
            tenant = tenant_create(slug=slug, name=name.strip(), time_zone=time_zone)
        except Refusal as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Created tenant {tenant.slug} ({tenant.name}) at /t/{tenant.slug}/.")
