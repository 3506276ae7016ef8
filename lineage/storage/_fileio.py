"""Low-level local file writing: kernel copies, overlapped hashing, atomic moves.

The write protocol: create a uniquely named temporary file with ``O_EXCL`` in
the same filesystem as the target, copy into it, ``fsync`` it, rename it over
the final name, ``fsync`` the folder. On any failure the temporary file is
removed and the original exception propagates.

Copy and hash, by size (thresholds measured on a 2-vCPU VM):

- up to `SMALL_FILE_THRESHOLD`: read, hash and write in one go (a thread
  would cost more than the copy: 1.6 ms instead of 0.5 ms for 256 KiB);
- up to `PIPELINE_THRESHOLD`: 1 MiB blocks read, hashed and written on the
  calling thread;
- beyond: the kernel copies (``copy_file_range``, else ``sendfile``, else
  ``pread``/``pwrite``) in chunks on the calling thread while a second thread
  hashes each chunk of the *written* copy as soon as it lands (hashlib
  releases the GIL). The digest describes exactly the stored bytes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import queue
import secrets
import shutil
import stat
import threading
from collections.abc import Callable
from pathlib import Path

from lineage.errors import ValidationError
from lineage.storage.hashing import (
    BLOCK_SIZE,
    FileDigest,
    FolderDigest,
    hash_bytes,
    hash_fd,
    pread_into,
)

SMALL_FILE_THRESHOLD = 1 << 20
"""Files up to this size are read, hashed and written in one go (no thread)."""

PIPELINE_THRESHOLD = 16 << 20
"""Files above this size are copied by the kernel while another thread hashes."""

PIPELINE_CHUNK = 2 << 20
"""Bytes per kernel copy call; the hasher trails the copy by one chunk."""

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_UNSUPPORTED = {
    errno.EXDEV,
    errno.EINVAL,
    errno.ENOSYS,
    errno.EOPNOTSUPP,
    getattr(errno, "ENOTSUP", errno.EOPNOTSUPP),
    errno.EBADF,
    errno.ENOTSOCK,  # macOS sendfile only writes to sockets
}

Progress = Callable[[int], None] | None


def open_regular(src: Path) -> tuple[int, os.stat_result]:
    """Open a regular file for reading without blocking on a FIFO.

    Raises:
        IsADirectoryError: ``src`` is a folder.
        ValidationError: ``src`` is not a regular file.
    """
    fd = os.open(src, os.O_RDONLY | os.O_NONBLOCK | _O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory; use put_folder()", str(src))
        if not stat.S_ISREG(st.st_mode):
            raise ValidationError(
                f"{src} is not a regular file (a FIFO, socket or device); "
                "only regular files and folders can be stored."
            )
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def same_content_stat(a: os.stat_result, b: os.stat_result) -> bool:
    """Whether two stats of one file show no modification in between."""
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def create_temporary(folder: Path, prefix: str = "", mode: int = 0o444) -> tuple[int, Path]:
    """Create a new, uniquely named file in ``folder`` (made if missing).

    Returns:
        The read-write descriptor and the path.
    """
    path = folder / f"{prefix}{secrets.token_hex(10)}.part"
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _O_CLOEXEC
    try:
        fd = os.open(path, flags, mode)
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, flags, mode)
    return fd, path


def remove_quietly(path: Path) -> None:
    """Remove a file or folder tree, ignoring errors (used while failing)."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
    except OSError:
        pass


def fsync_dir(path: Path) -> None:
    """Make a folder's entries (creations, renames) durable (no-op on Windows)."""
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def makedirs(path: Path, *, durable: bool) -> None:
    """Create ``path`` and missing parents; fsync the parent of each new one."""
    missing: list[Path] = []
    p = path
    while not p.is_dir():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir()
        except FileExistsError:
            if not d.is_dir():
                raise
            continue
        if durable:
            fsync_dir(d.parent)


def move_into_place(tmp: Path, final: Path, *, durable: bool) -> None:
    """Rename ``tmp`` over ``final`` atomically (making parents if needed)."""
    try:
        os.replace(tmp, final)
    except FileNotFoundError:
        if not tmp.exists():
            raise
        # The parent was missing; another writer may have made it meanwhile.
        if not final.parent.is_dir():
            makedirs(final.parent, durable=durable)
        os.replace(tmp, final)
    if durable:
        fsync_dir(final.parent)


