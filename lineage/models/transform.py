"""Transform: a script, notebook or pipeline file, versioned by source hash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lineage.db.dialect import utcnow
from lineage.db.fields import Field, Index, ManyToMany, Reverse
from lineage.db.record import Record
from lineage.db.space_column import space_field


class Transform(Record):
    """A piece of code that runs: same key and source hash, same Transform.

    Attributes:
        key: Path relative to the dev dir, the file name, or
            ``pypackages/<pkg>/<path>.py`` for packaged code.
        kind: ``script``, ``notebook``, ``flow``, ``step``, ``function`` or an
            engine name such as ``prefect``.
        hash: SHA-256 of the source code.
        version: 1, 2, ... per key; ``is_latest`` marks the newest.
        version_tag: A label of the user's besides the version (``"T1"``),
            set with ``transform.version_tag = "T1"; transform.save()``.
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
        "version_tag": Field("str", length=64, index=True),
        "is_latest": Field("bool", nullable=False, default=True),
        "reference": Field("text"),
        "created_at": Field("datetime", nullable=False, default=utcnow),
        "created_by_id": Field("bigint", references="user_account"),
        "space_id": space_field(shared=True),
    }
    #: Identity and versions follow the source file; ``description`` and
    #: ``reference`` are the user's.
    system_fields = frozenset({
        "uid", "key", "kind", "source_code", "hash", "version", "is_latest", "created_at",
        "created_by_id", "space_id",
    })
    relations = {
        "runs": Reverse("Run", "transform_id"),
        "projects": ManyToMany("project_transform", "transform_id", "project_id", "Project", editable=True),
        "labels": ManyToMany("transform_label", "transform_id", "label_id", "Label", editable=True),
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


def find_transform_key(name: str) -> str | None:
    """The transform key a user's `name` stands for, or None if none matches.

    Tried in order: the key itself; the file at path `name` (from the
    working directory), keyed as tracking keys it; a unique key that ends
    with ``/<name>``, so ``my_workflow.py`` finds ``scripts/my_workflow.py``
    once a dev dir made that the key.

    Raises:
        MultipleResultsFound: Several keys end with `name`; the message
            lists them.
    """
    from lineage.errors import MultipleResultsFound

    if not isinstance(name, str) or not name.strip():
        return None
    if Transform.filter(key=name).exists():
        return name
    path = Path(name).expanduser()
    if path.is_file():
        from lineage.capture.source import transform_key
        from lineage.instance import current_instance

        dev_dir = current_instance().settings.dev_dir
        key = transform_key(path, Path(dev_dir) if dev_dir else None)
        if Transform.filter(key=key).exists():
            return key
    suffix = "/" + "/".join(part for part in name.split("/") if part not in ("", "."))
    if suffix == "/" or ".." in suffix.split("/"):
        return None
    rows = Transform.filter(key__endswith=suffix, is_latest=True).order_by("key")[:_CANDIDATES + 1]
    keys = [t.key for t in rows]
    if len(keys) > 1:
        shown = ", ".join(keys[:_CANDIDATES]) + (", ..." if len(keys) > _CANDIDATES else "")
        raise MultipleResultsFound(
            f"{name!r} matches several transform keys: {shown}. Give the whole key "
            f"(for example {keys[0]!r}) or the path of the file."
        )
    return keys[0] if keys else None


#: How many candidates an ambiguous name lists.
_CANDIDATES = 10
