"""Schema: migrations match the models; newer schemas are refused untouched."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import lineage as ln
import lineage.instance as instance_module
import pytest
from lineage.db.migrate import SCHEMA_VERSION
from lineage.db.sa_schema import build_metadata, sqlalchemy_url
from lineage.errors import SchemaVersionError


def _diff(url: str) -> list:
    engine = sa.create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            diff = compare_metadata(context, build_metadata(engine.dialect.name))
    finally:
        engine.dispose()
    return [d for d in diff if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")]


def test_migrations_produce_exactly_the_declared_schema(instance):
    url = instance.db.url
    assert _diff(url) == []


def test_newer_schema_is_refused_with_a_clear_message_and_nothing_changes(instance):
    slug = instance.slug if instance.db.is_sqlite else instance.db.url
    newer = SCHEMA_VERSION + 1
    instance.db.write(lambda c: c.execute(
        "UPDATE lineage_instance SET value = ? WHERE key = 'schema_version'", [str(newer)]))
    instance_module.close()
    with pytest.raises(SchemaVersionError, match=f"schema version {newer}.*pip install -U lineage"):
        ln.connect(slug)
    with pytest.raises(SchemaVersionError):
        ln.init(storage=instance.root or "unused", db=None if instance.db.is_sqlite else slug)
    # untouched: the version row still says newer
    from lineage.db.database import Database

    db = Database(instance.db.url)
    assert db.query("SELECT value FROM lineage_instance WHERE key = 'schema_version'")[0][0] == str(newer)
    db.close()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_instance):
    conn = sqlite_instance.db.connection()
    assert conn.scalar("PRAGMA journal_mode") == "wal"
    assert conn.scalar("PRAGMA busy_timeout") >= 30_000
    assert conn.scalar("PRAGMA foreign_keys") == 1
