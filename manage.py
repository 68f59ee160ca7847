#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    # A command works across tenants (migrations, the mail intake, imports): the tenant wall is
    # opened, by name, for it (tenancy/rls.py). The web server's requests set their own.
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    os.environ.setdefault("DESK_RLS_DEFAULT", f"bypass:command {command}")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
