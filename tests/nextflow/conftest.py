"""Fixtures of the Nextflow tests: a real weblog receiver on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINEAGE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def receiver(instance: Any) -> Iterator[Callable[..., Any]]:
    """``receiver(token=None)``: start a `WeblogServer` on 127.0.0.1:0 in a thread; its URL."""
    from lineage.nextflow.weblog import WeblogServer

    servers = []

    def start(token: str | None = None) -> str:
        server = WeblogServer(("127.0.0.1", 0), token)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def instance_target(instance: Any, backend: str, request: pytest.FixtureRequest) -> str:
    """What `--instance` takes for the current instance: its folder or database URL."""
    if backend == "sqlite":
        return str(instance.root)
    return request.getfixturevalue("_postgres_instance_db")


class ReceiverProcess:
    """``python -m lineage nextflow weblog --port 0`` in its own process."""

    def __init__(self, target: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lineage", "nextflow", "weblog", "--port", "0",
             "--instance", target],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "listening at " in line:
                self.url = line.split("listening at ", 1)[1].split(" ", 1)[0]
                threading.Thread(target=lambda: lines.extend(self.proc.stdout),
                                 daemon=True).start()
                self.output = lines
                return
        self.proc.kill()
        raise RuntimeError("lineage nextflow weblog did not start:\n" + "".join(lines))

    def printed(self, text: str, timeout: float = 15) -> bool:
        """Whether the receiver printed a line containing `text` (waits up to `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in list(self.output)):
                return True
            time.sleep(0.05)
        return False

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(30)


@pytest.fixture
def receiver_process(instance_target: str) -> Iterator[Callable[[], ReceiverProcess]]:
    """``receiver_process()``: a receiver in a subprocess on the test's instance."""
    started: list[ReceiverProcess] = []

    def start() -> ReceiverProcess:
        process = ReceiverProcess(instance_target)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.kill()
