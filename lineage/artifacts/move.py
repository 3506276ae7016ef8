"""Moving an artifact to another space: its object moves to that space's prefix.

The order keeps the record pointing at a complete object at every moment:

1. copy the object to the new space's key (nothing to copy when an intact
   object with this content is already there, another record's of that space);
2. verify the copy against the record's hash and size;
3. commit: one transaction changes the record's ``space_id`` and
   ``object_key`` (and records the move as a `RecordChange`);
4. delete the old object, only if no artifact of any space references it.

A crash before 3 leaves an unreferenced copy, after 3 an unreferenced old
object: both are orphans that ``lineage doctor --fix`` removes once older
than its grace period. No record ever points at a missing object.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage.artifacts.stores import (
    object_key_in_space,
    object_referenced,
    owned_object_key,
    store_of,
)
from lineage.errors import DoesNotExist, PermissionDenied, StorageError, ValidationError
from lineage.storage.hashing import FileDigest

if TYPE_CHECKING:
    from lineage.artifact import Artifact
    from lineage.storage.base import ObjectStore

_log = logging.getLogger(__name__)


def move_artifact(artifact: Artifact, target_space_id: int) -> None:
    """Move `artifact` (a saved record) and its object into `target_space_id`.

    Objects lineage does not own (registered in place, references, keys that
    are not the content-addressed key of the record's hash) stay where they
    are: only the record moves.

    Raises:
        ValidationError: The artifact's save has not finished.
        StorageError: The copy does not match the record's hash (nothing changed).
        PermissionDenied: This role may not write one of the two spaces.
    """
    from lineage.db.cas import update_changed
    from lineage.instance import current_instance

    instance = current_instance()
    if artifact.storage_ongoing:
        raise ValidationError(
            f"artifact {artifact.uid} is still being saved; move it once its save has finished.")
    suffix = "" if artifact.kind == "folder" else (artifact.suffix or "")
    old_key = owned_object_key(artifact.object_key, artifact.hash, artifact.suffix, artifact.kind)
    if old_key is None or artifact.kind == "reference":
        artifact._assign(space_id=target_space_id)
        update_changed(instance.db, artifact, system=True)
        return
    try:
        new_key = object_key_in_space(instance, target_space_id, artifact.hash, suffix)
    except DoesNotExist as exc:
        raise PermissionDenied(
            f"permission denied: this role may not write space id {target_space_id} (it is not "
            "a member, or there is no such space), so artifact "
            f"{artifact.uid} was not moved. An admin of that space adds you: lineage space "
            "add-member SPACE ROLE --role write.") from exc
    store = store_of(instance, artifact.storage_id)
    copied = False
    if new_key != old_key:
        if not (store.exists(new_key) and _intact(store, new_key, artifact)):
            _copy(store, old_key, new_key, artifact)
            copied = True
        if not _intact(store, new_key, artifact):
            _forget_copy(instance, store, artifact.storage_id, new_key, copied)
            raise StorageError(
                f"the copy of artifact {artifact.uid} at {store.root}/{new_key} does not match its "
                "hash; the artifact was not moved. Check the storage location and retry.")
    artifact._assign(space_id=target_space_id, object_key=new_key)
    try:
        update_changed(instance.db, artifact, system=True)
    except BaseException:
        artifact._assign(object_key=old_key)
        _forget_copy(instance, store, artifact.storage_id, new_key, copied)
        raise
    if new_key != old_key:
        _forget_copy(instance, store, artifact.storage_id, old_key, True)


def _copy(store: ObjectStore, old_key: str, new_key: str, artifact: Artifact) -> None:
    """Copy the object under `old_key` to `new_key` (through a local file if remote)."""
    local = store.local_path(old_key)
    with tempfile.TemporaryDirectory(prefix="lineage-move-") as tmp:
        if local is None or not local.exists():
            try:
                local = store.fetch(old_key, Path(tmp) / "object")
            except FileNotFoundError as exc:
                raise StorageError(
                    f"the object of artifact {artifact.uid} is missing at {store.root}/{old_key}; "
                    "save the original file again, then move it.") from exc
        if artifact.kind == "folder":
            got = store.put_folder(local, new_key)
            if got.sha256 != artifact.hash:
                raise StorageError(
                    f"the folder object of artifact {artifact.uid} at {store.root}/{old_key} "
                    "does not match its hash; run `lineage doctor --verify`.")
        else:
            try:
                store.put_file(local, new_key, digest=FileDigest(artifact.hash, artifact.size))
            except ValidationError as exc:
                raise StorageError(
                    f"the object of artifact {artifact.uid} at {store.root}/{old_key} does not "
                    f"match its hash ({exc}); run `lineage doctor --verify`.") from exc


def _intact(store: ObjectStore, key: str, artifact: Artifact) -> bool:
    from lineage.artifacts.doctor import _intact as intact

    probe: Any = type("Probe", (), {})()
    probe.kind, probe.object_key, probe.hash, probe.size = (
        artifact.kind, key, artifact.hash, artifact.size)
    return intact(store, probe)


def _forget_copy(instance: Any, store: ObjectStore, storage_id: int | None, key: str,
                 ours: bool) -> None:
    """Delete the object under `key` if `ours` and no artifact of any space references it."""
    if not ours:
        return

    def work(conn: Any) -> None:
        if not object_referenced(conn, storage_id, key):
            store.delete(key)

    try:
        instance.db.write(work)
    except Exception as exc:  # noqa: BLE001 - a leftover for `lineage doctor`, not a failed move
        _log.warning("could not remove %s/%s (%s: %s); `lineage doctor --fix` removes it later.",
                     store.root, key, type(exc).__name__, exc)
