"""Where an in-place artifact's object was read (schema version 9).

Artifacts registered in place (``ln.Artifact("s3://bucket/key")``,
``kind="external"``: lineage does not own the object) record the S3
version id and ETag the content was hashed from, so a later read can ask
for exactly that version or notice the object changed. Other artifacts
have neither.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("artifact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_version", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("source_etag", sa.String(length=128), nullable=True))
    op.execute("UPDATE lineage_instance SET value = '9' WHERE key = 'schema_version'")


def downgrade() -> None:
    with op.batch_alter_table("artifact", schema=None) as batch_op:
        batch_op.drop_column("source_etag")
        batch_op.drop_column("source_version")
    op.execute("UPDATE lineage_instance SET value = '8' WHERE key = 'schema_version'")
