"""Artifact: a content-addressed, versioned file, folder or data frame."""

from __future__ import annotations

from typing import Any

from lineage.db.dialect import utcnow
from lineage.db.fields import Field, ForeignKey, Index, ManyToMany
from lineage.db.record import Record

#: Hash algorithm of new artifacts.
HASH_TYPE = "sha256"


class Artifact(Record):
    """A file, folder or data frame saved to storage and linked to runs.

    Identity is the SHA-256 of the full content plus the size. The same key
    with new content is a new version; exactly one version per key is latest.

    Attributes:
        key: Path-like name in storage (``raw/sample.fasta``), or None.
        hash: Hex SHA-256 of the content (of the manifest for folders).
        size: Bytes (total for folders).
        version: 1, 2, ... per key.
        is_latest: True for the newest version of its key.
        storage_ongoing: True while the object is being written; such rows are
            hidden from default queries.
        object_key: Where the object lives inside its storage location.
    """

    __tablename__ = "artifact"
    uid_length = 16
    hidden_flag = "storage_ongoing"
    fields = {
        "uid": Field("str", nullable=False, unique=True, length=16),
        "key": Field("text", index=True),
        "description": Field("text"),
        "suffix": Field("str", nullable=False, default="", length=64),
        "kind": Field("str", nullable=False, default="file", length=32),
        "otype": Field("str", length=64),
        "size": Field("bigint"),
        "hash": Field("str", length=64, index=True),
        "hash_type": Field("str", nullable=False, default=HASH_TYPE, length=16),
        "dedup_hash": Field("str", unique=True, length=64),
        "n_files": Field("int"),
        "storage_id": Field("bigint", references="storage"),
        "object_key": Field("text"),
        "run_id": Field("bigint", references="run", index=True),
        "version": Field("int", nullable=False, default=1),
        "is_latest": Field("bool", nullable=False, default=False),
        "storage_ongoing": Field("bool", nullable=False, default=True),
        "created_at": Field("datetime", nullable=False, default=utcnow),
        "updated_at": Field("datetime", nullable=False, default=utcnow),
        "created_by_id": Field("bigint", references="user_account"),
    }
    relations = {
        "run": ForeignKey("run_id", "Run"),
        "storage": ForeignKey("storage_id", "Storage"),
        "input_of_runs": ManyToMany("run_input", "artifact_id", "run_id", "Run"),
        "previous_runs": ManyToMany("artifact_previous_run", "artifact_id", "run_id", "Run"),
        "projects": ManyToMany("project_artifact", "artifact_id", "project_id", "Project"),
        "labels": ManyToMany("artifact_label", "artifact_id", "label_id", "Label"),
    }
    indexes = (Index("uq_artifact_latest_key", ("key",), unique=True, where="is_latest"),)

    def __init__(self, data: Any = None, key: str | None = None, description: str | None = None,
                 **fields: Any) -> None:
        if data is not None:
            raise NotImplementedError("artifact creation from files is not built yet")
        super().__init__(key=key, description=description, **fields)

    @property
    def versions(self) -> Any:
        """All versions of this artifact's key (itself if it has no key), oldest first."""
        if self.key is None:
            return Artifact.filter(id=self.id)
        return Artifact.filter(key=self.key).order_by("version")

    def view_lineage(self, filename: Any = None, format: str | None = None,  # noqa: A002
                     **kwargs: Any) -> Any:
        """Draw this artifact's lineage with Graphviz; see `lineage.graph_render.view_lineage`."""
        from lineage.graph_render import view_lineage

        return view_lineage(self, filename, format, **kwargs)
