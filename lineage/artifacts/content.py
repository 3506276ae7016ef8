"""Reading an artifact's content at construction: one pass that hashes and stores.

`ln.Artifact(path)` needs the SHA-256 of the whole content (its identity)
before anything is saved. How the one read is spent depends on what the
content probably is, which the size tells before a byte is read:

- new content for a local store (no complete artifact of this size): the
  file is copied into the store's ``.tmp/`` while another thread hashes the
  copy (`lineage.storage.staging`); `save()` only makes the copy durable and
  renames it into place;
- content that may exist (artifacts of this size; the usual re-save): the file
  is hashed, and the one stored object of that size must be shown intact
  (not just the right size). If the store sealed it (`lineage.storage.seal`:
  untouched since lineage wrote or verified it, proven by one ``stat``), the
  hash alone does: equal to the recorded hash, the new file is that content.
  Otherwise a second thread compares the stored object with the very blocks
  being hashed, and seals it when they match;
- small files (under `STAGE_THRESHOLD`), folders and remote stores: the
  content is hashed; `save()` then copies or uploads it once more, hashing
  again while it does and refusing bytes that differ from the construction
  hash.

Whatever the path, the bytes stored are the bytes hashed: a file changed
between construction and `save()` is never stored under the older hash.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage.errors import ValidationError
from lineage.storage.hashing import FileDigest, FolderDigest, hash_file, hash_folder
from lineage.storage.progress import PROGRESS_THRESHOLD, progress_bar

if TYPE_CHECKING:
    from lineage.instance import Instance
    from lineage.storage.staging import StagedCopy

STAGE_THRESHOLD = 1 << 20
"""Files from this size on are staged or verified at construction (smaller: hashed)."""

_COMPARE_BLOCK = 4 << 20
"""Bytes hashed and compared per block when re-saving (`hash_and_compare`)."""


@dataclass
class Content:
    """What construction learned about a file or folder.

    Attributes:
        digest: SHA-256 and size (and the manifest of a folder).
        kind: ``"file"`` or ``"folder"``.
        staged: The copy that `save()` renames into place, if one was made.
        verified: ``(storage_id, object_key)`` of a stored object found to
            hold exactly this content while the file was hashed.
    """

    digest: FileDigest | FolderDigest
    kind: str
    staged: StagedCopy | None = None
    verified: tuple[int | None, str] | None = None


def read_content(path: Path, instance: Instance) -> Content:
    """Hash (and stage, or verify) the file or folder at `path`; see the module docstring.

    Raises:
        FileNotFoundError: Nothing is at `path` (the message says where).
        PermissionError: The content cannot be read (kept as is).
        ValidationError: An empty folder, or not a regular file or folder.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(
            errno.ENOENT,
            f"no file or folder at {path} (working directory {Path.cwd()}); check the path",
            str(path),
        ) from None
    if stat.S_ISDIR(st.st_mode):
        return Content(hash_folder(path), "folder")
    if not stat.S_ISREG(st.st_mode):
        raise ValidationError(
            f"{path} is not a regular file or folder (a FIFO, socket or device); "
            "copy its content to a file and save that."
        )
    if st.st_size < PROGRESS_THRESHOLD:
        return _read_file(path, st.st_size, instance, None)
    with progress_bar(f"hashing {path.name}", st.st_size) as advance:
        return _read_file(path, st.st_size, instance, advance)


def _read_file(path: Path, size: int, instance: Instance, progress: Callable[[int], None] | None) -> Content:
    """`read_content` of a regular file; `progress` is told the bytes hashed."""
    if size < STAGE_THRESHOLD or "://" in instance.storage_root:
        return Content(hash_file(path, progress), "file")
    candidates = _stored_of_size(instance, size)
    if not candidates:
        store = instance.store()
        if store.can_stage:
            staged = store.stage(path, progress)
            return Content(staged.digest, "file", staged=staged)
        return Content(hash_file(path, progress), "file")
    if len(candidates) == 1:
        return _hash_beside(path, size, instance, candidates[0], progress)
    return Content(hash_file(path, progress), "file")


def _stored_of_size(instance: Instance, size: int) -> list[tuple[int | None, str, str]]:
    """``(storage_id, object_key, hash)`` of up to two stored objects of complete files of `size`."""
    false = instance.db.dialect.encode("bool", False)
    rows = instance.db.read(lambda conn: conn.fetchall(
        "SELECT DISTINCT storage_id, object_key, hash FROM artifact WHERE size = ? AND kind = ? "
        "AND storage_ongoing = ? AND object_key IS NOT NULL LIMIT 2",
        [size, "file", false]), own_writes=False)  # deferred runs write no artifact rows
    return [(r[0], r[1], r[2]) for r in rows]


def _hash_beside(path: Path, size: int, instance: Instance, candidate: tuple[int | None, str, str],
                 progress: Callable[[int], None] | None = None) -> Content:
    """Hash the file, and show the stored object that may hold it intact: sealed, or compared."""
    from lineage.artifacts.stores import store_of

    storage_id, object_key, sha256 = candidate
    try:
        store = store_of(instance, storage_id)
        local = store.local_path(object_key)
    except Exception:  # noqa: BLE001 - an unusable location: verified at save instead
        local = None
    if local is None:
        return Content(hash_file(path, progress), "file")
    stored = FileDigest(sha256, size) if sha256 else None
    if stored is not None and store.trusted(object_key, stored):
        digest = hash_file(path, progress)
        return Content(digest, "file", verified=(storage_id, object_key) if digest == stored else None)
    try:
        before = os.stat(local)
    except OSError:
        before = None
    digest, same = hash_and_compare(path, local, progress)
    if same and digest == stored and before is not None:
        store.seal(object_key, digest, since=before)
    return Content(digest, "file", verified=(storage_id, object_key) if same else None)


def hash_and_compare(path: Path, other: Path,
                     progress: Callable[[int], None] | None = None) -> tuple[FileDigest, bool]:
    """The digest of `path`, and whether `other` holds exactly the same bytes.

    One read of `path`: each block is hashed on this thread (hashlib
    releases the GIL) while a second thread reads the same range of `other`
    and compares it with that very block, so the comparison costs a read
    and a ``memcmp``, not a second hash. `progress` is told the bytes hashed.
    """
    import hashlib
    import queue
    import threading

    blocks: queue.Queue[tuple[int, bytes] | None] = queue.Queue(maxsize=8)
    result = {"same": True}

    def compare() -> None:
        try:
            fd = os.open(other, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            result["same"] = False
            fd = -1
        try:
            while (item := blocks.get()) is not None:
                if result["same"]:
                    offset, block = item
                    result["same"] = os.pread(fd, len(block), offset) == block
        except OSError:
            result["same"] = False
        finally:
            if fd >= 0:
                os.close(fd)

    comparer = threading.Thread(target=compare, name="lineage-verify", daemon=True)
    comparer.start()
    sha = hashlib.sha256()
    offset = 0
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            while block := os.pread(fd, _COMPARE_BLOCK, offset):
                sha.update(block)
                blocks.put((offset, block))
                offset += len(block)
                if progress is not None:
                    progress(len(block))
        finally:
            os.close(fd)
    finally:
        blocks.put(None)
        comparer.join()
    try:
        same = result["same"] and os.stat(other).st_size == offset
    except OSError:
        same = False
    return FileDigest(sha.hexdigest(), offset), same


def attach(artifact: Any, content: Content) -> None:
    """Keep what `save()` needs from construction on the artifact (not columns)."""
    artifact._digest = content.digest
    artifact._staged = content.staged
    artifact._verified = content.verified
