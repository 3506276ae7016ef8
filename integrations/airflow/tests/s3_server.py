"""A standalone moto S3 server on loopback for the S3 asset tests, and pointing botocore at it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
          "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto(log_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``python -m moto.server`` on an ephemeral port; the process and its URL."""
    port = _free_port()
    log = open(log_dir / "moto.log", "wb")  # noqa: SIM115 - closed once handed over
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"moto server did not start; see {log.name}") from None
            time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server this suite started."""
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def use_endpoint(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Point botocore (and so s3fs, in this process and the task's subprocesses) at `url`."""
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
