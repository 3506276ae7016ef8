"""Build an instance at an older schema revision, to test upgrades with data in it."""

from __future__ import annotations

from pathlib import Path


def migrate_to(db_url: str, revision: str) -> None:
    """Run the lineage migrations on `db_url` up to `revision` (an empty database: from scratch)."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    import lineage.db.migrate as migrate
    from lineage.db.sa_schema import sqlalchemy_url

    config = Config()
    config.set_main_option("script_location", str(Path(migrate.__file__).parent / "migrations"))
    engine = sa.create_engine(sqlalchemy_url(db_url), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def execute(db_url: str, statements: list[tuple[str, dict]]) -> None:
    """Run raw SQL statements (SQLAlchemy text with named parameters) in one transaction."""
    import sqlalchemy as sa

    from lineage.db.sa_schema import sqlalchemy_url

    engine = sa.create_engine(sqlalchemy_url(db_url), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            for sql, params in statements:
                conn.execute(sa.text(sql), params)
    finally:
        engine.dispose()
