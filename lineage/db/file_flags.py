"""Which of a SQLite database's files the file system refuses to change.

As root, permissions stop nothing, but an inode flag set by ``chattr +i``
(immutable) or ``chattr +a`` (append only) does, and SQLite then reports a
plain "disk I/O error" or "readonly database" for a write to the database,
its write-ahead log (``-wal``), its shared-memory index (``-shm``) or its
folder. Reading the flags (Linux's ``FS_IOC_GETFLAGS``) lets an error name
the file and the command that frees it instead of guessing at a full disk.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

_FS_IOC_GETFLAGS = 0x80086601  # _IOR('f', 1, long) on 64-bit Linux
_FLAGS = {0x10: "immutable", 0x20: "append-only"}
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def refused(path: Path) -> str | None:
    """``"immutable"`` or ``"append-only"`` when that inode flag is set on `path`, else None.

    None also when the flags cannot be read (not Linux, no such file, a file
    system without them).
    """
    if not sys.platform.startswith("linux"):
        return None
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        raw = fcntl.ioctl(fd, _FS_IOC_GETFLAGS, struct.pack("l", 0))
    except OSError:
        return None
    finally:
        os.close(fd)
    flags = struct.unpack("l", raw)[0]
    return next((name for bit, name in _FLAGS.items() if flags & bit), None)


def refused_sqlite_files(database: Path) -> list[tuple[Path, str]]:
    """The files of SQLite `database` (and its folder) with a flag that refuses writes."""
    candidates = [Path(f"{database}{suffix}") for suffix in SQLITE_COMPANIONS]
    candidates.append(database.parent)
    found = ((path, refused(path)) for path in candidates)
    return [(path, flag) for path, flag in found if flag is not None]
