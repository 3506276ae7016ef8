"""Helpers of the UI tests: a real ``lineage ui`` process and HTTP answers from it.

Imported by name (``from ui_helpers import start_ui``), unlike `conftest`, whose
name is shared by every test folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Reply:
    """One HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class UIServer:
    """A running ``lineage ui`` process."""

    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url.rstrip("/")
        self.output: list[str] = []

    def get(self, path: str, headers: dict[str, str] | None = None, method: str = "GET") -> Reply:
        request = urllib.request.Request(self.url + path, headers=headers or {}, method=method)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=30) as response:
                return Reply(response.status, {k.lower(): v for k, v in response.headers.items()},
                             response.read())
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())

    def api(self, path: str) -> Any:
        reply = self.get(path)
        assert reply.status == 200, (path, reply.status, reply.body[:500])
        return reply.json()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def start_ui(target: str, *args: str, env: dict[str, str] | None = None,
             timeout: float = 60) -> UIServer:
    """Start ``lineage ui --port 0 --instance TARGET ARGS`` and wait until it serves."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lineage", "ui", "--port", "0", "--instance", target, *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, **(env or {})})
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "lineage ui: serving" in line:
            url = line.split(" at ", 1)[1].split(" ", 1)[0]
            server = UIServer(proc, url)
            server.output = lines
            threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
            return server
    proc.kill()
    raise RuntimeError("lineage ui did not start:\n" + "".join(lines))


def here() -> Path:
    """The folder of the UI tests."""
    return Path(__file__).parent

