import time

from django.core.management.base import BaseCommand

from desk.demo import DEMO_PASSWORD, demo_load
from desk.demo_history import COUNT, demo_history_load


class Command(BaseCommand):
    help = (
        "Load the demo tenants (acme, globex), their users and acme's last 90 days of work "
        "(a few hundred incidents in every state, written through the services). --empty loads "
        "the tenants and users only. Running it twice changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--empty", action="store_true", help="Tenants and users only: no incidents."
        )
        parser.add_argument(
            "--incidents", type=int, default=COUNT, help=f"How many (default {COUNT})."
        )

    def handle(self, *args, empty: bool = False, incidents: int = COUNT, **options) -> None:
        emails = demo_load()
        self.stdout.write("Demo tenants: acme (Acme Corporation), globex (Globex Inc.)")
        if not empty:
            started = time.monotonic()
            written = demo_history_load(count=incidents)
            took = time.monotonic() - started
            if written:
                self.stdout.write(f"acme's last 90 days: {written} incidents in {took:.1f} s")
            else:
                self.stdout.write("acme has incidents already: its history is left as it is.")
        self.stdout.write(f"Demo users (password {DEMO_PASSWORD}, for the demo only):")
        for email in emails:
            self.stdout.write(f"  {email}")
