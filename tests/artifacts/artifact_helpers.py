"""Helpers shared by the artifact tests (a uniquely named module, not conftest)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import lineage as ln


REPO = Path(__file__).resolve().parents[2]


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


def _boto_credentials() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing",
            "region_name": "us-east-1"}


def bucket_keys(s3_client: Any, bucket: str) -> list[str]:
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


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

