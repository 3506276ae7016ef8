"""Storage: a location (local folder or bucket prefix) where objects live."""

from __future__ import annotations

from lineage.db.dialect import utcnow
from lineage.db.fields import Field, Reverse
from lineage.db.record import Record


class Storage(Record):
    """A storage location registered with the instance.

    Attributes:
        root: Absolute local path or URL such as ``s3://bucket/prefix``.
        type: ``local`` or the fsspec protocol (``s3``).
    """

    __tablename__ = "storage"
    fields = {
        "uid": Field("str", nullable=False, unique=True, length=12),
        "root": Field("text", nullable=False, unique=True),
        "type": Field("str", nullable=False, length=32),
        "region": Field("str", length=64),
        "description": Field("text"),
        "created_at": Field("datetime", nullable=False, default=utcnow),
        "created_by_id": Field("bigint", references="user_account"),
    }
    #: Objects are found under ``root``: changing it would point rows elsewhere.
    system_fields = frozenset({"uid", "root", "type", "region", "created_at", "created_by_id"})
    relations = {"artifacts": Reverse("Artifact", "storage_id")}
