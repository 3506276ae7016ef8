"""Transform: a script, notebook or pipeline file, versioned by source hash."""

from __future__ import annotations

from typing import Any

from lineage.db.dialect import utcnow
from lineage.db.fields import Field, Index, ManyToMany, Reverse
from lineage.db.record import Record


class Transform(Record):
    """A piece of code that runs: same key and source hash, same Transform.

    Attributes:
        key: Path relative to the dev dir, the file name, or
            ``pypackages/<pkg>/<path>.py`` for packaged code.
        kind: ``script``, ``notebook``, ``flow``, ``step``, ``function`` or an
            engine name such as ``prefect``.
        hash: SHA-256 of the source code.
        version: 1, 2, ... per key; ``is_latest`` marks the newest.
    """

    __tablename__ = "transform"
    uid_length = 16
    fields = {
        "uid": Field("str", nullable=False, unique=True, length=16),
        "key": Field("text", nullable=False, index=True),
        "kind": Field("str", nullable=False, default="script", length=32),
        "description": Field("text"),
        "source_code": Field("text"),
        "hash": Field("str", length=64),
        "version": Field("int", nullable=False, default=1),
        "is_latest": Field("bool", nullable=False, default=True),
        "reference": Field("text"),
        "created_at": Field("datetime", nullable=False, default=utcnow),
        "created_by_id": Field("bigint", references="user_account"),
    }
    relations = {
        "runs": Reverse("Run", "transform_id"),
        "projects": ManyToMany("project_transform", "transform_id", "project_id", "Project"),
    }
    indexes = (
        Index("uq_transform_key_hash", ("key", "hash"), unique=True),
        Index("uq_transform_latest_key", ("key",), unique=True, where="is_latest"),
    )

    @property
    def latest_run(self) -> Any:
        """The most recently started run of this transform, or None."""
        return self.runs.order_by("-started_at", "-id").first()

    @property
    def versions(self) -> Any:
        """All versions of this transform's key, oldest first."""
        return Transform.filter(key=self.key).order_by("version")
