"""Artifact keys are versioned per space; objects shared across spaces stay safe (version 7).

* ``uq_artifact_latest_key`` is on ``(space_id, key)``: each space has its own
  versions of a key, so a team never collides with a key of a space it
  cannot read (until now it was instance-wide).
* On PostgreSQL, ``lineage_object_referenced(storage_id, object_key)``
  answers whether any artifact row, in any space, points at an object. It
  runs as the owner (SECURITY DEFINER): the same content saved in two
  spaces is one object, and a member deleting its artifact must not delete
  the object another space's artifact still uses, which row-level security
  would hide from it. It answers yes or no, nothing else.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_LATEST = sa.text("is_latest")

_REFERENCED = """
CREATE FUNCTION lineage_object_referenced(sid bigint, okey text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT EXISTS (SELECT 1 FROM artifact
                   WHERE storage_id IS NOT DISTINCT FROM sid AND object_key = okey)
$$
"""


def upgrade() -> None:
    with op.batch_alter_table("artifact", schema=None) as batch_op:
        batch_op.drop_index("uq_artifact_latest_key", sqlite_where=_LATEST,
                            postgresql_where=_LATEST)
        batch_op.create_index("uq_artifact_latest_key", ["space_id", "key"], unique=True,
                              sqlite_where=_LATEST, postgresql_where=_LATEST)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_REFERENCED)
    op.execute("UPDATE lineage_instance SET value = '7' WHERE key = 'schema_version'")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION lineage_object_referenced(bigint, text)")
    with op.batch_alter_table("artifact", schema=None) as batch_op:
        batch_op.drop_index("uq_artifact_latest_key", sqlite_where=_LATEST,
                            postgresql_where=_LATEST)
        batch_op.create_index("uq_artifact_latest_key", ["key"], unique=True,
                              sqlite_where=_LATEST, postgresql_where=_LATEST)
    op.execute("UPDATE lineage_instance SET value = '6' WHERE key = 'schema_version'")
