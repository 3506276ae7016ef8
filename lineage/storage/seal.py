"""Seals: proof, from one ``stat``, that a stored file is untouched since it was verified.

Re-saving content that is already stored must know the stored object is
intact, and reading it again (to hash or compare it) costs as much as
hashing the new file. So once a local store has written and hashed an
object and made it durable (or has compared it byte for byte with content
of the right hash), it *seals* it: it sets the file's modification time to
a value that carries a mark of the content hash in its last digits and
lies just before the inode's change time (``ctime``), which the kernel sets
to "now" on every change and which no system call can set back.

A file is sealed for a content of SHA-256 ``h`` and size ``n`` when::

    size == n
    mtime % 1 ms == mark(h)                     (1 in 10^6 by chance)
    0 < ctime - mtime <= SEAL_WINDOW_NS         (5 ms)

Any later write sets mtime and ctime to the same "now" (``ctime - mtime ==
0``); restoring the old mtime with ``utime`` moves ctime to the time of that
call; ``chmod``, ``chattr``, renames and extended attributes move ctime too;
a copied or restored file is a new inode with a new ctime. Each of these
breaks the seal (a restored mtime and a ctime-only change do once
`SEAL_WINDOW_NS` have passed since the sealing), and the next re-save
compares the bytes and seals again.

What a seal cannot see (docs/artifacts.md): changes that bypass the
filesystem (bit rot, writes to the block device), and a write that also
restores the exact mtime within `SEAL_WINDOW_NS` of the sealing.
``lineage doctor --verify`` re-hashes every object and breaks the seal of
any object that does not match.
"""

from __future__ import annotations

import os
import stat

MARK_NS = 1_000_000
"""The mark is the mtime's nanoseconds within its millisecond."""

SEAL_MIN_SIZE = 1 << 20
"""Files from this size on are sealed; smaller ones cost less to re-hash than to trust."""

SEAL_WINDOW_NS = 5 * MARK_NS
"""Largest ``ctime - mtime`` of a sealed file (its mtime is set up to 2 ms before its ctime)."""

_ATTEMPTS = 3


def mark(sha256: str) -> int:
    """The nanoseconds (1 to 999,999) of a sealed file's mtime within its millisecond."""
    return 1 + int(sha256[:16], 16) % (MARK_NS - 1)


def is_sealed(st: os.stat_result, sha256: str, size: int) -> bool:
    """Whether `st` is the stat of a regular file sealed for this content (see the module)."""
    return (stat.S_ISREG(st.st_mode) and st.st_size == size
            and st.st_mtime_ns % MARK_NS == mark(sha256)
            and 0 < st.st_ctime_ns - st.st_mtime_ns <= SEAL_WINDOW_NS)


def same_inode_state(a: os.stat_result, b: os.stat_result) -> bool:
    """Whether two stats show the same file with no change in between (ctime included)."""
    return (a.st_ino, a.st_dev, a.st_size, a.st_mtime_ns, a.st_ctime_ns) == (
        b.st_ino, b.st_dev, b.st_size, b.st_mtime_ns, b.st_ctime_ns)


def seal_fd(fd: int, sha256: str, size: int, since: os.stat_result | None = None) -> bool:
    """Seal the open file for this content; the caller has made it durable and verified it.

    The mtime is set twice: first unchanged, which moves ctime to the
    filesystem's "now" (its clock, on a network filesystem too), then to
    the millisecond before that now plus `mark`. Tried again if the process
    was held up in between (ctime then too late). Nothing happens if the
    file's size differs, or if it changed since `since` (a stat taken
    before it was verified).

    Returns:
        Whether the file is sealed now: False where times cannot be set
        (an immutable or foreign file, a read-only mount) or are stored more
        coarsely than nanoseconds (the seal is then never trusted).
    """
    if os.utime not in os.supports_fd:
        return False
    st = os.fstat(fd)
    if st.st_size != size or (since is not None and not same_inode_state(st, since)):
        return False
    wanted = mark(sha256)
    for _ in range(_ATTEMPTS):
        try:
            os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))
            now = os.fstat(fd).st_ctime_ns
            mtime = (now // MARK_NS - 1) * MARK_NS + wanted
            os.utime(fd, ns=(st.st_atime_ns, mtime))
            after = os.fstat(fd)
        except OSError:
            return False
        if after.st_mtime_ns != mtime:  # coarse timestamps: never sealed
            return False
        if is_sealed(after, sha256, size):
            return True
    return False


def break_seal(path: os.PathLike[str] | str, sha256: str, size: int) -> None:
    """Set the mtime of a file sealed for this content to now (mtime == ctime: not sealed).

    For a file found not to hold that content after all (bit rot): the next
    re-save then compares and repairs it. Errors are ignored.
    """
    try:
        if is_sealed(os.stat(path), sha256, size):
            os.utime(path)
    except OSError:
        pass
