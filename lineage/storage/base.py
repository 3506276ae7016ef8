"""The object-store interface shared by local folders and fsspec/S3 buckets.

An object store keeps write-once objects under keys (see `keys`). Writes are
all-or-nothing: a half-written object is never visible under its final key,
and a failed write re-raises the original exception after removing what it
created. Keys are assumed content-addressed, so an existing object of the
right size is taken as already stored.
"""

from __future__ import annotations

import hashlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, NamedTuple

from lineage.errors import InvalidKeyError, ValidationError
from lineage.storage.hashing import (
    BLOCK_SIZE,
    FileDigest,
    FolderDigest,
    FolderEntry,
    folder_digest_from_manifest,
)
from lineage.storage.keys import validate_key

ProgressCallback = Callable[[int], None]
"""Called with the number of bytes just written; see `progress.progress_bar`."""

TEMPORARY_PREFIX = ".tmp"
"""Reserved first key segment: temporaries of the local store live there."""

_READ_MODES = ("rb", "r")


class Temporary(NamedTuple):
    """A leftover of an interrupted write, as listed for ``lineage doctor``.

    Attributes:
        key: Opaque name to pass to `ObjectStore.remove_temporary`.
        mtime: When it was last written to (or started), in seconds since the
            epoch. Remove only temporaries older than the longest upload.
    """

    key: str
    mtime: float


