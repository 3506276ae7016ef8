"""Test helpers for code that uses lineage (and for lineage's integrations).

`temporary_instance` gives a block its own instance and configuration, so a
test never writes to the user's default instance::

    from lineage.testing import temporary_instance

    def test_pipeline(tmp_path):
        with temporary_instance(tmp_path) as instance:
            run_my_pipeline()
            assert ln.Run.filter(status="errored").count() == 0

With pytest, ``pytest_plugins = ["lineage.testing"]`` in a ``conftest.py``
adds the fixtures ``lineage_instance`` (an embedded SQLite instance in the
test's temporary folder) and ``lineage_postgres_url`` (a new empty
PostgreSQL database on the server named by ``LINEAGE_TEST_POSTGRES_URL``,
dropped afterwards; the test is skipped when the variable is not set).

For lineage's own suites (the core's and each integration's, in their own
environments) it also starts a standalone moto S3 server (`start_moto`,
`moto_server`, `use_s3_endpoint`) and loads the docs runner of the source
checkout (`doc_snippets`). They live here, not in the core's tests/ folder,
because an integration's suite can import an installed module but not that
folder. Nothing runs at import: moto runs as ``python -m moto.server`` in a
process of its own (a test dependency, only needed when a server is started)
and s3fs is imported inside `use_s3_endpoint`.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

#: Environment variable naming the PostgreSQL server for tests.
POSTGRES_ENV = "LINEAGE_TEST_POSTGRES_URL"


@contextmanager
def temporary_instance(folder: str | os.PathLike[str], db: str | None = None) -> Iterator[Any]:
    """A new current instance under `folder`, with its own configuration directory.

    ``LINEAGE_*`` variables of the environment are hidden inside the block
    (except ``LINEAGE_TEST_POSTGRES_URL``), and restored afterwards with the
    previously current instance closed.

    Args:
        folder: Where the instance (its SQLite database and objects, or for a
            PostgreSQL instance its local objects) and the configuration go.
        db: A PostgreSQL URL for the metadata, or None for SQLite.
    """
    import lineage.instance as instance_module

    root = Path(folder)
    saved = {k: v for k, v in os.environ.items() if k.startswith("LINEAGE_") and k != POSTGRES_ENV}
    for name in saved:
        del os.environ[name]
    os.environ["LINEAGE_CONFIG_DIR"] = str(root / "lineage-config")
    try:
        instance = instance_module.init(storage=root / "lineage-instance", db=db)
        os.environ["LINEAGE_INSTANCE"] = instance.slug if db is None else db
        yield instance
    finally:
        instance_module.close()
        for name in [k for k in os.environ if k.startswith("LINEAGE_") and k != POSTGRES_ENV]:
            del os.environ[name]
        os.environ.update(saved)


@contextmanager
def temporary_postgres_database(server_url: str) -> Iterator[str]:
    """A new empty database on `server_url` (its URL), dropped afterwards."""
    import psycopg
    from urllib.parse import urlsplit, urlunsplit

    admin = server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    name = f"lineage_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(admin)._replace(path="/" + name))
    finally:
        import lineage.instance as instance_module

        instance_module.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- S3 on loopback (moto) -----------------------------------------------------------------
#: Credentials and region for a moto server (it accepts any credentials).
S3_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto(log_dir: str | os.PathLike[str],
               timeout: float = 30) -> tuple[subprocess.Popen[bytes], str]:
    """Start a standalone moto S3 server on a free loopback port: (process, URL).

    The server's output goes to ``moto-<port>.log`` in `log_dir`. Stop it
    with `stop_process`.

    Raises:
        RuntimeError: The server exited or did not answer within `timeout` seconds.
    """
    port = free_port()
    log_path = Path(log_dir) / f"moto-{port}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"moto server exited with {proc.returncode}; see {log_path}") from None
            if time.monotonic() > deadline:
                stop_process(proc)
                raise RuntimeError(
                    f"moto server did not start within {timeout:g} s; see {log_path}") from None
            time.sleep(0.05)


def stop_process(proc: subprocess.Popen[Any], timeout: float = 5) -> None:
    """Terminate a process a test started (killed if it does not end within `timeout` s)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def moto_server(log_dir: str | os.PathLike[str]) -> Iterator[str]:
    """A standalone moto S3 server for the block (its URL), stopped afterwards."""
    proc, url = start_moto(log_dir)
    try:
        yield url
    finally:
        stop_process(proc)


def use_s3_endpoint(monkeypatch: Any, url: str, **variables: str) -> None:
    """Point botocore, and so s3fs, at `url` until the test ends.

    Sets `S3_TEST_ENV` and ``AWS_ENDPOINT_URL`` (and `variables`, such as
    ``AWS_MAX_ATTEMPTS="1"``) with pytest's `monkeypatch`, hides
    ``AWS_PROFILE`` and empties s3fs's cache of file systems. Subprocesses
    inherit the variables.
    """
    for name, value in {**S3_TEST_ENV, "AWS_ENDPOINT_URL": url, **variables}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()


# --- the docs runner of a source checkout ---------------------------------------------------
def doc_snippets() -> ModuleType:
    """The runner of the code blocks of docs/*.md (tests/docs/doc_snippets.py), loaded once.

    It belongs to the source checkout lineage is imported from (an editable
    install, as in the integrations' suites); it is registered as the module
    ``doc_snippets``, the name the core's docs tests import it by.

    Raises:
        FileNotFoundError: lineage is not imported from a source checkout.
    """
    path = Path(__file__).resolve().parents[1] / "tests" / "docs" / "doc_snippets.py"
    loaded = sys.modules.get("doc_snippets")
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() == path:
        return loaded
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: the docs runner needs lineage installed "
                                "from its source checkout (pip install -e)")
    spec = importlib.util.spec_from_file_location("doc_snippets", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["doc_snippets"] = module
    spec.loader.exec_module(module)
    return module


# --- pytest plugin -------------------------------------------------------------------------
try:
    import pytest
except ImportError:  # pragma: no cover - the plugin part needs pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def lineage_instance(tmp_path: Path) -> Iterator[Any]:
        """An embedded instance of its own for one test."""
        with temporary_instance(tmp_path) as instance:
            yield instance

    @pytest.fixture
    def lineage_postgres_url() -> Iterator[str]:
        """The URL of a new empty PostgreSQL database (skips without LINEAGE_TEST_POSTGRES_URL)."""
        server = os.environ.get(POSTGRES_ENV)
        if not server:
            pytest.skip(f"{POSTGRES_ENV} is not set")
        with temporary_postgres_database(server) as url:
            yield url
