"""The versions of a key in a space come from one index (schema version 11).

``ix_artifact_key_space_version`` on ``artifact (key, space_id, version)``
replaces ``ix_artifact_key``: it serves every lookup by key (its leading
column) and answers ``artifact.versions`` (``key = ? AND space_id = ?
ORDER BY version``) by reading only that key's entries. With two
single-column indexes, SQLite without ANALYZE statistics took
``ix_artifact_space_id`` and walked every artifact of the space (30–90 ms
per artifact page at 100,000 artifacts).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_artifact_key_space_version", "artifact", ["key", "space_id", "version"])
    op.drop_index("ix_artifact_key", table_name="artifact")
    op.execute("UPDATE lineage_instance SET value = '11' WHERE key = 'schema_version'")


def downgrade() -> None:
    op.create_index("ix_artifact_key", "artifact", ["key"])
    op.drop_index("ix_artifact_key_space_version", table_name="artifact")
    op.execute("UPDATE lineage_instance SET value = '10' WHERE key = 'schema_version'")