class ObjectStore(ABC):
    """A storage location holding content-addressed, write-once objects.

    Implementations: `lineage.storage.local.LocalStore` and
    `lineage.storage.fsspec_store.FsspecStore`. Use `open_store` to get one.
    All methods are safe to call from several threads.
    """

    durable: bool = True
    can_stage: bool = False
    """Whether `stage` copies at construction (local stores): see `lineage.storage.staging`."""

    @property
    @abstractmethod
    def root(self) -> str:
        """The location: an absolute local path or a URL such as ``s3://b/p``."""

    @abstractmethod
    def check(self) -> None:
        """Check the location is usable now.

        Raises:
            StorageError: It is missing or unreachable; the message names it
                (without credentials) and says what to do.
        """

    @abstractmethod
    def put_file(
        self,
        src: str | os.PathLike[str],
        object_key: str,
        *,
        digest: FileDigest | None = None,
        progress: ProgressCallback | None = None,
    ) -> FileDigest:
        """Store a local file under ``object_key``, all or nothing.

        The bytes are hashed as they are read for the copy or upload, and
        with ``digest`` they must match it: a file that changed since it was
        hashed is refused before anything becomes visible. If an object with
        exactly this content is already under the key, nothing is written;
        one with other content (a same-size corrupt object) is replaced.

        Args:
            src: The local file.
            object_key: Key to store it under, e.g. from `keys.object_key_for`.
            digest: The digest the stored bytes must have (the file's digest
                taken earlier), or None to store whatever the file holds.
            progress: Called with byte counts as the copy advances.

        Returns:
            The digest of the stored content.

        Raises:
            InvalidKeyError: ``object_key`` is invalid or reserved.
            ValidationError: ``src`` is not a regular file, or its content
                differs from ``digest`` (it changed since it was hashed, or
                while being copied).
            OSError: The write failed; the original exception (for example
                `PermissionError`, or `OSError` with ``errno.EFBIG``), after
                the temporary file was removed.
            StorageError: The bucket is missing or the endpoint unreachable.
        """

    @abstractmethod
    def put_folder(
        self,
        src: str | os.PathLike[str],
        object_key_prefix: str,
        *,
        digest: FolderDigest | None = None,
        progress: ProgressCallback | None = None,
    ) -> FolderDigest:
        """Store every file of a local folder under ``object_key_prefix/``.

        Args:
            src: The local folder (must hold at least one file).
            object_key_prefix: Key of the folder object, e.g. from
                ``object_key_for(folder_digest.sha256)``.
            digest: The folder's digest if already known.
            progress: Called with byte counts as the copy advances.

        Returns:
            The digest of the stored folder.

        Raises:
            ValidationError: The folder is empty or holds a non-regular file.
            OSError, StorageError: As for `put_file`.
        """

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether an object (file or folder) is stored under ``key``."""

    @abstractmethod
    def size(self, key: str) -> int:
        """Size in bytes of the object (for a folder: of all its files).

        Raises:
            FileNotFoundError: Nothing is stored under ``key``.
        """

    @abstractmethod
    def open(self, key: str, mode: str = "rb", **kwargs: Any) -> IO[Any]:
        """Open a stored file for reading (``"rb"`` or ``"r"``).

        Raises:
            ValueError: ``mode`` is not a read mode; write with `put_file`.
            FileNotFoundError: Nothing is stored under ``key``.
        """

    @abstractmethod
    def fetch(
        self,
        key: str,
        dest: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
    ) -> Path:
        """Copy an object (file or folder) to a local path, all or nothing.

        The content goes to a temporary name next to ``dest`` first and is
        renamed into place, replacing what was there.

        Returns:
            ``dest`` as a `Path`.

        Raises:
            FileNotFoundError: Nothing is stored under ``key``.
        """

    @abstractmethod
    def local_path(self, key: str) -> Path | None:
        """Path of the object on the local filesystem, or None if remote.

        The file must not be modified: it is shared by all artifacts with the
        same content.
        """

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Delete an object (file or folder); True if something was deleted."""

    @abstractmethod
    def list_keys(self, prefix: str = "") -> Iterator[str]:
        """Keys of all stored files whose key starts with ``prefix``.

        Temporaries are not listed. Keys of files inside a folder object are
        listed as ``<folder key>/<relative path>``.
        """

    @abstractmethod
    def list_temporaries(self) -> list[Temporary]:
        """Leftovers of interrupted writes (temporary files, multipart uploads)."""

    @abstractmethod
    def remove_temporary(self, key: str) -> None:
        """Remove one leftover listed by `list_temporaries`.

        Raises:
            ValueError: ``key`` does not name a temporary.
        """

    def stage(self, src: str | os.PathLike[str], progress: ProgressCallback | None = None) -> Any:
        """Copy a file or folder into the store's temporary area while hashing it.

        Only stores with `can_stage`; see `lineage.storage.local.LocalStore.stage`.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot stage copies")

    def commit_staged(self, staged: Any, object_key: str) -> None:
        """Move a staged copy into place; see `LocalStore.commit_staged`."""
        raise NotImplementedError(f"{type(self).__name__} cannot stage copies")

    def holds(self, key: str, digest: FileDigest | FolderDigest) -> bool:
        """Whether the object under ``key`` has exactly the content ``digest`` names.

        Local stores trust a sealed file (`lineage.storage.seal`) and re-hash
        anything else; S3 compares the checksum S3 verified when the object
        was uploaded (no download). Used before trusting an existing object
        on a re-save.
        """
        return self.verify(key, digest)

    def trusted(self, key: str, digest: FileDigest) -> bool:
        """Whether the file under ``key`` is proven to hold ``digest`` without reading it.

        Only local stores can tell (a sealed file); others answer False.
        """
        return False

    def seal(self, key: str, digest: FileDigest, *, since: os.stat_result | None = None) -> bool:
        """Mark a file just found to hold ``digest`` as intact (local stores); False if not sealed."""
        return False

    def verify(self, key: str, digest: FileDigest | FolderDigest) -> bool:
        """Re-hash a stored object and compare it with ``digest``.

        Returns:
            True if the object exists and its content matches exactly.
        """
        key = self._object_key(key)
        if isinstance(digest, FolderDigest):
            return self._verify_folder(key, digest)
        try:
            return self._hash_stored(key) == digest
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return False

    # Helpers for implementations.

    def _object_key(self, key: str) -> str:
        """Validate a key and refuse the reserved temporary area."""
        key = validate_key(key)
        if key.split("/", 1)[0] == TEMPORARY_PREFIX:
            raise InvalidKeyError(
                f"key {key!r} is inside {TEMPORARY_PREFIX!r}/, which the store "
                "reserves for temporary files; choose another key."
            )
        return key

    def _hash_stored(self, key: str) -> FileDigest:
        h = hashlib.sha256()
        size = 0
        with self.open(key, "rb") as f:
            while chunk := f.read(BLOCK_SIZE * 8):
                h.update(chunk)
                size += len(chunk)
        return FileDigest(h.hexdigest(), size)

    def _verify_folder(self, key: str, digest: FolderDigest) -> bool:
        prefix = key + "/"
        stored = sorted(k[len(prefix) :] for k in self.list_keys(prefix))
        if stored != [e.path for e in digest.manifest]:
            return False
        entries = []
        for rel in stored:
            d = self._hash_stored(prefix + rel)
            entries.append(FolderEntry(rel, d.sha256, d.size))
        return folder_digest_from_manifest(entries) == digest


def check_read_mode(mode: str) -> None:
    """Refuse any mode but ``"rb"`` and ``"r"``."""
    if mode not in _READ_MODES:
        raise ValueError(
            f"mode {mode!r} is not allowed: stored objects are read-only "
            "('rb' or 'r'); write with put_file()."
        )


def check_prefix(prefix: str) -> None:
    """Refuse a `list_keys` prefix that is absolute or climbs with ``..``."""
    if (
        not isinstance(prefix, str)
        or prefix.startswith("/")
        or "\\" in prefix
        or "\x00" in prefix
        or ".." in prefix.split("/")
    ):
        raise InvalidKeyError(
            f"prefix {prefix!r} must be '' or a relative '/'-separated path without '..'."
        )


def open_store(
    root: str | os.PathLike[str],
    *,
    storage_options: Mapping[str, Any] | None = None,
    durable: bool = True,
    check: bool = True,
) -> ObjectStore:
    """Open the object store at a local path or URL.

    Args:
        root: A local path, a ``file://`` URL, or an fsspec URL such as
            ``s3://bucket/prefix``.
        storage_options: Passed to the fsspec filesystem, e.g.
            ``{"endpoint_url": "http://127.0.0.1:9000"}``.
        durable: Local writes are fsync'ed (file and folder) before they
            count as stored.
        check: Call `ObjectStore.check` now (creates a missing local root;
            one request for S3).

    Raises:
        StorageError: ``check`` is true and the location is unusable.
        ValidationError: The URL is malformed.
    """
    text = os.fspath(root)
    scheme, sep, rest = text.partition("://")
    store: ObjectStore
    if not sep or scheme in ("file", "local"):
        from lineage.storage.local import LocalStore

        if sep:
            from urllib.parse import unquote, urlsplit

            parts = urlsplit(text)
            if parts.netloc not in ("", "localhost"):
                raise ValidationError(
                    f"{text!r} names a remote host; use file:///absolute/path for a local folder."
                )
            text = unquote(parts.path)
        if storage_options:
            raise ValidationError("storage_options apply to fsspec URLs, not to local folders.")
        store = LocalStore(text, durable=durable)
    else:
        from lineage.storage.fsspec_store import FsspecStore

        store = FsspecStore(text, storage_options=storage_options, durable=durable)
    if check:
        store.check()
    return store
