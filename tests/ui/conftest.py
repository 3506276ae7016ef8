"""Fixtures of the UI tests: one instance and one real `lineage ui` server per module.

The server is the real command (``python -m lineage ui --port 0``) in its own
process, on an ephemeral loopback port; tests talk HTTP to it.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import lineage.instance as instance_module


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


@pytest.fixture(scope="session")
def ui_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    """An embedded instance filled by `ui_data.build`: (its folder, the uids)."""
    import ui_data as data

    import lineage as ln

    base = tmp_path_factory.mktemp("ui")
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("LINEAGE_") and name != "LINEAGE_TEST_POSTGRES_URL":
                mp.delenv(name)
        mp.setenv("LINEAGE_CONFIG_DIR", str(base / "config"))
        ln.init(storage=base / "instance")
        ids = data.build(base / "work")
        instance_module.close()
    yield str(base / "instance"), ids


@pytest.fixture(scope="module")
def server(ui_data: tuple[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[UIServer]:
    """`lineage ui` serving `ui_data`."""
    running = start_ui(ui_data[0], env={"LINEAGE_CONFIG_DIR": str(tmp_path_factory.mktemp("c"))})
    yield running
    running.stop()


@pytest.fixture(scope="session")
def ids(ui_data: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """Uids of the records `ui_data` made."""
    return ui_data[1]


def here() -> Path:
    """This folder."""
    return Path(__file__).parent
