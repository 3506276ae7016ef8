"""A real foreign key for run.report_id; an index on artifact.size (schema version 3).

``run.report_id`` pointed at an artifact without a constraint: deleting the
report artifact left the id dangling, and SQLite reuses the highest free id,
so the next artifact saved became that run's report. It now references
``artifact.id`` with ``ON DELETE SET NULL``; ids that already dangle are
cleared first. ``artifact.size`` is indexed because construction asks
whether content of a file's size is stored (see `lineage.artifacts.content`).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE run SET report_id = NULL WHERE report_id IS NOT NULL "
        "AND report_id NOT IN (SELECT id FROM artifact)"
    )
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_run_report_id", "artifact", ["report_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("artifact", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_artifact_size"), ["size"], unique=False)
    op.execute("UPDATE lineage_instance SET value = '3' WHERE key = 'schema_version'")


def downgrade() -> None:
    with op.batch_alter_table("artifact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_artifact_size"))
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_constraint("fk_run_report_id", type_="foreignkey")
    op.execute("UPDATE lineage_instance SET value = '2' WHERE key = 'schema_version'")
