"""Fixtures for the storage tests: local stores, a real moto S3 server, faults.

Nothing is mocked: S3 tests talk HTTP to a standalone moto server started once
per session, and network faults come from a real TCP proxy that can be cut.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pytest

from lineage.storage.local import LocalStore
from lineage.testing import S3_TEST_ENV, moto_server

FAST_FAIL = {"retries": {"max_attempts": 1}, "connect_timeout": 2}
"""botocore settings for tests that expect a failure: no retry rounds."""


@pytest.fixture(scope="session")
def s3_env() -> Iterator[None]:
    """Dummy AWS credentials for the whole session (moto accepts any)."""
    saved = {name: os.environ.get(name) for name in (*S3_TEST_ENV, "AWS_PROFILE")}
    os.environ.update(S3_TEST_ENV)
    os.environ.pop("AWS_PROFILE", None)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def moto_url(s3_env: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a moto S3 server running for the whole session."""
    with moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


@pytest.fixture
def s3_client(moto_url: str):
    import boto3

    return boto3.client("s3", endpoint_url=moto_url)


@pytest.fixture
def bucket(s3_client) -> str:
    """A new, empty bucket."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_store(moto_url: str, bucket: str):
    """An FsspecStore at ``s3://<new bucket>/prefix`` with 5 MiB multipart parts."""
    from lineage.storage.fsspec_store import FsspecStore

    store = FsspecStore(
        f"s3://{bucket}/prefix",
        storage_options={"endpoint_url": moto_url},
        multipart_chunksize=5 << 20,
    )
    store.check()
    return store


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    """A durable LocalStore in a fresh folder."""
    store = LocalStore(tmp_path / "store")
    store.check()
    return store


def write_random(path: Path, size: int) -> Path:
    """Write ``size`` random bytes to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        remaining = size
        while remaining:
            n = min(remaining, 8 << 20)
            f.write(os.urandom(n))
            remaining -= n
    return path


RandomFile = Callable[[str | Path, int], Path]


@pytest.fixture
def random_file(tmp_path: Path) -> RandomFile:
    """Write a file of random bytes (relative names go under ``tmp_path``)."""
    return lambda name, size: write_random(tmp_path / name, size)


class CuttableProxy:
    """A TCP proxy in front of a server; `cut` drops all traffic for good.

    With ``cut_after`` set, the proxy cuts itself once that many bytes went
    from clients to the server: a network failure in the middle of an upload.
    """

    def __init__(self, target_port: int, cut_after: int | None = None) -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.sent = 0
        self.is_cut = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.is_cut.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, upstream: bool) -> None:
        try:
            while not self.is_cut.is_set():
                data = src.recv(1 << 16)
                if not data:
                    break
                if upstream:
                    with self._lock:
                        self.sent += len(data)
                        over = self.cut_after is not None and self.sent >= self.cut_after
                    if over:
                        self.cut()
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Close every connection and stop accepting new ones."""
        self.is_cut.set()
        self._listener.close()
        with self._lock:
            for s in self._sockets:
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
