"""Content identity: SHA-256 of the full content plus its size.

Never a partial hash: two files that differ anywhere have different digests.
A folder is identified by the SHA-256 of a manifest listing every file's
relative path, SHA-256 and size (see `manifest_bytes` for the exact format).

hashlib releases the GIL while it hashes a large buffer, so the functions here
read in 1 MiB blocks and hash the files of a large folder on a few threads.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lineage.errors import ValidationError

HASH_TYPE = "sha256"
"""Name of the hash algorithm, stored with each digest so it can change later."""

BLOCK_SIZE = 1 << 20
"""Read size for hashing; large enough for hashlib to release the GIL."""

SMALL_READ = 64 << 10
"""Size of the first read of a file being hashed: small files need no other."""

FOLDER_MANIFEST_HEADER = b"lineage-folder-manifest-v1\n"
"""First line of a folder manifest; keeps folder and file digests apart."""

_PARALLEL_FOLDER_BYTES = 8 << 20
_HAS_PREADV = hasattr(os, "preadv")


@dataclass(frozen=True, slots=True)
class FileDigest:
    """Identity of one file's content.

    Attributes:
        sha256: Lowercase hex SHA-256 of the full content.
        size: Content size in bytes.
    """

    sha256: str
    size: int

    hash_type = HASH_TYPE


@dataclass(frozen=True, slots=True)
class FolderEntry:
    """One file of a folder manifest.

    Attributes:
        path: Path relative to the folder, with ``/`` separators.
        sha256: Lowercase hex SHA-256 of the file's content.
        size: File size in bytes.
    """

    path: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class FolderDigest:
    """Identity of a folder: SHA-256 of its manifest, total size, manifest.

    Attributes:
        sha256: Lowercase hex SHA-256 of `manifest_bytes(manifest)`.
        size: Sum of the sizes of all files.
        manifest: The files, sorted by relative path.
    """

    sha256: str
    size: int
    manifest: tuple[FolderEntry, ...]

    hash_type = HASH_TYPE

    @property
    def n_files(self) -> int:
        """Number of files in the folder."""
        return len(self.manifest)


def hash_bytes(data: bytes | bytearray | memoryview) -> FileDigest:
    """Digest of an in-memory buffer."""
    view = memoryview(data)
    return FileDigest(hashlib.sha256(view).hexdigest(), view.nbytes)


def pread_into(fd: int, view: memoryview, offset: int) -> int:
    """Read into ``view`` at ``offset`` without moving the file position."""
    if _HAS_PREADV:
        return os.preadv(fd, [view], offset)
    data = os.pread(fd, len(view), offset)
    view[: len(data)] = data
    return len(data)


def hash_fd(fd: int, offset: int = 0, progress: Callable[[int], object] | None = None) -> FileDigest:
    """Digest of an open file descriptor's content from ``offset`` to its end.

    Reads at explicit offsets, so the descriptor's position is left unchanged.
    ``progress`` is called with the number of bytes of each block hashed.
    Content under `SMALL_READ` bytes is read as it is, without the block
    buffer (zeroing 1 MiB costs more than hashing a small file).
    """
    h = hashlib.sha256()
    pos = offset
    while data := os.pread(fd, SMALL_READ, pos):
        h.update(data)
        pos += len(data)
        if progress is not None:
            progress(len(data))
        if len(data) == SMALL_READ:  # a large file: the rest in blocks
            pos = _hash_blocks(fd, h, pos, progress)
            break
    return FileDigest(h.hexdigest(), pos - offset)


def _hash_blocks(fd: int, h: Any, pos: int, progress: Callable[[int], object] | None) -> int:
    """Feed `h` the content of `fd` from `pos` to its end in `BLOCK_SIZE` reads; the end offset."""
    view = memoryview(bytearray(BLOCK_SIZE))
    while n := pread_into(fd, view, pos):
        h.update(view[:n])
        pos += n
        if progress is not None:
            progress(n)
    return pos


def hash_file(path: str | os.PathLike[str], progress: Callable[[int], object] | None = None) -> FileDigest:
    """Digest of a file's full content (``progress`` as for `hash_fd`).

    Raises:
        FileNotFoundError, PermissionError, IsADirectoryError: as `open` does.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise IsADirectoryError(21, "Is a directory; use hash_folder()", str(path))
        return hash_fd(fd, progress=progress)
    finally:
        os.close(fd)


