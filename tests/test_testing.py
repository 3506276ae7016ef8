"""lineage.testing: a test gets an instance of its own and leaves the environment as it was."""

from __future__ import annotations

import os

import lineage as ln
from lineage.testing import temporary_instance, temporary_postgres_database


def test_temporary_instance_is_isolated_and_restores_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LINEAGE_INSTANCE", "/somewhere/else")
    with temporary_instance(tmp_path) as instance:
        assert os.environ["LINEAGE_INSTANCE"] == instance.slug
        assert str(tmp_path) in os.environ["LINEAGE_CONFIG_DIR"]
        ln.track(key="isolated.py")
        ln.finish()
        assert ln.Run.filter().count() == 1
    assert os.environ["LINEAGE_INSTANCE"] == "/somewhere/else"
    with temporary_instance(tmp_path / "second"):
        assert ln.Run.filter().count() == 0


def test_temporary_postgres_database_is_dropped_afterwards(postgres_server, tmp_path):
    import psycopg

    with temporary_postgres_database(postgres_server) as url:
        with temporary_instance(tmp_path, db=url):
            ln.Transform(key="pg.py", hash="h").save()
            assert ln.Transform.filter().count() == 1
        name = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_server.replace("postgresql+psycopg://", "postgresql://")) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchall()
    assert left == []
