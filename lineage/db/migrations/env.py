"""Alembic environment: runs on the connection lineage hands over."""

from __future__ import annotations

from alembic import context

from lineage.db.sa_schema import build_metadata

config = context.config


def run_migrations_online() -> None:
    """Migrate over ``config.attributes["connection"]``."""
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=build_metadata(connection.dialect.name),
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
