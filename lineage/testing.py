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
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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
