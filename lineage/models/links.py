"""Link tables between registries (many-to-many relations)."""

from __future__ import annotations

from lineage.db.dialect import utcnow
from lineage.db.fields import Field, LinkTable

RUN_INPUT = LinkTable(
    "run_input", ("run_id", "run"), ("artifact_id", "artifact"),
    extra={"created_at": Field("datetime", nullable=False, default=utcnow)},
)
ARTIFACT_PREVIOUS_RUN = LinkTable(
    "artifact_previous_run", ("artifact_id", "artifact"), ("run_id", "run"),
    extra={"created_at": Field("datetime", nullable=False, default=utcnow)},
)
PROJECT_ARTIFACT = LinkTable("project_artifact", ("project_id", "project"), ("artifact_id", "artifact"))
PROJECT_RUN = LinkTable("project_run", ("project_id", "project"), ("run_id", "run"))
PROJECT_TRANSFORM = LinkTable("project_transform", ("project_id", "project"), ("transform_id", "transform"))
RUN_UPSTREAM = LinkTable(
    "run_upstream", ("run_id", "run"), ("upstream_run_id", "run"),
    extra={"created_at": Field("datetime", nullable=False, default=utcnow)},
)
ARTIFACT_LABEL = LinkTable("artifact_label", ("artifact_id", "artifact"), ("label_id", "label"))
RUN_LABEL = LinkTable("run_label", ("run_id", "run"), ("label_id", "label"))
TRANSFORM_LABEL = LinkTable("transform_label", ("transform_id", "transform"), ("label_id", "label"))

LINK_TABLES = (
    RUN_INPUT, ARTIFACT_PREVIOUS_RUN, PROJECT_ARTIFACT, PROJECT_RUN, PROJECT_TRANSFORM,
    ARTIFACT_LABEL, RUN_UPSTREAM, RUN_LABEL, TRANSFORM_LABEL,
)


def link_rows_sql(link: LinkTable, rows: int = 1) -> str:
    """``INSERT ... ON CONFLICT DO NOTHING`` for `rows` link rows (two ids and the extras each)."""
    left, right = link.left[0], link.right[0]
    extra = list(link.extra)
    cols = ", ".join([left, right, *extra])
    row = "(" + ", ".join("?" for _ in range(2 + len(extra))) + ")"
    return f"INSERT INTO {link.name} ({cols}) VALUES {', '.join([row] * rows)} ON CONFLICT DO NOTHING"
