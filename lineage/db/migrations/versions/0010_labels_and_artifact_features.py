"""Labels on runs and transforms, features on artifacts (schema version 10).

* ``run_label`` and ``transform_label``: ``run.labels.add(label)``,
  ``transform.labels.add(label)``, ``ln.Run.filter(labels=label)``;
* ``artifact_feature_value``: ``artifact.features.add_values({...})``,
  ``ln.Artifact.filter(accuracy__gt=0.9)``, one value per artifact and feature.

On PostgreSQL each gets the row-level security of the other link tables
(migration 0004): a row is visible when the rows it links are, and written
only when its owning end (the run, the transform, the artifact) may be
written. So a role outside a space sees no label or feature value of that
space's records.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from importlib import import_module

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

#: (table, [(column, referenced table, must be writable)]), as in migration 0004.
LINKS = (
    ("run_label", [("run_id", "run", True), ("label_id", "label", False)]),
    ("transform_label", [("transform_id", "transform", True), ("label_id", "label", False)]),
    ("artifact_feature_value", [("artifact_id", "artifact", True), ("feature_id", "feature", False),
                                ("label_id", "label", False)]),
)


def _link(table: str, owner: str) -> None:
    op.create_table(
        table,
        sa.Column(f"{owner}_id", _ID, nullable=False),
        sa.Column("label_id", _ID, nullable=False),
        sa.ForeignKeyConstraint([f"{owner}_id"], [f"{owner}.id"], name=f"fk_{table}_{owner}_id"),
        sa.ForeignKeyConstraint(["label_id"], ["label.id"], name=f"fk_{table}_label_id"),
        sa.PrimaryKeyConstraint(f"{owner}_id", "label_id"),
    )
    op.create_index(f"ix_{table}_label_id", table, ["label_id"], unique=False)


def upgrade() -> None:
    _link("run_label", "run")
    _link("transform_label", "transform")
    op.create_table(
        "artifact_feature_value",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("artifact_id", _ID, nullable=False),
        sa.Column("feature_id", _ID, nullable=False),
        sa.Column("value", _JSON, nullable=True),
        sa.Column("label_id", _ID, nullable=True),
        sa.ForeignKeyConstraint(["artifact_id"], ["artifact.id"],
                                name="fk_artifact_feature_value_artifact_id"),
        sa.ForeignKeyConstraint(["feature_id"], ["feature.id"],
                                name="fk_artifact_feature_value_feature_id"),
        sa.ForeignKeyConstraint(["label_id"], ["label.id"], name="fk_artifact_feature_value_label_id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_artifact_feature_value_artifact_id", "artifact_feature_value",
                    ["artifact_id"], unique=False)
    op.create_index("ix_artifact_feature_value_feature_id", "artifact_feature_value",
                    ["feature_id"], unique=False)
    op.create_index("uq_artifact_feature", "artifact_feature_value", ["artifact_id", "feature_id"],
                    unique=True)
    if op.get_context().dialect.name == "postgresql":
        op.create_index("ix_artifact_feature_value_value", "artifact_feature_value", ["value"],
                        postgresql_using="gin", postgresql_ops={"value": "jsonb_path_ops"})
        spaces = import_module("lineage.db.migrations.versions.0004_spaces")
        for table, ends in LINKS:
            for statement in spaces._link_table_sql(table, ends):
                op.execute(statement)
    op.execute("UPDATE lineage_instance SET value = '10' WHERE key = 'schema_version'")


def downgrade() -> None:
    op.drop_table("artifact_feature_value")
    op.drop_table("transform_label")
    op.drop_table("run_label")
    op.execute("UPDATE lineage_instance SET value = '9' WHERE key = 'schema_version'")
