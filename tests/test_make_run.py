"""`make run` serves the port asked for, and the links in its mails point there too."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _honcho_env(*args: str, site_url: str | None = None) -> dict[str, str]:
    """The variables `make run` (dry run) starts the Procfile's processes with."""
    env = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "PORT", "MAKEFLAGS"}}
    if site_url is not None:
        env["SITE_URL"] = site_url
    commands = subprocess.run(
        ["make", "-n", "run", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True
    ).stdout
    line = next(line for line in commands.splitlines() if "honcho start" in line)
    return dict(re.findall(r"(\w+)=(\S+)", line.split("honcho", 1)[0]))


def test_mail_links_follow_the_port_make_run_serves():
    assert _honcho_env("PORT=9000") == {"PORT": "9000", "SITE_URL": "http://127.0.0.1:9000"}


def test_the_default_port_gives_the_default_site_url():
    assert _honcho_env()["SITE_URL"] == "http://127.0.0.1:8000"


def test_a_site_url_given_wins_over_the_port():
    given = "https://desk.example.com"
    assert _honcho_env("PORT=9000", site_url=given)["SITE_URL"] == given
    assert _honcho_env("PORT=9000", f"SITE_URL={given}")["SITE_URL"] == given
