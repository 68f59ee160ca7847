"""`manage.py mail_intake`: run the SMTP intake until stopped (Procfile: mail)."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from mail.intake import intake_controller


class Command(BaseCommand):
    help = "Receive mail for the tenants' intake addresses over SMTP."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.MAIL_INTAKE_HOST)
        parser.add_argument("--port", type=int, default=settings.MAIL_INTAKE_PORT)

    def handle(self, *args, host: str, port: int, **options):
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        controller = intake_controller(host, port)
        controller.start()
        self.stdout.write(f"Mail intake listening on {host}:{port}", ending="\n")
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            controller.stop()
