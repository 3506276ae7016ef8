"""Object store in a local (or mounted) folder.

Layout under the root: objects at their keys (``objects/ab/ab...cd.csv``), and
``.tmp/`` for temporary files of writes in progress. A write goes to a new
file in ``.tmp/`` and is renamed into place, so an object is never visible
half-written; an interrupted process leaves at most a file in ``.tmp/``, which
`LocalStore.list_temporaries` reports.

Stored objects are made read-only (mode 0444): `local_path` hands out the
stored file itself and it must not be edited. Objects are never hard-linked
to the user's files, for the same reason.

A durable store seals each file object of 1 MiB or more once it is written,
hashed and fsynced, and each one it finds intact by reading it
(`lineage.storage.seal`): `trusted` then proves from one ``stat`` that it
was not modified since, so a re-save need not read it again.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from lineage.errors import StorageError
from lineage.storage import _fileio, seal, staging
from lineage.storage.base import (
    TEMPORARY_PREFIX,
    ObjectStore,
    ProgressCallback,
    Temporary,
    check_prefix,
    check_read_mode,
)
from lineage.storage.hashing import (
    FileDigest,
    FolderDigest,
    FolderEntry,
    digest_listed_files,
    folder_digest_from_manifest,
    hash_file,
    hash_folder,
    list_folder_files,
)
from lineage.storage.staging import StagedCopy

OBJECT_MODE = 0o444
"""Permission bits of stored objects (before umask)."""


class LocalStore(ObjectStore):
    """Object store in a local folder.

    Creating one does no I/O; the folder is created by `check` or by the
    first write.

    Args:
        root: The folder (made absolute).
        durable: fsync each written file and its folder before a write
            returns, so a stored object survives a power loss. Costs about
            0.5 ms per small file here; set False for scratch stores.
    """

    can_stage = True

    def __init__(self, root: str | os.PathLike[str], *, durable: bool = True) -> None:
        self._root = Path(root).expanduser().absolute()
        self._tmp = self._root / TEMPORARY_PREFIX
        self.durable = durable

    def __repr__(self) -> str:
        return f"LocalStore({str(self._root)!r}, durable={self.durable})"

    @property
    def root(self) -> str:
        """Absolute path of the folder."""
        return str(self._root)

    def check(self) -> None:
        """Create the folder if missing; raise StorageError if impossible."""
        try:
            if self._root.exists() and not self._root.is_dir():
                raise StorageError(
                    f"storage location {self._root} exists but is not a folder; "
                    "choose another path."
                )
            self._root.mkdir(parents=True, exist_ok=True)
        except StorageError:
            raise
        except OSError as exc:
            raise StorageError(
                f"storage location {self._root} cannot be created ({exc.strerror or exc}); "
                "check the path and its permissions."
            ) from exc

    # Writing.

    def put_file(
        self,
        src: str | os.PathLike[str],
        object_key: str,
        *,
        digest: FileDigest | None = None,
        progress: ProgressCallback | None = None,
    ) -> FileDigest:
        """Store a file; see `ObjectStore.put_file`.

        The file is always hashed while it is copied; with ``digest`` the copy
        must match it. An object already under the key is kept only if it is
        sealed or its content hashes right (a same-size corrupt object is
        replaced). The new object is sealed once durable.
        """
        final = self._root / self._object_key(object_key)
        src = Path(src)
        sfd, st = _fileio.open_regular(src)
        try:
            _fileio.check_source_digest(src, st.st_size, digest)
            if _is_file_of_size(final, st.st_size):
                if digest is None:
                    digest = _fileio.digest_of_stored_source(sfd, st, src, None)
                if self._holds_file(final, digest):
                    if progress is not None:
                        progress(st.st_size)
                    return digest
            written = _fileio.write_fd_atomically(
                sfd,
                st,
                src,
                final,
                self._tmp,
                want_digest=True,
                durable=self.durable,
                progress=progress,
                mode=OBJECT_MODE,
                expect=digest,
            )
        finally:
            os.close(sfd)
        assert written is not None
        self._seal(final, written)
        return written

    def put_folder(
        self,
        src: str | os.PathLike[str],
        object_key_prefix: str,
        *,
        digest: FolderDigest | None = None,
        progress: ProgressCallback | None = None,
    ) -> FolderDigest:
        """Store a folder; see `ObjectStore.put_folder`.

        The files are copied (and hashed) into a temporary folder in ``.tmp/``
        that is renamed into place in one step; with ``digest`` every file
        must match its manifest entry.
        """
        prefix = self._object_key(object_key_prefix)
        src = Path(src)
        files = list_folder_files(src)
        for rel, _, _ in files:
            self._object_key(f"{prefix}/{rel}")
        if digest is not None:
            _fileio.check_folder_digest(src, files, digest)
        final = self._root / prefix
        if _fileio.tree_matches(final, files):
            if digest is None:
                digest = digest_listed_files(files)
            if _folder_hashes_to(final, digest):
                if progress is not None:
                    progress(digest.size)
                return digest
        staging = self._tmp / f"{secrets.token_hex(10)}.dir"
        expect = None if digest is None else [FileDigest(e.sha256, e.size) for e in digest.manifest]
        try:
            digests = _fileio.copy_tree_into(
                files,
                staging,
                want_digest=True,
                durable=self.durable,
                progress=progress,
                mode=OBJECT_MODE,
                expect=expect,
            )
            copied = folder_digest_from_manifest(
                FolderEntry(rel, d.sha256, d.size)
                for (rel, _, _), d in zip(files, digests, strict=True)
                if d is not None
            )
            _fileio.replace_tree(
                staging,
                final,
                self._tmp,
                durable=self.durable,
                keep_existing=lambda p: _folder_hashes_to(p, copied),
            )
        except BaseException:
            _fileio.remove_quietly(staging)
            raise
        return copied

    # Staging: one read that hashes and stores (see `lineage.storage.staging`).

    def stage(self, src: str | os.PathLike[str], progress: ProgressCallback | None = None) -> StagedCopy:
        """Copy a file or folder into ``.tmp/`` while hashing the copy (``progress``: bytes copied, files only).

        Raises:
            ValidationError: The source changed while it was copied, is not a
                regular file or folder, or is an empty folder.
        """
        src = Path(src)
        if src.is_dir():
            return staging.stage_folder(src, self._tmp, self.root)
        return staging.stage_file(src, self._tmp, self.root, durable=self.durable, progress=progress)

    def commit_staged(self, staged: StagedCopy, object_key: str) -> None:
        """Rename a staged copy into place under ``object_key`` (made durable first).

        What is already there is replaced: the staged bytes are the ones
        hashed, so this also repairs a corrupt object.

        Raises:
            FileNotFoundError: The staged copy is gone (swept by ``lineage doctor``).
            ValueError: It was staged in another store.
        """
        if staged.store_root != self.root or staged.done:
            raise ValueError(f"{staged!r} cannot be committed to {self.root}.")
        final = self._root / self._object_key(object_key)
        if isinstance(staged.digest, FolderDigest):
            if self.durable:
                staging.fsync_tree(staged.path)
            _fileio.replace_tree(staged.path, final, self._tmp, durable=self.durable)
        else:
            if self.durable:
                fd = os.open(staged.path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            _fileio.move_into_place(staged.path, final, durable=self.durable)
            self._seal(final, staged.digest)
        staged.done = True

    # Reading.

    def exists(self, key: str) -> bool:
        """Whether a file or folder is stored under ``key``."""
        return (self._root / self._object_key(key)).exists()

    def size(self, key: str) -> int:
        """Size in bytes of a file, or of all files of a folder."""
        path = self._root / self._object_key(key)
        st = path.stat()
        if not stat.S_ISDIR(st.st_mode):
            return st.st_size
        return sum(size for _, _, size in list_folder_files(path))

    def open(self, key: str, mode: str = "rb", **kwargs: Any) -> IO[Any]:
        """Open a stored file for reading."""
        check_read_mode(mode)
        return open(self._root / self._object_key(key), mode, **kwargs)  # noqa: SIM115

    def fetch(
        self,
        key: str,
        dest: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
    ) -> Path:
        """Copy an object to ``dest`` atomically; see `ObjectStore.fetch`."""
        stored = self._root / self._object_key(key)
        dest = Path(dest).absolute()
        if stored.is_dir():
            files = list_folder_files(stored)
            staging = dest.parent / f".{dest.name}.{secrets.token_hex(8)}.part"
            try:
                _fileio.copy_tree_into(
                    files,
                    staging,
                    want_digest=False,
                    durable=self.durable,
                    progress=progress,
                    mode=0o666,
                )
                _fileio.replace_tree(staging, dest, dest.parent, durable=self.durable)
            except BaseException:
                _fileio.remove_quietly(staging)
                raise
            return dest
        sfd, st = _fileio.open_regular(stored)
        try:
            _fileio.write_fd_atomically(
                sfd,
                st,
                stored,
                dest,
                dest.parent,
                want_digest=False,
                durable=self.durable,
                progress=progress,
                tmp_prefix=f".{dest.name}.",
                mode=0o666,
            )
        finally:
            os.close(sfd)
        return dest

    def local_path(self, key: str) -> Path:
        """Path of the stored object (whether or not it exists)."""
        return self._root / self._object_key(key)

    def verify(self, key: str, digest: FileDigest | FolderDigest) -> bool:
        """Re-hash a stored object and compare it with ``digest``.

        A file sealed for ``digest`` that does not match (bit rot) loses its
        seal, so that saving the original file again replaces it.
        """
        path = self._root / self._object_key(key)
        try:
            if isinstance(digest, FolderDigest):
                return hash_folder(path) == digest
            same = hash_file(path) == digest
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return False
        except ValueError:  # an empty folder or a non-regular file
            return False
        if not same:
            seal.break_seal(path, digest.sha256, digest.size)
        return same

    def holds(self, key: str, digest: FileDigest | FolderDigest) -> bool:
        """Whether the object has exactly this content: sealed for it, else re-hashed (and sealed)."""
        path = self._root / self._object_key(key)
        if isinstance(digest, FolderDigest):
            return self.verify(key, digest)
        return self._holds_file(path, digest)

    def trusted(self, key: str, digest: FileDigest) -> bool:
        """Whether the file under ``key`` is sealed for ``digest``: intact since verified, unread."""
        try:
            st = os.stat(self._root / self._object_key(key))
        except OSError:
            return False
        return seal.is_sealed(st, digest.sha256, digest.size)

    def seal(self, key: str, digest: FileDigest, *, since: os.stat_result | None = None) -> bool:
        """Seal a file known to hold ``digest`` (written and hashed, or compared) if unchanged since ``since``.

        It is fsynced first. Only durable stores seal, and only files of
        `seal.SEAL_MIN_SIZE` or more.

        Returns:
            Whether the file is sealed now.
        """
        return self._seal(self._root / self._object_key(key), digest, since)

    def _holds_file(self, path: Path, digest: FileDigest) -> bool:
        try:
            st = os.stat(path)
        except OSError:
            return False
        if seal.is_sealed(st, digest.sha256, digest.size):
            return True
        if not stat.S_ISREG(st.st_mode) or st.st_size != digest.size:
            return False
        if not _hashes_to(path, digest):
            return False
        self._seal(path, digest, st)
        return True

    def _seal(self, path: Path, digest: FileDigest | FolderDigest,
              since: os.stat_result | None = None) -> bool:
        """Make a verified file durable and seal it; see `seal`."""
        if not self.durable or isinstance(digest, FolderDigest) or digest.size < seal.SEAL_MIN_SIZE:
            return False
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return False
        try:
            os.fsync(fd)
            return seal.seal_fd(fd, digest.sha256, digest.size, since)
        except OSError:
            return False
        finally:
            os.close(fd)

    # Housekeeping.

    def delete(self, key: str) -> bool:
        """Delete a stored file or folder; True if something was deleted.

        A folder is first renamed into ``.tmp/`` so it disappears at once.
        """
        path = self._root / self._object_key(key)
        try:
            if path.is_dir() and not path.is_symlink():
                self._tmp.mkdir(parents=True, exist_ok=True)
                trash = self._tmp / f"{secrets.token_hex(10)}.trash"
                os.rename(path, trash)
                _fileio.remove_quietly(trash)
            else:
                path.unlink()
        except FileNotFoundError:
            return False
        if self.durable:
            _fileio.fsync_dir(path.parent)
        return True

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """Keys of stored files starting with ``prefix``, in sorted order."""
        check_prefix(prefix)
        start_rel = prefix.rpartition("/")[0]
        start = self._root / start_rel if start_rel else self._root
        yield from (k for k in self._walk(start, start_rel) if k.startswith(prefix))

    def _walk(self, folder: Path, rel: str) -> Iterator[str]:
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if not rel and entry.name == TEMPORARY_PREFIX:
                continue
            key = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(Path(entry.path), key)
            else:
                yield key

    def list_temporaries(self) -> list[Temporary]:
        """Files and folders in ``.tmp/``: writes in progress or interrupted."""
        found = []
        try:
            with os.scandir(self._tmp) as it:
                for entry in it:
                    try:
                        mtime = entry.stat(follow_symlinks=False).st_mtime
                    except FileNotFoundError:
                        continue
                    found.append(Temporary(f"{TEMPORARY_PREFIX}/{entry.name}", mtime))
        except FileNotFoundError:
            return []
        return sorted(found)

    def remove_temporary(self, key: str) -> None:
        """Remove one entry of ``.tmp/`` (a no-op if it is already gone)."""
        head, _, name = key.partition("/")
        if head != TEMPORARY_PREFIX or not name or "/" in name or name in (".", ".."):
            raise ValueError(
                f"{key!r} is not a temporary of {self.root}; pass a key from list_temporaries()."
            )
        path = self._tmp / name
        if path.exists() or path.is_symlink():
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)


def _hashes_to(path: Path, digest: FileDigest) -> bool:
    try:
        return hash_file(path) == digest
    except OSError:
        return False


def _folder_hashes_to(path: Path, digest: FolderDigest) -> bool:
    try:
        return hash_folder(path) == digest
    except (OSError, ValueError):
        return False


def _is_file_of_size(path: Path, size: int) -> bool:
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size == size
