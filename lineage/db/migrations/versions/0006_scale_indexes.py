"""Indexes for large stores: a transform's newest runs, JSON equality on PostgreSQL (schema version 6).

``ix_run_transform_started`` on ``run (transform_id, started_at, id)``
replaces ``ix_run_transform_id``: it serves every lookup by transform, and
listing a transform's runs newest first reads only the page instead of
sorting all of that transform's runs. On PostgreSQL, GIN indexes
(``jsonb_path_ops``) on ``run.params`` and ``run_feature_value.value``
answer ``Run.filter(params__lr=0.01)`` and feature filters, which the
dialect writes as containment (``@>``) plus the exact comparison.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_GIN = (("ix_run_params", "run", "params"),
        ("ix_run_feature_value_value", "run_feature_value", "value"))


def upgrade() -> None:
    op.create_index("ix_run_transform_started", "run", ["transform_id", "started_at", "id"])
    op.drop_index("ix_run_transform_id", table_name="run")
    if op.get_context().dialect.name == "postgresql":
        for name, table, column in _GIN:
            op.create_index(name, table, [column], postgresql_using="gin",
                            postgresql_ops={column: "jsonb_path_ops"})
    op.execute("UPDATE lineage_instance SET value = '6' WHERE key = 'schema_version'")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for name, table, _column in _GIN:
            op.drop_index(name, table_name=table)
    op.create_index("ix_run_transform_id", "run", ["transform_id"])
    op.drop_index("ix_run_transform_started", table_name="run")
    op.execute("UPDATE lineage_instance SET value = '5' WHERE key = 'schema_version'")
