from django.core.management.base import BaseCommand

from desk.demo import DEMO_PASSWORD, demo_load


class Command(BaseCommand):
    help = "Load the demo tenants (acme, globex) and their users. Running it twice changes nothing."

    def handle(self, *args, **options) -> None:
        emails = demo_load()
        self.stdout.write("Demo tenants: acme (Acme Corporation), globex (Globex Inc.)")
        self.stdout.write(f"Demo users (password {DEMO_PASSWORD}, for the demo only):")
        for email in emails:
            self.stdout.write(f"  {email}")