class _KernelCopier:
    """Copies byte ranges between two descriptors, falling back as needed."""

    def __init__(self, sfd: int, dfd: int) -> None:
        self.sfd = sfd
        self.dfd = dfd
        self.method = "copy_file_range" if hasattr(os, "copy_file_range") else "sendfile"

    def copy(self, offset: int, count: int) -> int:
        """Copy ``count`` bytes at ``offset`` to the same offset; 0 at EOF."""
        while True:
            try:
                if self.method == "copy_file_range":
                    return os.copy_file_range(self.sfd, self.dfd, count, offset, offset)
                if self.method == "sendfile":
                    os.lseek(self.dfd, offset, os.SEEK_SET)
                    return os.sendfile(self.dfd, self.sfd, offset, count)
                data = os.pread(self.sfd, count, offset)
                view = memoryview(data)
                pos = offset
                while view:
                    n = os.pwrite(self.dfd, view, pos)
                    view = view[n:]
                    pos += n
                return len(data)
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED or self.method == "pread":
                    raise
                self.method = "sendfile" if self.method == "copy_file_range" else "pread"


def copy_fd(sfd: int, dfd: int, size: int, progress: Progress = None) -> int:
    """Copy ``size`` bytes with the kernel; returns bytes copied (less at EOF)."""
    if size <= SMALL_FILE_THRESHOLD:
        return len(_copy_small(sfd, dfd, size, progress))
    copier = _KernelCopier(sfd, dfd)
    offset = 0
    while offset < size:
        n = copier.copy(offset, min(PIPELINE_CHUNK * 4, size - offset))
        if not n:
            break
        offset += n
        if progress is not None:
            progress(n)
    return offset


def copy_and_hash_fd(sfd: int, dfd: int, size: int, progress: Progress = None,
                     flush: bool = False) -> FileDigest:
    """Copy ``size`` bytes and hash what was written.

    Up to `SMALL_FILE_THRESHOLD` the file is read, hashed and written in one
    go; up to `PIPELINE_THRESHOLD` in 1 MiB blocks on this thread; beyond, the
    kernel copies while a second thread hashes (``dfd`` must then be open for
    reading too), and with ``flush`` the copy's writeback starts chunk by
    chunk. The digest's size is the number of bytes copied, which is less
    than ``size`` if the source shrank.
    """
    if size <= SMALL_FILE_THRESHOLD:
        return hash_bytes(_copy_small(sfd, dfd, size, progress))
    if size <= PIPELINE_THRESHOLD:
        return _copy_and_hash_blocks(sfd, dfd, size, progress)
    return _Pipeline(sfd, dfd, size, progress, flush).run()


_SYNC_FILE_RANGE_WRITE = 2
_sync_file_range: Callable[..., int] | None | bool = False


def start_writeback(fd: int, offset: int, count: int) -> None:
    """Ask the kernel to start writing a range to disk now, without waiting (Linux).

    ``sync_file_range(SYNC_FILE_RANGE_WRITE)``; elsewhere a no-op. The
    durability point stays the ``fsync`` after the copy.
    """
    global _sync_file_range
    if _sync_file_range is False:
        _sync_file_range = _load_sync_file_range()
    if _sync_file_range is not None:
        _sync_file_range(fd, offset, count, _SYNC_FILE_RANGE_WRITE)


def _load_sync_file_range() -> Callable[..., int] | None:
    import sys

    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _copy_small(sfd: int, dfd: int, size: int, progress: Progress) -> bytes:
    """Read the whole (small) source, write it, and return what was copied."""
    data = _read_upto(sfd, size)
    _write_all(dfd, data)
    if progress is not None:
        progress(len(data))
    return data


def _copy_and_hash_blocks(sfd: int, dfd: int, size: int, progress: Progress) -> FileDigest:
    sha = hashlib.sha256()
    buf = bytearray(BLOCK_SIZE)
    view = memoryview(buf)
    done = 0
    while done < size:
        n = pread_into(sfd, view[: min(BLOCK_SIZE, size - done)], done)
        if not n:
            break
        chunk = view[:n]
        sha.update(chunk)
        _write_all(dfd, chunk)
        done += n
        if progress is not None:
            progress(n)
    return FileDigest(sha.hexdigest(), done)


