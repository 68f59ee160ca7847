"""gunicorn's settings for the desk's web process. The Procfile (`make run`), docker-compose and
the Dockerfile all start `gunicorn servicedesk.wsgi` in the project folder, where gunicorn reads
this file by itself; its command-line options win over it.

Bounded on purpose: at most WEB_CONCURRENCY x GUNICORN_THREADS requests at once per web process
group, and as many database connections (one per thread, kept between requests), so a burst
queues at the socket instead of exhausting PostgreSQL's max_connections (docs/deployment.md
counts every process's connections).
"""

import os


def _whole(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1; got {raw!r}")
    return int(raw)


# Worker processes: CPU-bound work (templates, JSON) runs in parallel across them.
workers = _whole("WEB_CONCURRENCY", 2)
# Threads per worker (gunicorn's gthread worker): requests waiting on the database overlap.
threads = _whole("GUNICORN_THREADS", 4)
# A request still running after this many seconds is stopped and its worker replaced.
timeout = _whole("GUNICORN_TIMEOUT", 30)
