"""Which object store holds an artifact, and small SQL helpers shared by the modules."""

from __future__ import annotations

import hashlib
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lineage.instance import Instance
    from lineage.storage.base import ObjectStore

_roots: weakref.WeakKeyDictionary[Instance, dict[int, str]] = weakref.WeakKeyDictionary()


def storage_root(instance: Instance, storage_id: int) -> str:
    """The root (path or URL) of the Storage row `storage_id` (cached per instance)."""
    roots = _roots.get(instance)
    if roots is None:
        roots = _roots[instance] = {}
    root = roots.get(storage_id)
    if root is None:
        rows = instance.db.query("SELECT root FROM storage WHERE id = ?", [storage_id])
        if not rows:
            from lineage.errors import DoesNotExist

            raise DoesNotExist(f"no storage location with id {storage_id} is registered.")
        root = roots[storage_id] = rows[0][0]
    return root


def object_key_in_space(instance: Instance, space_id: int | None, sha256: str, suffix: str) -> str:
    """The content-addressed key of this content in `space_id`'s storage prefix."""
    from lineage.lifecycle.spaces import space_uid
    from lineage.storage.keys import object_key_for

    return object_key_for(sha256, suffix, space_uid(instance, space_id))


def store_of(instance: Instance, storage_id: int | None) -> ObjectStore:
    """The object store of Storage row `storage_id` (the default location if None)."""
    if storage_id is None:
        return instance.store()
    return instance.store(storage_root(instance, storage_id))


def key_lock_id(key: str) -> int:
    """A signed 64-bit number naming `key` for ``pg_advisory_xact_lock``."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8, person=b"lineage-key").digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_key(conn: Any, key: str | None) -> None:
    """Serialize version assignment for `key` until the transaction ends.

    SQLite write transactions are already serialized (``BEGIN IMMEDIATE``);
    on PostgreSQL this takes a transaction-scoped advisory lock.
    """
    if key is not None and conn.dialect.name == "postgresql":
        conn.execute("SELECT pg_advisory_xact_lock(?)", [key_lock_id(key)])


def for_update(conn: Any) -> str:
    """`` FOR UPDATE`` on PostgreSQL; SQLite locks the whole database anyway."""
    return " FOR UPDATE" if conn.dialect.name == "postgresql" else ""


def owned_object_key(object_key: str | None, sha256: str | None, suffix: str | None,
                     kind: str | None) -> str | None:
    """`object_key` if it is the content-addressed key of this content, else None.

    Deleting an artifact removes only the object its hash names
    (``objects/ab/<sha256><suffix>``, or the same under a space's prefix
    ``spaces/<uid>/``): a row whose ``object_key`` was made to point anywhere
    else (``lineage.db``, another artifact's folder, an object registered in
    place) never deletes that; nor does an artifact registered in place
    (``kind="external"``), whatever its key.
    """
    from lineage.errors import ValidationError
    from lineage.storage.keys import SPACES_PREFIX, object_key_for

    if not object_key or not sha256 or kind == "external":
        return None  # an object registered in place is never lineage's to delete
    try:
        expected = object_key_for(sha256, "" if kind == "folder" else (suffix or ""))
    except ValidationError:
        return None
    if object_key == expected:
        return object_key
    parts = object_key.split("/", 2)
    if len(parts) == 3 and parts[0] == SPACES_PREFIX and parts[2] == expected:
        try:
            object_key_for(sha256, "" if kind == "folder" else (suffix or ""), parts[1])
        except ValidationError:
            return None
        return object_key
    return None


def object_referenced(conn: Any, storage_id: int | None, object_key: str) -> bool:
    """Whether any artifact row (complete or not) points at this object.

    On PostgreSQL it asks ``lineage_object_referenced`` (migration 0007), which
    sees the rows of every space: the same content saved in two spaces is one
    object, and row-level security would hide the other space's row.
    """
    if conn.dialect.name != "sqlite":
        return bool(conn.scalar("SELECT lineage_object_referenced(CAST(? AS bigint), CAST(? AS text))", [storage_id, object_key]))
    if storage_id is None:
        row = conn.fetchone(
            "SELECT 1 FROM artifact WHERE storage_id IS NULL AND object_key = ? LIMIT 1", [object_key]
        )
    else:
        row = conn.fetchone(
            "SELECT 1 FROM artifact WHERE storage_id = ? AND object_key = ? LIMIT 1",
            [storage_id, object_key],
        )
    return row is not None
