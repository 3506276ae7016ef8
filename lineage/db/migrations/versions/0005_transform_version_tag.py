"""A version tag on transforms, a label besides the integer version (schema version 5).

``transform.version_tag`` (``"T1"``, ``"2024-paper"``) is set by the user
and queried like any field (``ln.Transform.filter(version_tag="T1")``);
existing transforms have none.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transform", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version_tag", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_transform_version_tag"), ["version_tag"], unique=False)
    op.execute("UPDATE lineage_instance SET value = '5' WHERE key = 'schema_version'")


def downgrade() -> None:
    with op.batch_alter_table("transform", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transform_version_tag"))
        batch_op.drop_column("version_tag")
    op.execute("UPDATE lineage_instance SET value = '4' WHERE key = 'schema_version'")
