"""Staged copies: the one read of a file that both hashes and stores it.

`ln.Artifact(path)` must hash the whole content (its identity) before
`save()`. For a local store, construction therefore copies the file into the
store's ``.tmp/`` folder while a second thread hashes *the copy* (see
`_fileio.copy_and_hash_fd`): the digest describes exactly the bytes that
`save()` later renames into place, so the file is read once, and a file
changed after construction cannot end up stored under an older hash.

A staged copy that is never committed is removed when its `StagedCopy` is
garbage collected; one left by a killed process is a temporary that
``lineage doctor --fix`` removes after the grace period.
"""

from __future__ import annotations

import os
from pathlib import Path

from lineage.storage import _fileio
from lineage.storage.hashing import (
    FileDigest,
    FolderDigest,
    FolderEntry,
    folder_digest_from_manifest,
    list_folder_files,
)

STAGE_PREFIX = "stage-"
"""Start of the names of staged copies in ``.tmp/``."""


class StagedCopy:
    """A private copy of a file or folder in a store's ``.tmp/``, and its digest.

    Attributes:
        path: The copy.
        digest: The digest of the copy's bytes.
        store_root: Root of the store it was made in (it can only be committed there).
    """

    def __init__(self, path: Path, digest: FileDigest | FolderDigest, store_root: str) -> None:
        self.path = path
        self.digest = digest
        self.store_root = store_root
        self.done = False

    def discard(self) -> None:
        """Remove the copy (a no-op once committed or removed)."""
        if not self.done:
            self.done = True
            _fileio.remove_quietly(self.path)

    def __del__(self) -> None:  # never registers anything at exit: safe during shutdown
        try:
            self.discard()
        except Exception:  # noqa: BLE001 - interpreter teardown
            pass

    def __repr__(self) -> str:
        return f"StagedCopy({str(self.path)!r}, {self.digest.sha256[:12]}...)"


def stage_file(src: Path, tmp_dir: Path, store_root: str, *, durable: bool,
               progress: _fileio.Progress = None) -> StagedCopy:
    """Copy a file into `tmp_dir`, hashing the copy while the kernel writes it.

    With `durable`, writeback starts as the copy goes, so the ``fsync`` at
    commit is short.

    Raises:
        ValidationError: The file changed while it was copied, or is not regular.
        OSError: The copy failed (nothing is left behind).
    """
    sfd, st = _fileio.open_regular(src)
    try:
        fd, path = _fileio.create_temporary(tmp_dir, STAGE_PREFIX)
        try:
            digest = _fileio.copy_and_hash_fd(sfd, fd, st.st_size, progress, flush=durable)
            if digest.size != st.st_size or not _fileio.same_content_stat(st, os.fstat(sfd)):
                raise _fileio.source_changed_error(src)
            if durable and st.st_size <= _fileio.PIPELINE_THRESHOLD:
                _fileio.start_writeback(fd, 0, st.st_size)  # larger: chunk by chunk
        except BaseException:
            os.close(fd)
            _fileio.remove_quietly(path)
            raise
        os.close(fd)
    finally:
        os.close(sfd)
    return StagedCopy(path, digest, store_root)


def stage_folder(src: Path, tmp_dir: Path, store_root: str) -> StagedCopy:
    """Copy every file of a folder into a new folder in `tmp_dir`, hashing the copies.

    Raises:
        ValidationError: The folder is empty, holds a non-regular file, or a
            file changed while it was copied.
    """
    import secrets

    files = list_folder_files(src)
    path = tmp_dir / f"{STAGE_PREFIX}{secrets.token_hex(10)}.dir"
    try:
        digests = _fileio.copy_tree_into(files, path, want_digest=True, durable=False)
    except BaseException:
        _fileio.remove_quietly(path)
        raise
    digest = folder_digest_from_manifest(
        FolderEntry(rel, d.sha256, d.size)
        for (rel, _, _), d in zip(files, digests, strict=True) if d is not None
    )
    return StagedCopy(path, digest, store_root)


def fsync_tree(folder: Path) -> None:
    """fsync every file and folder of a staged folder (before it is renamed into place)."""
    for dirpath, _, names in os.walk(folder):
        for name in names:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fileio.fsync_dir(Path(dirpath))
