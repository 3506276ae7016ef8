"""Engine runs: attempts, details, run -> run edges, previous values of changes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

* ``run.attempt`` (1 for every existing run) and ``run.details`` (JSON);
* a unique index on ``(external_source, external_id, attempt)`` for runs with
  an external id, so engine events from many processes find one run;
* ``run_upstream``: run -> run data dependencies without an artifact;
* ``record_change.previous``: the values a change replaced.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_DATETIME = sa.DateTime(timezone=True).with_variant(sa.String(length=40), "sqlite")
_EXTERNAL = sa.text("external_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Integer(), nullable=False,
                                      server_default="1"))
        batch_op.add_column(sa.Column("details", _JSON, nullable=True))
    with op.batch_alter_table("run", schema=None) as batch_op:
        # The default only filled existing rows; the models always write it.
        batch_op.alter_column("attempt", server_default=None)
        batch_op.create_index("uq_run_external_attempt",
                              ["external_source", "external_id", "attempt"], unique=True,
                              sqlite_where=_EXTERNAL, postgresql_where=_EXTERNAL)
    op.create_table(
        "run_upstream",
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("upstream_run_id", _ID, nullable=False),
        sa.Column("created_at", _DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name="fk_run_upstream_run_id"),
        sa.ForeignKeyConstraint(["upstream_run_id"], ["run.id"],
                                name="fk_run_upstream_upstream_run_id"),
        sa.PrimaryKeyConstraint("run_id", "upstream_run_id"),
    )
    with op.batch_alter_table("run_upstream", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_upstream_upstream_run_id"), ["upstream_run_id"],
                              unique=False)
    with op.batch_alter_table("record_change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous", _JSON, nullable=True))
    op.execute("UPDATE lineage_instance SET value = '2' WHERE key = 'schema_version'")


def downgrade() -> None:
    with op.batch_alter_table("record_change", schema=None) as batch_op:
        batch_op.drop_column("previous")
    with op.batch_alter_table("run_upstream", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_upstream_upstream_run_id"))
    op.drop_table("run_upstream")
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index("uq_run_external_attempt", sqlite_where=_EXTERNAL,
                            postgresql_where=_EXTERNAL)
        batch_op.drop_column("details")
        batch_op.drop_column("attempt")
    op.execute("UPDATE lineage_instance SET value = '1' WHERE key = 'schema_version'")
