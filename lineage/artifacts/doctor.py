"""``lineage doctor``: find and repair what interrupted saves left behind.

Checks, per storage location registered with the instance:

- rows flagged ``storage_ongoing`` older than the grace period (their save
  died): with ``fix``, completed if their object is stored and its content
  hashes to the row's hash, deleted otherwise. A completed row takes the
  next version number (uids of other versions never change) but takes its
  place by time of creation: it becomes its key's latest version only if no
  complete version of the key was created after its save started, so a
  repair never rolls a key back to older content;
- orphaned objects (stored, referenced by no row) older than the grace
  period, under ``objects/`` and the prefix of each space this role sees
  (``spaces/<uid>/objects/``; the leftovers of an interrupted move among
  them): deleted with ``fix``;
- temporaries of interrupted writes older than the grace period: removed;
- complete rows whose object is missing, or (``verify``: every object is
  hashed; otherwise local files by size) whose content no longer matches:
  reported, since only the original file can repair them (saving it again
  restores the object). ``verify`` also breaks the seal of a local object
  that does not match (`lineage.storage.seal`: bit rot keeps a seal), so
  that the re-save replaces it instead of trusting it; this touches only its
  mtime and is the one change a dry run makes.

The grace period (default one hour) must exceed the longest save, so a
save in progress is never touched. A dry run changes nothing. Running the
repair twice finds nothing the second time.

Note: a storage location is assumed to belong to one instance; objects
that another instance's rows reference look orphaned here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lineage.artifacts.stores import (
    for_update,
    object_referenced,
    owned_object_key,
    storage_root,
)
from lineage.storage.hashing import FileDigest, FolderEntry, folder_digest_from_manifest
from lineage.db.space_column import ALL_SPACE_ID
from lineage.storage.keys import OBJECTS_PREFIX, SPACES_PREFIX

if TYPE_CHECKING:
    from lineage.artifact import Artifact
    from lineage.instance import Instance
    from lineage.storage.base import ObjectStore

#: Default grace period in seconds.
DEFAULT_GRACE_SECONDS = 3600.0


@dataclass
class DoctorReport:
    """What `run_doctor` found and did.

    Attributes:
        stale_rows: Flagged rows whose save died (``uid key``).
        completed_rows: Stale rows completed (their object was intact).
        deleted_rows: Stale rows deleted (no intact object).
        orphans: Objects no row references (``root: key``).
        temporaries: Leftovers of interrupted writes (``root: name``).
        missing: Complete rows whose object is gone.
        corrupt: Complete rows whose object's content does not match.
        errors: Storage locations that could not be checked.
        fixed: Whether repairs were made (``fix=True``).
    """

    stale_rows: list[str] = field(default_factory=list)
    completed_rows: list[str] = field(default_factory=list)
    deleted_rows: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    temporaries: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    fixed: bool = False

    @property
    def problems(self) -> int:
        """Number of problems found."""
        return (len(self.stale_rows) + len(self.orphans) + len(self.temporaries)
                + len(self.missing) + len(self.corrupt) + len(self.errors))

    @property
    def unresolved(self) -> int:
        """Problems left after this run."""
        if not self.fixed:
            return self.problems
        return len(self.missing) + len(self.corrupt) + len(self.errors)

    @property
    def exit_code(self) -> int:
        """0 when nothing is (left) wrong, else 1."""
        return 1 if self.unresolved else 0

    def render(self) -> str:
        """A readable report."""
        fix = self.fixed
        sections = [
            ("rows of interrupted saves", self.stale_rows, ""),
            ("  completed (object intact)", self.completed_rows, ""),
            ("  deleted (no intact object)", self.deleted_rows, ""),
            ("orphaned objects", self.orphans, "deleted" if fix else ""),
            ("temporary files", self.temporaries, "removed" if fix else ""),
            ("missing objects (save the original file again to restore)", self.missing, ""),
            ("objects whose content does not match (save the original file again to replace)",
             self.corrupt, ""),
            ("storage locations not checked", self.errors, ""),
        ]
        lines = []
        for title, entries, done in sections:
            if not entries:
                continue
            lines.append(f"{title}: {len(entries)}" + (f" ({done})" if done else ""))
            lines.extend(f"  - {e}" for e in entries[:50])
            if len(entries) > 50:
                lines.append(f"  ... and {len(entries) - 50} more")
        if not lines:
            return "no problems found"
        if not fix and self.problems:
            lines.append("dry run: nothing changed; repair with `lineage doctor --fix`")
        return "\n".join(lines)


def run_doctor(fix: bool = False, grace_seconds: float = DEFAULT_GRACE_SECONDS,
               verify: bool = False) -> DoctorReport:
    """Check the current instance (and repair with `fix`); see the module docstring.

    Args:
        fix: Repair what can be repaired; otherwise change nothing.
        grace_seconds: Leave rows, objects and temporaries younger than this.
        verify: Hash every stored object and compare with its row.
    """
    from lineage.artifact import Artifact
    from lineage.instance import current_instance

    instance = current_instance()
    report = DoctorReport(fixed=fix)
    cutoff = time.time() - grace_seconds
    rows = Artifact.objects_unhidden().all()
    stale = [a for a in rows if a.storage_ongoing and a.updated_at.timestamp() < cutoff]
    # References (datasets of other systems, `lineage.lifecycle.references`) hold no
    # object, and objects registered in place (`lineage.artifacts.external`) are not
    # lineage's: their locations are never listed, repaired or cleaned.
    storage_ids = {a.storage_id for a in rows
                   if a.storage_id is not None and a.kind not in ("reference", "external")}
    storage_ids |= {r[0] for r in instance.db.query(
        "SELECT id FROM storage WHERE type NOT IN ('reference', 'external')")}
    stores: dict[int, ObjectStore] = {}
    listings: dict[int, dict[str, float]] = {}
    # The spaces this role sees (all of them for the owner and on SQLite).
    space_uids = [r[0] for r in instance.db.query("SELECT uid FROM space WHERE id <> ? ORDER BY id",
                                                  [ALL_SPACE_ID])]
    for storage_id in sorted(storage_ids):
        root = storage_root(instance, storage_id)
        try:
            store = instance.store(root)
            listings[storage_id] = _objects(store, space_uids)
            temps = store.list_temporaries()
        except Exception as exc:  # noqa: BLE001 - reported, other locations still checked
            report.errors.append(f"{root}: {type(exc).__name__}: {exc}")
            continue
        stores[storage_id] = store
        for temp in temps:
            if temp.mtime < cutoff:
                report.temporaries.append(f"{root}: {temp.key}")
                if fix:
                    store.remove_temporary(temp.key)
    for artifact in stale:
        name = _name(artifact)
        report.stale_rows.append(name)
        store = stores.get(artifact.storage_id)
        if not fix or store is None:
            continue
        present = artifact.object_key in listings.get(artifact.storage_id, {})
        if present and _intact(store, artifact):
            if _complete(instance, store, artifact):
                newer = "" if artifact.is_latest or artifact.key is None else " (not latest: a newer version exists)"
                report.completed_rows.append(
                    f"{name} -> {artifact.uid} version {artifact.version}{newer}")
        else:
            _delete_row(instance, store, artifact, delete_object=present)
            report.deleted_rows.append(name)
    referenced: dict[int | None, set[str]] = {}
    for a in Artifact.objects_unhidden().all() if fix else rows:
        referenced.setdefault(a.storage_id, set()).add(a.object_key)
    for storage_id, objects in listings.items():
        root = stores[storage_id].root
        for key, mtime in sorted(objects.items()):
            if key in referenced.get(storage_id, ()) or mtime >= cutoff:
                continue
            if not instance.db.is_sqlite and instance.db.read(
                    lambda conn, k=key, s=storage_id: object_referenced(conn, s, k)):
                continue  # an artifact of a space this role cannot read uses it
            report.orphans.append(f"{root}: {key}")
            if fix:
                _delete_orphan(instance, stores[storage_id], storage_id, key)
    for artifact in rows:
        if artifact.storage_ongoing or not artifact.object_key or artifact.kind in (
                "reference", "external"):
            continue
        store = stores.get(artifact.storage_id)
        if store is None:
            continue
        if artifact.object_key not in listings[artifact.storage_id]:
            report.missing.append(f"{_name(artifact)}: {store.root}/{artifact.object_key}")
        elif not (_intact(store, artifact) if verify else _size_matches(store, artifact)):
            report.corrupt.append(f"{_name(artifact)}: {store.root}/{artifact.object_key}")
    return report


def _name(artifact: Artifact) -> str:
    return f"{artifact.uid} {artifact.key or '(no key)'}"


def _objects(store: ObjectStore, space_uids: list[str]) -> dict[str, float]:
    """Stored object keys (files, and folders by their key) with their newest mtime.

    Under ``objects/`` (the space ``all``) and the prefixes of `space_uids`.
    """
    found: dict[str, float] = {}
    listed = _listing(store, OBJECTS_PREFIX)
    for uid in space_uids:  # one prefix per space: a bucket policy lets members list their own
        try:
            listed += _listing(store, f"{SPACES_PREFIX}/{uid}/{OBJECTS_PREFIX}")
        except PermissionError:
            continue  # the bucket refuses this role that space's prefix: not its to clean
    for key, mtime in listed:
        parts = key.split("/")
        if parts[0] == SPACES_PREFIX:  # spaces/<uid>/objects/ab/<sha>: a space's prefix
            if len(parts) < 5 or parts[2] != OBJECTS_PREFIX:
                continue
            object_key = "/".join(parts[:5])
        elif len(parts) < 3 or parts[0] != OBJECTS_PREFIX:
            continue
        else:
            object_key = "/".join(parts[:3])
        found[object_key] = max(found.get(object_key, 0.0), mtime)
    return found


def _listing(store: ObjectStore, top: str) -> list[tuple[str, float]]:
    """(key, mtime) of every stored file under ``top/`` (``objects`` or a space's prefix)."""
    local = store.local_path(f"{top}/x")
    if local is not None:
        out = []
        for key in store.list_keys(f"{top}/"):
            try:
                out.append((key, store.local_path(key).stat().st_mtime))  # type: ignore[union-attr]
            except FileNotFoundError:
                continue
        return out
    fs = store.filesystem  # type: ignore[attr-defined]
    base = store.root.split("://", 1)[1]
    try:
        found = fs.find(f"{base}/{top}", detail=True)
    except FileNotFoundError:
        return []
    out = []
    for path, info in found.items():
        if info.get("type", "file") != "file":
            continue
        stamp = info.get("LastModified") or info.get("mtime") or info.get("created")
        mtime = stamp.timestamp() if hasattr(stamp, "timestamp") else float(stamp or 0)
        out.append((path[len(base) + 1:], mtime))
    return out


def _size_matches(store: ObjectStore, artifact: Artifact) -> bool:
    """Cheap check: the size of a local object (remote ones need ``verify``)."""
    path = store.local_path(artifact.object_key)
    if path is None or artifact.kind == "folder":
        return True
    try:
        return path.stat().st_size == artifact.size
    except OSError:
        return False


def _intact(store: ObjectStore, artifact: Artifact) -> bool:
    """Whether the stored object hashes to the row's hash and size."""
    try:
        if artifact.kind == "folder":
            prefix = artifact.object_key + "/"
            entries = []
            for key in store.list_keys(prefix):
                digest = _hash_stored(store, key)
                entries.append(FolderEntry(key[len(prefix):], digest.sha256, digest.size))
            if not entries:
                return False
            digest = folder_digest_from_manifest(entries)
            return digest.sha256 == artifact.hash and digest.size == artifact.size
        return store.verify(artifact.object_key, FileDigest(artifact.hash, artifact.size))
    except (OSError, ValueError):
        return False


def _hash_stored(store: ObjectStore, key: str) -> FileDigest:
    import hashlib

    h = hashlib.sha256()
    size = 0
    with store.open(key, "rb") as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
            size += len(chunk)
    return FileDigest(h.hexdigest(), size)


def _complete(instance: Instance, store: ObjectStore, artifact: Artifact) -> bool:
    """Finalize a stale row whose object is intact, as its save would have."""
    from lineage.artifacts.save import Context, Item, finalize
    from lineage.db.dialect import utcnow

    ctx = Context(instance, instance.db, artifact.run_id, instance.user_id(), [], utcnow())
    item = Item(artifact, store, artifact.storage_id, artifact.object_key,
                artifact.created_by_id, row_id=artifact.id, by_creation_time=True)
    finalize(ctx, [item])
    return item.outcome == "done"


def _delete_row(instance: Instance, store: ObjectStore, artifact: Artifact,
                delete_object: bool) -> None:
    from lineage.artifact import Artifact as ArtifactClass
    from lineage.db.record import delete_rows

    def work(conn: Any) -> None:
        row = conn.fetchone(
            f"SELECT storage_ongoing FROM artifact WHERE id = ?{for_update(conn)}", [artifact.id])
        if row is None or not conn.dialect.decode("bool", row[0]):
            return
        delete_rows(conn, ArtifactClass, artifact.id)
        owned = owned_object_key(artifact.object_key, artifact.hash, artifact.suffix, artifact.kind)
        if delete_object and owned and not object_referenced(conn, artifact.storage_id, owned):
            store.delete(owned)

    instance.db.write(work)


def _delete_orphan(instance: Instance, store: ObjectStore, storage_id: int, key: str) -> None:
    def work(conn: Any) -> None:
        if not object_referenced(conn, storage_id, key):
            store.delete(key)

    instance.db.write(work)
