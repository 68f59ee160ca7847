"""The benchmarks' throwaway PostgreSQL database (`<name>_bench` next to DATABASE_URL's), Django
set up on it, and raw SQL helpers. The scripts run as `python bench/<script>.py`, so Python puts
bench/ on the path and they import this as `dbsetup`."""

from __future__ import annotations

import os
from urllib.parse import urlparse, urlunparse


def bench_url(url: str) -> tuple[str, str, str]:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/") + "_bench"
    return (
        urlunparse(parsed._replace(path="/" + name)),
        urlunparse(parsed._replace(path="/postgres")),
        name,
    )


def recreate(admin_url: str, name: str, drop_only: bool = False) -> None:
    import psycopg2

    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not drop_only:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    # Filling tenants is a system job; the requests measured set their own scope (tenancy/rls.py).
    os.environ.setdefault("DESK_RLS_DEFAULT", "bypass:benchmark set-up")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def sql(statement: str, params=None) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(statement, params if params is not None else ())
        return cur.rowcount


def one(statement: str, params=None):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(statement, params if params is not None else ())
        return cur.fetchone()
