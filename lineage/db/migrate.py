"""Create and upgrade the schema with alembic; refuse newer schemas.

Alembic and SQLAlchemy load only here, when a schema is created or
upgraded, never on the way to an up-to-date instance.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from lineage.db.database import Connection, Database
from lineage.errors import SchemaVersionError

#: Schema version this client writes; one step per migration.
SCHEMA_VERSION = 11

_MIGRATIONS = Path(__file__).parent / "migrations"
_sqlite_template: Path | None = None


def schema_version(conn: Connection) -> int | None:
    """The instance's schema version, or None when it has no lineage schema."""
    try:
        value = conn.scalar("SELECT value FROM lineage_instance WHERE key = 'schema_version'")
    except Exception as exc:  # noqa: BLE001 - a missing table differs per driver
        if "lineage_instance" in str(exc) or "no such table" in str(exc):
            return None
        raise
    return None if value is None else int(value)


def check_version(version: int, where: str) -> None:
    """Raise `SchemaVersionError` when `version` is newer than this client."""
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"the instance at {where} has schema version {version}, written by a newer lineage; "
            f"this lineage understands version {SCHEMA_VERSION}. Upgrade: pip install -U lineage. "
            "Nothing was changed."
        )


def upgrade(db: Database) -> None:
    """Bring the schema to `SCHEMA_VERSION` (creating it when empty)."""
    if db.is_sqlite and _fresh_sqlite(db.sqlite_path) and _copy_template(db.sqlite_path):
        return
    _alembic_upgrade(db)
    if db.is_sqlite:
        _remember_template(db.sqlite_path)


def _alembic_upgrade(db: Database) -> None:
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from lineage.db.sa_schema import sqlalchemy_url

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    engine = sa.create_engine(sqlalchemy_url(db.url), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            if not db.is_sqlite:
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(7454125)"))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def _fresh_sqlite(path: Path) -> bool:
    return not path.exists() or path.stat().st_size == 0


def _copy_template(path: Path) -> bool:
    if _sqlite_template is None or not _sqlite_template.exists():
        return False
    tmp = path.with_name(path.name + ".tmp")
    try:
        shutil.copyfile(_sqlite_template, tmp)
    except FileNotFoundError:  # removed at the exit of the process that made it
        tmp.unlink(missing_ok=True)
        return False
    os.replace(tmp, path)
    return True


def _remember_template(path: Path) -> None:
    """Keep a copy of a freshly migrated empty database to create the next one fast."""
    global _sqlite_template
    if _sqlite_template is not None:
        return
    import sqlite3
    from contextlib import closing

    # closing(): a sqlite3 connection's own `with` only commits. Left open,
    # its read-write descriptor would be shared (SQLite reuses a process's
    # open file of the same inode) by connections opened later, which then
    # could write to a database made read-only since.
    with closing(sqlite3.connect(str(path))) as conn:
        empty = conn.execute("SELECT COUNT(*) FROM storage").fetchone()[0] == 0
    if not empty:
        return
    folder = Path(tempfile.mkdtemp(prefix="lineage-template-"))
    import atexit

    atexit.register(_remove_template, folder, os.getpid())
    target = folder / "template.db"
    with closing(sqlite3.connect(str(path))) as source, closing(sqlite3.connect(str(target))) as dest:
        source.backup(dest)
    _sqlite_template = target


def _remove_template(folder: Path, pid: int) -> None:
    """Remove the template's folder at exit (of the process that made it, not of a fork)."""
    if os.getpid() == pid:
        shutil.rmtree(folder, ignore_errors=True)