class _Pipeline:
    """Kernel copy on the calling thread, hashing of the copy on another.

    With ``flush``, writeback of each copied chunk starts at once
    (`start_writeback`), so the final ``fsync`` finds little left to write:
    copy, hash and flush overlap.
    """

    def __init__(self, sfd: int, dfd: int, size: int, progress: Progress,
                 flush: bool = False) -> None:
        self.sfd, self.dfd, self.size, self.progress = sfd, dfd, size, progress
        self.flush = flush
        self.sha = hashlib.sha256()
        self.hashed = 0
        self.ends: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.failed = threading.Event()
        self._view = memoryview(bytearray(PIPELINE_CHUNK))

    def _hash_loop(self) -> None:
        try:
            while (end := self.ends.get()) is not None:
                if self.hashed < end:
                    self._hash_range(end)
        except BaseException as exc:  # handed to the copying thread
            self.error = exc
            self.failed.set()

    def _hash_range(self, end: int) -> None:
        view = self._view
        while self.hashed < end:
            want = min(len(view), end - self.hashed)
            n = pread_into(self.dfd, view[:want], self.hashed)
            if not n:
                raise OSError(errno.EIO, "temporary file shorter than written")
            self.sha.update(view[:n])
            self.hashed += n

    def run(self) -> FileDigest:
        hasher = threading.Thread(target=self._hash_loop, name="lineage-hash", daemon=True)
        hasher.start()
        copier = _KernelCopier(self.sfd, self.dfd)
        offset = 0
        try:
            while offset < self.size and not self.failed.is_set():
                n = copier.copy(offset, min(PIPELINE_CHUNK, self.size - offset))
                if not n:
                    break
                if self.flush:
                    start_writeback(self.dfd, offset, n)
                offset += n
                self.ends.put(offset)
                if self.progress is not None:
                    self.progress(n)
        finally:
            self.ends.put(None)
            hasher.join()
        if self.error is not None:
            raise self.error
        return FileDigest(self.sha.hexdigest(), self.hashed)


def digest_of_stored_source(
    sfd: int,
    st: os.stat_result,
    src: Path,
    digest: FileDigest | None,
    progress: Progress = None,
) -> FileDigest:
    """The digest to return when the object is already stored: nothing to copy.

    Hashes the source if ``digest`` is None (and checks it held still).
    """
    if digest is None:
        digest = hash_fd(sfd)
        if digest.size != st.st_size or not same_content_stat(st, os.fstat(sfd)):
            raise source_changed_error(src)
    if progress is not None:
        progress(st.st_size)
    return digest


def check_source_digest(src: Path, size: int, digest: FileDigest | None) -> None:
    """Refuse a known digest whose size differs from the file's."""
    if digest is not None and digest.size != size:
        raise ValidationError(
            f"{src} is {size} bytes but its digest is for {digest.size} bytes: "
            "the file changed since it was hashed. Hash it again and retry."
        )


def source_changed_error(src: Path, expected: str | None = None) -> ValidationError:
    """The error for a file modified while (or since) it was read for its digest.

    Args:
        src: The file.
        expected: The SHA-256 the content was expected to have, if known.
    """
    since = (f" since its content was hashed (SHA-256 {expected[:12]}...)" if expected
             else " while it was being stored")
    return ValidationError(
        f"{src} changed{since}, so the stored copy would not match the hash it is "
        "stored under; nothing was saved. Create the artifact again from the file "
        "as it is now (ln.Artifact(path)), once no process writes to it."
    )


def check_folder_digest(
    src: Path, files: list[tuple[str, Path, int]], digest: FolderDigest
) -> None:
    """Refuse a known folder digest whose paths or sizes differ from the folder."""
    listed = [(rel, size) for rel, _, size in files]
    expected = [(e.path, e.size) for e in digest.manifest]
    if listed != expected:
        raise ValidationError(
            f"folder {src} does not match its digest (files were added, removed "
            "or resized since it was hashed). Hash it again and retry."
        )


