"""Settings come from the environment: bad values stop the desk with a clear message, and a
production environment passes Django's deployment checks."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from servicedesk.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
# What docs/deployment.md asks of a production deployment served over HTTPS.
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "desk.example.com",
    "HTTPS": "1",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only what a deployment would have: none of the test run's own variables leak in.
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**base, "PYTHONPATH": str(BASE_DIR), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_production_environment_passes_the_deploy_check():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_refuses_the_built_in_development_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W009" in result.stderr


def test_the_deploy_check_asks_for_https_when_it_is_off():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**PRODUCTION, "HTTPS": "0"}
    )
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr


def test_a_bad_value_stops_the_desk_naming_the_variable():
    result = _manage("check", env={"EMAIL_PORT": "twenty-five"})
    assert result.returncode != 0
    assert "EMAIL_PORT must be a whole number; got 'twenty-five'" in result.stderr


@pytest.mark.parametrize("raw", ["1", "true", "Yes", " on "])
def test_envbool_reads_the_usual_words_for_true(monkeypatch, raw):
    monkeypatch.setenv("SD_FLAG", raw)
    assert envbool("SD_FLAG") is True


@pytest.mark.parametrize("raw", ["0", "false", "NO", "off", ""])
def test_envbool_reads_the_usual_words_for_false(monkeypatch, raw):
    monkeypatch.setenv("SD_FLAG", raw)
    assert envbool("SD_FLAG", True) is False


def test_envbool_refuses_anything_else_naming_the_variable(monkeypatch):
    monkeypatch.setenv("SD_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SD_FLAG must be one of .*got 'maybe'"):
        envbool("SD_FLAG")


def test_unset_variables_take_their_defaults(monkeypatch):
    monkeypatch.delenv("SD_UNSET", raising=False)
    assert envbool("SD_UNSET", True) is True
    assert envint("SD_UNSET", 7) == 7
    assert envstr("SD_UNSET", "x") == "x"
    assert envlist("SD_UNSET", "a, b") == ["a", "b"]


def test_envint_reads_whole_numbers_and_treats_blank_as_unset(monkeypatch):
    monkeypatch.setenv("SD_NUMBER", "42")
    assert envint("SD_NUMBER", 0) == 42
    monkeypatch.setenv("SD_NUMBER", "  ")
    assert envint("SD_NUMBER", 5) == 5


def test_envint_refuses_words_and_fractions(monkeypatch):
    for raw in ("ten", "1.5"):
        monkeypatch.setenv("SD_NUMBER", raw)
        with pytest.raises(
            ImproperlyConfigured, match=f"SD_NUMBER must be a whole number; got '{raw}'"
        ):
            envint("SD_NUMBER", 0)


def test_envint_refuses_a_value_below_its_minimum(monkeypatch):
    monkeypatch.setenv("SD_NUMBER", "-1")
    with pytest.raises(ImproperlyConfigured, match="SD_NUMBER must be at least 0; got -1"):
        envint("SD_NUMBER", 0, minimum=0)


def test_envlist_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("SD_LIST", " desk.example.com, ,localhost,")
    assert envlist("SD_LIST") == ["desk.example.com", "localhost"]


def _variables_read_by_settings() -> set[str]:
    import re

    source = (BASE_DIR / "servicedesk" / "settings.py").read_text()
    return set(re.findall(r'env(?:str|bool|int|list)\(\s*"([A-Z0-9_]+)"', source))


def test_every_variable_the_settings_read_is_documented_and_in_env_example():
    variables = _variables_read_by_settings()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ATTACHMENT_ALLOWED_TYPES"} <= variables
    docs = (BASE_DIR / "docs" / "configuration.md").read_text()
    example = (BASE_DIR / ".env.example").read_text()
    assert sorted(v for v in variables if f"`{v}`" not in docs) == []
    assert sorted(v for v in variables if f"{v}=" not in example) == []


def test_a_broker_url_of_another_kind_stops_the_desk_naming_the_variable():
    result = _manage("check", env={"CELERY_BROKER_URL": "sqs://key:hush-hush@queue.example.com"})
    assert result.returncode != 0
    assert "CELERY_BROKER_URL must start with amqp:// or amqps:// (RabbitMQ)" in result.stderr
    assert "got sqs://" in result.stderr
    assert "hush-hush" not in result.stderr  # a password in the URL is not repeated


_BROKER_SETTINGS = """
import json
from django.conf import settings
from servicedesk.celery import app
print(json.dumps({
    "broker": app.conf.broker_url,
    "cache": settings.CACHES["presence"]["LOCATION"],
    "confirm": app.conf.broker_transport_options.get("confirm_publish"),
    "queues": {
        name: [q.exchange.type, q.routing_key, q.queue_arguments]
        for name, q in app.amqp.queues.items()
    },
}))
"""


def test_celery_broker_url_names_rabbitmq_while_redis_stays_the_cache():
    env = {"REDIS_URL": "redis://cache.internal:6379/0", "CELERY_BROKER_URL": "amqp://d:pw@mq//"}
    result = _manage("shell", "-c", _BROKER_SETTINGS, env=env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["broker"] == "amqp://d:pw@mq//"
    assert seen["cache"] == "redis://cache.internal:6379/0"
    assert seen["confirm"] is True  # publisher confirms: a trigger sent is a trigger kept
    # Quorum queues on topic exchanges, as Celery's native delayed delivery needs them.
    quorum = {"x-queue-type": "quorum"}
    assert seen["queues"] == {
        name: ["topic", name, quorum] for name in ("celery", "delivery", "delivery_bulk", "timers")
    }


def test_without_celery_broker_url_redis_is_the_broker_as_before():
    result = _manage("shell", "-c", _BROKER_SETTINGS, env={"REDIS_URL": "redis://r:6379/3"})
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["broker"] == "redis://r:6379/3"
    assert seen["confirm"] is None
    assert all(arguments is None for _, _, arguments in seen["queues"].values())
