"""Shared fixtures: isolated configuration and an instance per backend.

``instance`` is parametrized over SQLite and PostgreSQL. PostgreSQL runs
when ``LINEAGE_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it and fails if
the server is unreachable); locally without it those tests are skipped.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import lineage.instance as instance_module

POSTGRES_URL = os.environ.get("LINEAGE_TEST_POSTGRES_URL")
_TABLES_KEPT = {"lineage_instance"}


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own config dir and no inherited lineage variables."""
    for name in list(os.environ):
        if name.startswith("LINEAGE_") and name not in ("LINEAGE_TEST_POSTGRES_URL",):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LINEAGE_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    yield
    instance_module.close()


def _admin_connect(url: str):  # noqa: ANN202 - psycopg type only when installed
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


def _with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of the test PostgreSQL server (skips when not configured)."""
    if not POSTGRES_URL:
        pytest.skip("LINEAGE_TEST_POSTGRES_URL is not set (CI sets it)")
    with _admin_connect(POSTGRES_URL) as conn:  # fails loudly when unreachable
        conn.execute("SELECT 1")
    return POSTGRES_URL


@pytest.fixture
def fresh_postgres_db(postgres_server: str) -> Iterator[str]:
    """URL of a new empty PostgreSQL database, dropped afterwards."""
    name = f"lineage_test_{uuid.uuid4().hex[:12]}"
    with _admin_connect(postgres_server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_database(postgres_server, name)
    instance_module.close()
    with _admin_connect(postgres_server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _postgres_instance_db(postgres_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database for the session; tests truncate it."""
    name = f"lineage_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with _admin_connect(postgres_server) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(postgres_server, name)
    yield url
    instance_module.close()
    with _admin_connect(postgres_server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate(url: str) -> None:
    with _admin_connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()]
        tables = [t for t in tables if t not in _TABLES_KEPT and t != "alembic_version"]
        if tables:
            conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        conn.execute("DELETE FROM lineage_instance WHERE key IN ('settings', 'default_storage')")
        if "space" in tables:  # the space ``all`` (id 1) comes with the schema
            conn.execute("INSERT INTO space (uid, name, description, created_at) VALUES "
                         "('a11spaceA11a', 'all', 'Readable and writable by every member of the "
                         "instance', now())")
        from lineage.db.migrate import SCHEMA_VERSION

        conn.execute("UPDATE lineage_instance SET value = %s WHERE key = 'schema_version'",
                     [str(SCHEMA_VERSION)])


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The metadata backend under test."""
    return request.param


@pytest.fixture
def instance(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[instance_module.Instance]:
    """A fresh current instance on `backend` with local storage in tmp_path."""
    import lineage as ln

    storage = tmp_path / "storage"
    if backend == "sqlite":
        inst = ln.init(storage=storage)
    else:
        url = request.getfixturevalue("_postgres_instance_db")
        try:
            with _admin_connect(url) as conn:
                conn.execute("SELECT 1 FROM lineage_instance")
            _truncate(url)
        except Exception:  # noqa: BLE001 - first use: the schema is created by init
            pass
        inst = ln.init(storage=storage, db=url)
    yield inst
    instance_module.close()


@pytest.fixture
def sqlite_instance(tmp_path: Path) -> Iterator[instance_module.Instance]:
    """A fresh embedded instance (for tests that are SQLite-specific)."""
    import lineage as ln

    yield ln.init(storage=tmp_path / "storage")
    instance_module.close()


@pytest.fixture
def git_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Isolate git from the user's configuration and give it an identity."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{name}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{name}_EMAIL", "test@example.com")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def git(git_env: None) -> Callable[..., str]:
    """Run a git command in a directory and return its stdout."""

    def run(cwd: Path, *args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
        )
        return result.stdout.strip()

    return run


@pytest.fixture
def cli() -> Callable[..., int]:
    """``cli("view", "x.csv")``: run the ``lineage`` command in this process; its exit status."""
    from lineage.cli import main

    def run(*argv: str) -> int:
        try:
            main(list(argv))
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    return run
