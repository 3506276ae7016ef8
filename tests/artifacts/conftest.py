"""Fixtures for the artifact tests: runs, children that fail for real, moto S3.

Faults are real: child processes hit ``RLIMIT_FSIZE`` or get killed by
``SIGXFSZ``, storage folders are made immutable with ``chattr +i``, an
unprivileged child (``runuser -u nobody``) cannot read a file, and S3
requests go to a standalone moto server, through a proxy that can answer
with errors.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import lineage as ln

REPO = Path(__file__).resolve().parents[2]
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep downloads and data-frame files of PostgreSQL instances out of the home folder."""
    monkeypatch.setenv("LINEAGE_CACHE_DIR", str(tmp_path / "cache"))


# --- state of an instance: rows, objects, temporaries ---------------------------------
def all_rows() -> list[tuple]:
    """(uid, key, storage_ongoing, object_key) of every artifact row, hidden ones included."""
    from lineage.instance import current_instance

    return current_instance().db.query(
        "SELECT uid, key, storage_ongoing, object_key FROM artifact ORDER BY id")


def link_count(table: str) -> int:
    from lineage.instance import current_instance

    return current_instance().db.query(f"SELECT COUNT(*) FROM {table}")[0][0]


def stored_keys(store: Any | None = None) -> list[str]:
    """Keys of all stored objects of a store (default: the current default storage)."""
    from lineage.instance import current_instance

    store = store or current_instance().store()
    return list(store.list_keys("objects/"))


def temporaries(store: Any | None = None) -> list[Any]:
    from lineage.instance import current_instance

    store = store or current_instance().store()
    return store.list_temporaries()


def assert_no_trace(store: Any | None = None, before: tuple[list, list] | None = None) -> None:
    """No flagged row, no temporary, and rows/objects as `before` (default: none)."""
    rows = all_rows()
    keys = stored_keys(store)
    assert not [r for r in rows if r[2]], f"flagged rows left: {rows}"
    assert temporaries(store) == []
    if before is None:
        assert rows == [], rows
        assert keys == [], keys
    else:
        assert rows == before[0]
        assert keys == before[1]


