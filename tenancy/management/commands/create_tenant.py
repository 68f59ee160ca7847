from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug
from django.core.exceptions import ValidationError

from tenancy.models import Tenant
from tenancy.services import tenant_create


class Command(BaseCommand):
    help = "Create a tenant (organisation) with the default priority matrix and resolution codes."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", required=True)
        parser.add_argument("--time-zone", default="UTC")

    def handle(self, *args, slug: str, name: str, time_zone: str, **options) -> None:
        try:
            validate_slug(slug)
        except ValidationError:
            raise CommandError(f"{slug!r} is not a valid slug: use letters, digits, - and _.")
        if Tenant.objects.filter(slug=slug).exists():
            raise CommandError(f"A tenant with slug {slug!r} already exists.")
        tenant = tenant_create(slug=slug, name=name, time_zone=time_zone)
        self.stdout.write(f"Created tenant {tenant.slug} ({tenant.name}).")
