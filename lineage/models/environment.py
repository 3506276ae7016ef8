"""Environment: Python, platform and installed packages, deduplicated by hash."""

from __future__ import annotations

from lineage.db.dialect import utcnow
from lineage.db.fields import Field, Reverse
from lineage.db.record import Record


class Environment(Record):
    """One distinct software environment, shared by every run that used it."""

    __tablename__ = "environment"
    fields = {
        "uid": Field("str", nullable=False, unique=True, length=12),
        "hash": Field("str", nullable=False, unique=True, length=64),
        "python_version": Field("str", length=64),
        "platform": Field("text"),
        "packages": Field("json"),
        "host": Field("json"),
        "created_at": Field("datetime", nullable=False, default=utcnow),
    }
    system_fields = frozenset({
        "uid", "hash", "python_version", "platform", "packages", "host", "created_at",
    })
    relations = {"runs": Reverse("Run", "environment_id")}