def _read_upto(fd: int, size: int) -> bytes:
    chunks = []
    remaining = size
    while remaining > 0:
        chunk = os.read(fd, remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fill_new_file(
    dst_fd: int,
    sfd: int,
    st: os.stat_result,
    src: Path,
    *,
    want_digest: bool,
    durable: bool,
    progress: Progress = None,
    expect: FileDigest | None = None,
) -> FileDigest | None:
    """Copy an open source into a new, empty file and check the source held still.

    Args:
        expect: The digest the copy must have (it is then hashed while copied,
            whatever `want_digest` says): the bytes written are exactly the
            bytes hashed, and a source that changed since it was hashed is
            refused before anything becomes visible.

    Returns:
        The digest of the written bytes if ``want_digest`` (or ``expect``), else None.

    Raises:
        ValidationError: The source changed while it was copied, or its
            content does not match `expect`.
    """
    digest: FileDigest | None = None
    if want_digest or expect is not None:
        digest = copy_and_hash_fd(sfd, dst_fd, st.st_size, progress, flush=durable)
        copied = digest.size
    else:
        copied = copy_fd(sfd, dst_fd, st.st_size, progress)
    if copied != st.st_size or not same_content_stat(st, os.fstat(sfd)):
        raise source_changed_error(src, expect.sha256 if expect else None)
    if expect is not None and digest != expect:
        raise source_changed_error(src, expect.sha256)
    if durable:
        os.fsync(dst_fd)
    return digest


def write_fd_atomically(
    sfd: int,
    st: os.stat_result,
    src: Path,
    final: Path,
    tmp_dir: Path,
    *,
    want_digest: bool,
    durable: bool,
    progress: Progress = None,
    tmp_prefix: str = "",
    mode: int = 0o444,
    expect: FileDigest | None = None,
) -> FileDigest | None:
    """Write an open source file to ``final`` through a temporary in ``tmp_dir``.

    Args:
        sfd: Source descriptor (read from offset 0).
        st: ``fstat`` of ``sfd`` taken before; used to detect modification.
        src: Source path, for messages.
        final: Target path; parents are created.
        tmp_dir: Folder for the temporary, on the same filesystem as ``final``.
        want_digest: Hash the written bytes (overlapped with the copy).
        durable: fsync the file before and its folder after the rename.
        progress: Called with byte counts.
        tmp_prefix: Start of the temporary's name.
        mode: Permission bits of the new file (before umask).
        expect: The digest the written bytes must have (see `fill_new_file`).

    Returns:
        The digest of the written bytes if ``want_digest``, else None.

    Raises:
        ValidationError: The source changed while it was copied (or since
            it was hashed, with `expect`).
        OSError: The original error, after the temporary was removed.
    """
    tmp_fd, tmp = create_temporary(tmp_dir, tmp_prefix, mode)
    try:
        digest = fill_new_file(
            tmp_fd, sfd, st, src, want_digest=want_digest, durable=durable, progress=progress,
            expect=expect,
        )
        os.close(tmp_fd)
        tmp_fd = -1
        move_into_place(tmp, final, durable=durable)
    except BaseException:
        if tmp_fd >= 0:
            os.close(tmp_fd)
        remove_quietly(tmp)
        raise
    return digest


def copy_tree_into(
    files: list[tuple[str, Path, int]],
    target: Path,
    *,
    want_digest: bool,
    durable: bool,
    progress: Progress = None,
    mode: int = 0o444,
    expect: list[FileDigest] | None = None,
) -> list[FileDigest | None]:
    """Copy listed files (see `hashing.list_folder_files`) into a new folder.

    ``target`` must not exist; it is created. On failure the caller removes it.

    Args:
        expect: The digest each file must have, in order (see `fill_new_file`).

    Returns:
        One digest (or None) per file, in order.

    Raises:
        ValidationError: A file changed while it was copied (or since it was
            hashed, with `expect`); the message names it.
    """
    target.mkdir(parents=True)
    made = {target}
    digests: list[FileDigest | None] = []
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _O_CLOEXEC
    for index, (rel, path, _) in enumerate(files):
        dst = target / rel
        if dst.parent not in made:
            dst.parent.mkdir(parents=True, exist_ok=True)
            made.update(p for p in dst.parents if p.is_relative_to(target))
        sfd, st = open_regular(path)
        try:
            dst_fd = os.open(dst, flags, mode)
            try:
                digests.append(
                    fill_new_file(
                        dst_fd,
                        sfd,
                        st,
                        path,
                        want_digest=want_digest,
                        durable=durable,
                        progress=progress,
                        expect=None if expect is None else expect[index],
                    )
                )
            finally:
                os.close(dst_fd)
        finally:
            os.close(sfd)
    if durable:
        for folder in made:
            fsync_dir(folder)
    return digests


def tree_matches(folder: Path, files: list[tuple[str, Path, int]]) -> bool:
    """Whether ``folder`` holds exactly the listed relative paths and sizes."""
    if not folder.is_dir():
        return False
    wanted = {rel: size for rel, _, size in files}
    found = 0
    for dirpath, _, names in os.walk(folder):
        rel_dir = os.path.relpath(dirpath, folder)
        for name in names:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            size = wanted.get(rel)
            if size is None or os.stat(os.path.join(dirpath, name)).st_size != size:
                return False
            found += 1
    return found == len(wanted)


def replace_tree(
    new: Path,
    final: Path,
    trash_dir: Path,
    *,
    durable: bool,
    keep_existing: Callable[[Path], bool] = lambda p: False,
) -> None:
    """Rename folder ``new`` to ``final``, replacing what is there.

    If ``final`` exists and ``keep_existing(final)`` is true, ``new`` is
    removed instead. A replaced ``final`` is first renamed into ``trash_dir``
    and then deleted, so ``final`` is only ever absent for an instant and
    never half-written.
    """
    makedirs(final.parent, durable=durable)
    for _ in range(3):
        try:
            os.rename(new, final)
            break
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                raise
            if keep_existing(final):
                remove_quietly(new)
                return
            trash_dir.mkdir(parents=True, exist_ok=True)
            trash = trash_dir / f".{final.name}.{secrets.token_hex(8)}.trash"
            try:
                os.rename(final, trash)
            except FileNotFoundError:  # another writer moved it first
                continue
            remove_quietly(trash)
    else:
        os.rename(new, final)  # raises the error of a persistent conflict
    if durable:
        fsync_dir(final.parent)
