"""Datasets known only by name: artifacts that hold no object.

Another system's table or file (an OpenLineage dataset, say) joins the
lineage graph as a *reference* artifact: ``kind="reference"``, no stored
object, identified by a location (``storage.root``, e.g. ``s3://bucket`` or
``postgres://db:5432``), a name inside it (``object_key``) and an optional
version (``hash``, with ``hash_type="reference"``, so content lookups never
match it). The same (location, name, version) is one artifact however
often, and from however many processes, it is recorded::

    table = record_reference(run, "postgres://db:5432", "shop.public.orders",
                             version="42", role="output")
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Literal

from lineage.db.dialect import utcnow
from lineage.errors import ValidationError
from lineage.lifecycle.records import _instance

if TYPE_CHECKING:
    from lineage.db.database import Connection
    from lineage.models.run import Run

#: ``artifact.kind`` and ``storage.type`` of references; ``artifact.hash_type`` of their versions.
REFERENCE = "reference"
_MAX_VERSION = 64


def record_reference(run: Run, location: str, name: str, *, role: Literal["input", "output"],
                     version: str | None = None, size: int | None = None,
                     n_files: int | None = None) -> int:
    """Find or create the reference artifact and link it to `run`; its id.

    Idempotent: one artifact per (location, name, version), one link per
    run and role. An output makes `run` the artifact's creating run (an
    earlier different creator moves to ``previous_runs``), as
    `lineage.lifecycle.record_output` does. One write transaction.

    Args:
        run: The run that read or wrote it.
        location: Where the dataset lives (a URL-like namespace).
        name: Its name there.
        role: ``"input"`` or ``"output"``.
        version: Its version there; longer than 64 characters, its SHA-256
            stands for it.
        size: Bytes, when known (kept from the first report).
        n_files: Number of files, when known.

    Raises:
        ValidationError: An empty location or name, or another role.
    """
    from lineage.db.uids import random_base62, versioned_uid
    from lineage.models.links import ARTIFACT_PREVIOUS_RUN, link_rows_sql

    if role not in ("input", "output"):
        raise ValidationError(f"role must be 'input' or 'output', got {role!r}.")
    for label, value in (("location", location), ("name", name)):
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(f"a reference needs a non-empty {label}, got {value!r}.")
    if version is not None and len(version) > _MAX_VERSION:
        version = hashlib.sha256(version.encode()).hexdigest()
    from lineage.db.space_column import ALL_SPACE_ID

    space_id = getattr(run, "space_id", None) or ALL_SPACE_ID  # the run's space holds it
    identity = hashlib.sha256("\0".join(
        (REFERENCE, str(space_id), location, name, version or "")).encode())
    dedup = identity.hexdigest()
    instance = _instance()
    user_id = instance.user_id()
    db = getattr(run, "_db", None) or instance.db

    def work(conn: Connection) -> int:
        d = conn.dialect
        now = d.encode("datetime", utcnow())
        conn.execute("INSERT INTO storage (uid, root, type, created_at) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT DO NOTHING", [random_base62(12), location, REFERENCE, now])
        storage_id = conn.scalar("SELECT id FROM storage WHERE root = ?", [location])
        false, true = d.encode("bool", False), d.encode("bool", True)
        conn.execute(
            "INSERT INTO artifact (uid, suffix, kind, size, hash, hash_type, dedup_hash, n_files, "
            "storage_id, object_key, version, is_latest, storage_ongoing, created_at, updated_at, "
            "created_by_id, space_id) VALUES (?, '', ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [versioned_uid(None, 1), REFERENCE, size, version, REFERENCE, dedup, n_files,
             storage_id, name, true, false, now, now, user_id, space_id])
        artifact_id, creator = conn.fetchone(
            "SELECT id, run_id FROM artifact WHERE dedup_hash = ?", [dedup])
        if role == "input":
            from lineage.lifecycle.runs import _insert_inputs

            _insert_inputs(conn, run.id, [artifact_id])
        elif creator != run.id:
            if creator is not None:
                conn.execute(link_rows_sql(ARTIFACT_PREVIOUS_RUN), [artifact_id, creator, now])
            conn.execute("UPDATE artifact SET run_id = ? WHERE id = ?", [run.id, artifact_id])
        return artifact_id

    return db.write(work)
