"""Deleting an artifact: its row, its links, and its object when nothing else uses it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lineage.artifacts.stores import (
    for_update,
    lock_key,
    object_referenced,
    owned_object_key,
    store_of,
)

if TYPE_CHECKING:
    from lineage.artifact import Artifact
    from lineage.db.database import Connection


def delete_artifact(artifact: Artifact) -> None:
    """Delete the row and link rows; the object too if no other row points at it.

    If the artifact was its key's latest version, the newest remaining
    version becomes the latest. The object is deleted inside the
    transaction, after the check that nothing references it, so a
    concurrent save of the same content waits and writes it again. Only the
    content-addressed object of the row's own hash is ever deleted (see
    `owned_object_key`), whatever the row's ``object_key`` says.
    """
    from lineage.artifact import Artifact as ArtifactClass
    from lineage.db.record import delete_rows
    from lineage.instance import current_instance

    if artifact.id is None:
        return
    instance = current_instance()
    artifact_id = artifact.id

    def work(conn: Connection) -> None:
        d = conn.dialect
        lock_key(conn, artifact.key)  # key lock before row locks, as saves do
        row = conn.fetchone(
            "SELECT key, is_latest, storage_id, object_key, hash, suffix, kind, space_id "
            f"FROM artifact WHERE id = ?{for_update(conn)}", [artifact_id])
        if row is None:
            return
        key, is_latest, storage_id, object_key, sha256, suffix, kind, space_id = row
        object_key = owned_object_key(object_key, sha256, suffix, kind)
        if key != artifact.key:
            lock_key(conn, key)
        conn.execute("DELETE FROM artifact_feature_value WHERE artifact_id = ?", [artifact_id])
        delete_rows(conn, ArtifactClass, artifact_id)
        if key is not None and d.decode("bool", is_latest):
            newest = conn.fetchone(
                "SELECT id FROM artifact WHERE key = ? AND storage_ongoing = ? AND space_id = ? "
                "ORDER BY version DESC LIMIT 1", [key, d.encode("bool", False), space_id])
            if newest is not None:
                conn.execute("UPDATE artifact SET is_latest = ? WHERE id = ?",
                             [d.encode("bool", True), newest[0]])
        if object_key and not object_referenced(conn, storage_id, object_key):
            store_of(instance, storage_id).delete(object_key)

    instance.db.write(work)
    artifact.id = None
