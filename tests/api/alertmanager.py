"""A real Prometheus Alertmanager (Debian's prometheus-alertmanager) on a free loopback port,
with a throwaway configuration whose one webhook receiver is the desk under test."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

CONFIG = """\
global:
  resolve_timeout: 5s
route:
  receiver: desk
  group_by: ['alertname']
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: desk
    webhook_configs:
      - url: "{url}"
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: "{key}"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Alertmanager:
    def __init__(self, url: str) -> None:
        self.url = url

    def post_alerts(self, alerts: list[dict]) -> int:
        """Alertmanager's own API, as Prometheus sends: POST /api/v2/alerts."""
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status


@contextmanager
def alertmanager(tmp: Path, webhook_url: str, key: str) -> Iterator[Alertmanager]:
    assert BINARY, "install the Debian package prometheus-alertmanager (.ci/run does)"
    config = tmp / "alertmanager.yml"
    config.write_text(CONFIG.format(url=webhook_url, key=key))
    port = free_port()
    log = (tmp / "alertmanager.log").open("w")
    process = subprocess.Popen(
        [
            BINARY,
            f"--config.file={config}",
            f"--storage.path={tmp / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # one instance: no gossip, no peers to wait for
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, tmp / "alertmanager.log")
        yield Alertmanager(url)
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"alertmanager exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"alertmanager not ready in 20 s: {log.read_text()[-2000:]}")
