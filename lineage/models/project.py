"""Project: groups transforms, runs and artifacts."""

from __future__ import annotations

from lineage.db.dialect import utcnow
from lineage.db.fields import Field, ManyToMany
from lineage.models.named import NamedRecord
from lineage.db.space_column import space_field


class Project(NamedRecord):
    """A project; ``Project(name=...)`` returns the existing one of that name."""

    __tablename__ = "project"
    fields = {
        "uid": Field("str", nullable=False, unique=True, length=12),
        "name": Field("text", nullable=False, unique=True),
        "description": Field("text"),
        "created_at": Field("datetime", nullable=False, default=utcnow),
        "created_by_id": Field("bigint", references="user_account"),
        "space_id": space_field(),
    }
    system_fields = NamedRecord.system_fields | {"space_id"}
    relations = {
        "artifacts": ManyToMany("project_artifact", "project_id", "artifact_id", "Artifact", editable=True),
        "transforms": ManyToMany("project_transform", "project_id", "transform_id", "Transform", editable=True),
        "runs": ManyToMany("project_run", "project_id", "run_id", "Run", editable=True),
    }