def snapshot(store: Any | None = None) -> tuple[list, list]:
    return all_rows(), stored_keys(store)


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def write_random(path: Path, size: int, seed: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if seed is None:
        with open(path, "wb") as f:
            remaining = size
            while remaining:
                n = min(remaining, 8 << 20)
                f.write(os.urandom(n))
                remaining -= n
    else:
        import numpy as np

        rng = np.random.default_rng(seed)
        path.write_bytes(rng.bytes(size))
    return path


# --- runs -----------------------------------------------------------------------------
@pytest.fixture
def make_run(instance: Any) -> Iterator[Callable[..., Any]]:
    """Start a run (through the lifecycle) and make it current: ``with make_run() as run``."""
    from contextlib import contextmanager

    from lineage import lifecycle

    transform = lifecycle.get_or_create_transform(f"t_{uuid.uuid4().hex[:6]}.py", "print(1)")

    @contextmanager
    def start(projects: Any = ()) -> Iterator[Any]:
        run = lifecycle.start_run(transform, projects=projects, environment=False)
        activation = lifecycle.activate(run)
        try:
            yield run
        finally:
            lifecycle.deactivate(activation)
            lifecycle.finish_run(run, "completed")

    yield start


# --- child processes --------------------------------------------------------------------
def instance_target(instance: Any) -> str:
    return str(instance.root) if instance.root else instance.db.url


def run_child(instance: Any, code: str, *, env: dict[str, str] | None = None,
              preexec: Callable[[], None] | None = None, user: str | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter connected to `instance`.

    The code can print one line of JSON (``RESULT {...}``) for the test.
    """
    if instance is not None and instance.db.is_sqlite:
        # Start the child with an empty WAL, so a file-size limit hits the object write.
        import sqlite3

        raw = sqlite3.connect(instance.db.sqlite_path)
        try:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    if instance is not None:
        full_env["LINEAGE_INSTANCE"] = instance_target(instance)
    prefix = ["runuser", "-u", user, "--"] if user else []
    return subprocess.run(
        [*prefix, sys.executable, "-c", textwrap.dedent(code)], env=full_env, cwd=str(REPO),
        capture_output=True, text=True, timeout=timeout, preexec_fn=preexec, check=False,
    )


def child_result(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise AssertionError(f"child printed no result (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def reconnect(instance: Any) -> Any:
    """Connect this process to `instance` again (after a child used it)."""
    return ln.connect(instance_target(instance))


# --- immutable folders --------------------------------------------------------------------
@pytest.fixture
def immutable() -> Iterator[Callable[[Path], None]]:
    """``immutable(path)``: ``chattr +i`` until the end of the test."""
    done: list[Path] = []

    def make(path: Path) -> None:
        subprocess.run(["chattr", "+i", str(path)], check=True)
        done.append(path)

    yield make
    for path in done:
        subprocess.run(["chattr", "-i", str(path)], check=False)


# --- S3 -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a standalone moto S3 server on loopback, for the session."""
    port = free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto server did not start") from None
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def s3_client(moto_server: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=moto_server, **_boto_credentials())


def _boto_credentials() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
            "region_name": "us-east-1"}


def use_s3_endpoint(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """Point botocore (and so s3fs) at `url` via ``AWS_ENDPOINT_URL``."""
    for name, value in S3_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture
def bucket(s3_client: Any) -> str:
    name = f"lineage-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


def bucket_keys(s3_client: Any, bucket: str) -> list[str]:
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


@pytest.fixture
def s3_instance(instance: Any, moto_server: str, bucket: str,
                monkeypatch: pytest.MonkeyPatch) -> Any:
    """The `instance` with its default storage at ``s3://<new bucket>/prefix``."""
    use_s3_endpoint(monkeypatch, moto_server)
    ln.settings.storage = f"s3://{bucket}/prefix"
    return instance


class FaultProxy:
    """An HTTP proxy in front of moto that can answer requests with errors.

    ``fail_object_puts_after = n``: the first n object PUTs pass, later ones
    get ``error`` (an HTTP status and an S3 error code).
    """

    def __init__(self, target: str) -> None:
        self.target = target.split("://", 1)[1]
        self.fail_object_puts_after: int | None = None
        self.error = (500, "InternalError")
        self.fail_everything_after_failure = False
        self.object_puts = 0
        self.failed = False
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                body = self._body()
                if proxy.should_fail(self.command, self.path):
                    status, code = proxy.error
                    payload = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                               f"<Message>injected by the test</Message></Error>").encode()
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("transfer-encoding", "content-length", "connection")}
                headers["Content-Length"] = str(len(body))
                conn = http.client.HTTPConnection(proxy.target, timeout=60)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                finally:
                    conn.close()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)) if self.command != "HEAD"
                                 else resp.getheader("Content-Length", "0"))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def should_fail(self, method: str, path: str) -> bool:
        with self._lock:
            self.requests.append((method, path))
            if self.failed and self.fail_everything_after_failure:
                return True
            if method != "PUT" or self.fail_object_puts_after is None:
                return False
            segments = [s for s in path.split("?")[0].split("/") if s]
            if len(segments) < 2:  # a bucket, not an object
                return False
            if self.object_puts < self.fail_object_puts_after:
                self.object_puts += 1
                return False
            self.failed = True
            return True

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fault_proxy(moto_server: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(moto_server)
    yield proxy
    proxy.close()


@pytest.fixture
def proxied_s3_instance(instance: Any, fault_proxy: FaultProxy, bucket: str,
                        monkeypatch: pytest.MonkeyPatch) -> Any:
    """The `instance` with its default storage on moto behind `fault_proxy`."""
    use_s3_endpoint(monkeypatch, fault_proxy.url)
    ln.settings.storage = f"s3://{bucket}/prefix"
    return instance
