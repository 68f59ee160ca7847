"""docker-compose.yml cannot run here (no Docker): these tests read it and run the very commands
its services and health checks run, against the test database and the configured broker."""

from __future__ import annotations

import json
import os
import secrets
import signal
import smtplib
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import yaml

from mail.models import InboundMail, IntakeAddress
from tenancy.models import Tenant
from tests.escalation.worker import database_env, wait_until

BASE_DIR = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path: Path) -> dict[str, str]:
    """A production environment as .env.example describes it, on this machine's services."""
    bin_dir = str(Path(sys.executable).parent)
    return {
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "HOSTNAME": socket.gethostname(),
        "PYTHONPATH": str(BASE_DIR),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "desk.example.com,localhost",
        "HTTPS": "1",
        "BEHIND_PROXY": "1",
        "VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        **({"REDIS_URL": os.environ["REDIS_URL"]} if os.environ.get("REDIS_URL") else {}),
        **database_env(),
    }


def _start(command: list[str], env: dict[str, str], tmp_path: Path, name: str):
    log = (tmp_path / f"{name}.log").open("wb")
    process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, tmp_path / f"{name}.log"


def _stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def _get(url: str, **headers: str) -> tuple[int, str, dict]:
    request = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_compose_has_the_five_services_each_with_its_health_check():
    assert {"postgres", "redis", "web", "worker", "timers", "beat"} <= set(SERVICES)
    assert "pg_isready" in " ".join(SERVICES["postgres"]["healthcheck"]["test"])
    assert SERVICES["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert "/readyz" in " ".join(SERVICES["web"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(SERVICES["worker"]["healthcheck"]["test"])
    assert "inspect ping" in " ".join(SERVICES["timers"]["healthcheck"]["test"])
    # The SLA timers wait in a queue of their own, never behind deliveries (issue 16).
    assert "-Q" in SERVICES["timers"]["command"] and "timers" in SERVICES["timers"]["command"]
    assert (
        "timers" not in SERVICES["worker"]["command"][SERVICES["worker"]["command"].index("-Q") + 1]
    )
    # `--scale worker=N` needs a worker with no fixed name and no published port.
    assert "container_name" not in SERVICES["worker"] and "ports" not in SERVICES["worker"]
    for name in ("web", "worker", "beat"):
        assert (
            SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )


def test_the_rabbitmq_profile_runs_a_broker_the_desk_services_wait_for():
    rabbitmq = SERVICES["rabbitmq"]
    assert rabbitmq["profiles"] == ["rabbitmq"]  # off unless `--profile rabbitmq`
    assert rabbitmq["image"].startswith("rabbitmq:")
    assert "rabbitmq-diagnostics" in rabbitmq["healthcheck"]["test"]
    assert any(volume.endswith(":/var/lib/rabbitmq") for volume in rabbitmq["volumes"])
    # The queues live in the volume under the node's name: a fixed hostname keeps it.
    assert rabbitmq["hostname"] == "rabbitmq"
    # .env's CELERY_BROKER_URL reaches every desk service; empty, Redis stays the broker.
    assert SERVICES["web"]["environment"]["CELERY_BROKER_URL"] == "${CELERY_BROKER_URL:-}"
    for name in ("web", "worker", "timers", "beat", "mail"):
        waits = SERVICES[name]["depends_on"]["rabbitmq"]
        assert waits == {"condition": "service_healthy", "required": False}


def test_the_image_is_built_on_python_311_slim():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert dockerfile.splitlines()[1] == "FROM python:3.11-slim"


def test_the_web_command_serves_the_probes_and_its_health_check_passes(transactional_db, tmp_path):
    port = _free_port()
    command = [
        arg.replace("0.0.0.0:8000", f"127.0.0.1:{port}") for arg in SERVICES["web"]["command"]
    ]
    assert command[0] == "gunicorn"
    env = _env(tmp_path)
    web, log = _start(command, env, tmp_path, "web")
    try:
        base = f"http://localhost:{port}"
        wait_until(lambda: _answers(f"{base}/healthz"), timeout=30, what="gunicorn to answer")
        status, body, _ = _get(f"{base}/readyz")
        assert (status, json.loads(body)["checks"]) == (200, {"database": "ok", "broker": "ok"})
        # HTTPS=1 is in force for pages: plain HTTP is sent to https://, the probes are not.
        status, _, headers = _get(f"{base}/login/")
        assert status == 301 and headers["Location"].startswith("https://")
        check = [
            arg.replace(":8000/", f":{port}/") for arg in SERVICES["web"]["healthcheck"]["test"][1:]
        ]
        assert subprocess.run(check, env=env, timeout=30).returncode == 0
    finally:
        assert _stop(web) == 0, log.read_text()


def _answers(url: str) -> bool:
    try:
        return _get(url)[0] == 200
    except OSError:
        return False


def test_the_worker_timers_and_beat_commands_run_the_relay_together(transactional_db, tmp_path):
    # transactional_db: on SQLite a test transaction would hold the write lock the relay needs.
    env = {**_env(tmp_path), "NOTIFICATION_RELAY_INTERVAL_SECONDS": "1"}
    worker, worker_log = _start(SERVICES["worker"]["command"], env, tmp_path, "worker")
    timers, timers_log = _start(SERVICES["timers"]["command"], env, tmp_path, "timers")
    beat, beat_log = _start(SERVICES["beat"]["command"], env, tmp_path, "beat")
    try:
        for log, name in ((worker_log, "worker"), (timers_log, "timers")):
            wait_until(lambda log=log: " ready." in log.read_text(), timeout=60, what=name)
        wait_until(lambda: "beat: Starting" in beat_log.read_text(), timeout=60, what="beat")
        # beat sends the relay trigger at start; the timers worker runs it.
        wait_until(
            lambda: (
                "Task escalation.relay_notifications[" in timers_log.read_text()
                and "succeeded" in timers_log.read_text()
            ),
            timeout=180,  # beat and worker start slowly on a busy 2-core machine
            what="the relay run by the timers worker",
        )
        assert "Task escalation.relay_notifications[" not in worker_log.read_text()
        for name in ("worker", "timers"):
            check = SERVICES[name]["healthcheck"]["test"][1].replace("$$HOSTNAME", "$HOSTNAME")
            result = subprocess.run(check, shell=True, env=env, timeout=60, capture_output=True)
            assert result.returncode == 0, result.stdout + result.stderr
    finally:
        for process in (beat, timers, worker):
            _stop(process)


def test_the_mail_command_takes_mail_and_its_health_check_passes(transactional_db, tmp_path):
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    IntakeAddress.objects.create(tenant=tenant, address="help@acme.test")
    port = _free_port()
    command = [arg.replace("2525", str(port)) for arg in SERVICES["mail"]["command"]]
    assert command[:3] == ["python", "manage.py", "mail_intake"]
    command[0] = sys.executable
    mail, log = _start(command, _env(tmp_path), tmp_path, "mail")
    try:
        wait_until(lambda: "listening" in log.read_text(), timeout=30, what="the intake to listen")
        check = SERVICES["mail"]["healthcheck"]["test"][-1].replace("2525", str(port))
        assert subprocess.run([sys.executable, "-c", check], timeout=20).returncode == 0
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "x@example.com", "help@acme.test", "Hi"
        message.set_content("The VPN is down.")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(message)
        assert InboundMail.objects.filter(tenant=tenant, subject="Hi").count() == 1
    finally:
        assert _stop(mail) == 0, log.read_text()


def test_the_desk_goes_through_pgbouncer_in_transaction_pooling_and_migrations_go_direct():
    pooler = SERVICES["pgbouncer"]
    assert pooler["environment"]["POOL_MODE"] == "transaction"
    assert pooler["environment"]["DB_HOST"] == "postgres"
    assert "pg_isready" in " ".join(pooler["healthcheck"]["test"])
    for name in ("web", "worker", "timers", "beat", "mail"):
        environment = SERVICES[name]["environment"]
        assert "@pgbouncer:6432/" in environment["DATABASE_URL"], name
        # Server-side cursors off: a cursor can't outlive its transaction behind the pooler.
        assert environment["PGBOUNCER"] == "1", name
        assert SERVICES[name]["depends_on"]["pgbouncer"]["condition"] == "service_healthy", name
    migrate = SERVICES["migrate"]["environment"]
    assert "@postgres:5432/" in migrate["DATABASE_URL"] and "PGBOUNCER" not in migrate
