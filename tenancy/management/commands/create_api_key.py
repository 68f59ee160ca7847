from django.core.management.base import BaseCommand, CommandError

from tenancy.apikeys import api_key_create
from tenancy.errors import InvalidInput
from tenancy.models import Tenant


class Command(BaseCommand):
    help = "Create an API key for a tenant. The key is printed once, alone on the last line."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", required=True, help="tenant slug")
        parser.add_argument("--name", required=True, help="which integration uses the key")
        parser.add_argument("--scopes", default="read,write", help="comma list of read,write,admin")

    def handle(self, *args, tenant: str, name: str, scopes: str, **options) -> None:
        found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        try:
            key, secret = api_key_create(tenant=found, name=name, scopes=scopes.split(","))
        except InvalidInput as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Created key {key.name!r} for {found.slug} with scopes {key.scopes}.")
        self.stdout.write("Store it now: it is not shown again.")
        self.stdout.write(secret)