def manifest_bytes(manifest: Iterable[FolderEntry]) -> bytes:
    """Canonical serialization of a manifest, the input of the folder hash.

    The header line followed by compact JSON ``[[path, sha256, size], ...]``
    with ASCII escapes, entries in the given (sorted) order.
    """
    rows = [[e.path, e.sha256, e.size] for e in manifest]
    body = json.dumps(rows, separators=(",", ":"), ensure_ascii=True)
    return FOLDER_MANIFEST_HEADER + body.encode("ascii")


def folder_digest_from_manifest(manifest: Iterable[FolderEntry]) -> FolderDigest:
    """Build a `FolderDigest` from entries (sorted here by path)."""
    entries = tuple(sorted(manifest, key=lambda e: e.path))
    sha = hashlib.sha256(manifest_bytes(entries)).hexdigest()
    return FolderDigest(sha, sum(e.size for e in entries), entries)


def list_folder_files(path: str | os.PathLike[str]) -> list[tuple[str, Path, int]]:
    """List a folder's files as ``(relative posix path, path, size)``, sorted.

    Symbolic links are followed (a link to a file counts as that file); a link
    cycle is an error.

    Raises:
        ValidationError: The folder holds no file, holds something that is not
            a regular file (a FIFO, a socket, a device) or has a link cycle.
        NotADirectoryError, FileNotFoundError: ``path`` is not a folder.
    """
    root = Path(path)
    root_stat = root.stat()
    if not stat.S_ISDIR(root_stat.st_mode):
        raise NotADirectoryError(20, "Not a directory; use hash_file()", str(root))
    files: list[tuple[str, Path, int]] = []
    seen_dirs = {(root_stat.st_dev, root_stat.st_ino)}
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        folder, rel = stack.pop()
        with os.scandir(folder) as it:
            entries = list(it)
        for entry in entries:
            rel_path = f"{rel}{entry.name}"
            st = entry.stat(follow_symlinks=True)
            if stat.S_ISDIR(st.st_mode):
                ident = (st.st_dev, st.st_ino)
                if ident in seen_dirs:
                    raise ValidationError(
                        f"folder {root} has a symbolic link cycle at {rel_path!r}; "
                        "remove the link or save the folder it points to separately."
                    )
                seen_dirs.add(ident)
                stack.append((Path(entry.path), rel_path + "/"))
            elif stat.S_ISREG(st.st_mode):
                files.append((rel_path, Path(entry.path), st.st_size))
            else:
                raise ValidationError(
                    f"{entry.path} in folder {root} is not a regular file (a FIFO, "
                    "socket or device); remove it from the folder before saving."
                )
    if not files:
        raise ValidationError(
            f"folder {root} contains no files; an empty folder cannot be saved. "
            "Put at least one file in it, or save a file instead."
        )
    files.sort(key=lambda f: f[0])
    return files


def hash_folder(path: str | os.PathLike[str], *, max_workers: int | None = None) -> FolderDigest:
    """Digest of a folder: every file's full content, size and relative path.

    Deterministic: it depends only on the relative paths and the contents,
    not on the folder's location, timestamps or listing order.

    Args:
        path: The folder.
        max_workers: Threads for hashing a large folder (default: up to 4).

    Raises:
        ValidationError: The folder is empty or holds a non-regular file.
    """
    return digest_listed_files(list_folder_files(path), max_workers=max_workers)


def digest_listed_files(
    files: list[tuple[str, Path, int]], *, max_workers: int | None = None
) -> FolderDigest:
    """Folder digest of files listed by `list_folder_files`."""
    total = sum(size for _, _, size in files)

    def one(item: tuple[str, Path, int]) -> FolderEntry:
        rel, file_path, _ = item
        d = hash_file(file_path)
        return FolderEntry(rel, d.sha256, d.size)

    if total >= _PARALLEL_FOLDER_BYTES and len(files) > 1:
        workers = max_workers or min(4, os.cpu_count() or 1)
        with ThreadPoolExecutor(workers, thread_name_prefix="lineage-hash") as pool:
            entries = list(pool.map(one, files))
    else:
        entries = [one(f) for f in files]
    return folder_digest_from_manifest(entries)


def hash_chunks(chunks: Iterable[bytes], sink: Callable[[bytes], object] | None = None) -> FileDigest:
    """Digest of content read as a stream of chunks (a remote object), in one pass.

    The same SHA-256 and size as `hash_file` of the same bytes. Each chunk
    is also given to `sink` (a file's ``write``, say) when one is set.
    """
    h = hashlib.sha256()
    size = 0
    for chunk in chunks:
        h.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink(chunk)
    return FileDigest(h.hexdigest(), size)
