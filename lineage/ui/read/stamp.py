"""A write stamp: a value that changes whenever anyone commits a change to the store.

Answers built from the store may be kept under the stamp read *before*
building them: while the stamp reads the same, no transaction has committed
a change since, so they are still what the store holds. A write the answer
may already contain only makes the next stamp differ (a spurious miss),
never a stale hit.

- SQLite: ``PRAGMA data_version`` changes when *another* connection commits
  (WAL included, other processes included), but not for the connection's
  own commits. So it is read on a connection of its own that never writes
  (opened read-only by this module, one per database and process). The
  file's device and inode go into the stamp, so a database file replaced
  under the same path is noticed too.
- PostgreSQL: ``pg_current_snapshot()`` as text (``xmin:xmax:xip,...``). A
  transaction that writes is given a transaction id, which moves ``xmax``
  when it is assigned and leaves the in-progress list when it ends, so the
  text differs after any write transaction, committed or not (reads do not
  move it). It counts the whole server, so writes to other databases cause
  misses, never stale hits.
- Anything else (an in-memory database): None, meaning "do not cache".

Reading a stamp costs microseconds on SQLite and one round trip on
PostgreSQL. Nothing is added to the write path.
"""

from __future__ import annotations

import itertools
import os
import threading
import weakref
from typing import Any

_LOCK = threading.Lock()
#: Database -> (pid, (st_dev, st_ino), generation, sqlite3 connection) of its stamp connection.
_SQLITE: weakref.WeakKeyDictionary[Any, tuple[int, tuple[int, int], int, Any]] = (
    weakref.WeakKeyDictionary())
#: PostgreSQL URLs whose server has no pg_current_snapshot() (before 13).
_NO_SNAPSHOT: set[str] = set()
#: Numbers the stamp connections: a reopened one starts its own data_version count.
_GENERATION = itertools.count(1)


def write_stamp(db: Any) -> tuple | None:
    """The current write stamp of `db` (a `lineage.db.database.Database`), or None.

    Two equal stamps mean the same database (its URL is part of the stamp)
    and no transaction changed it in between. None: no stamp can be had (do
    not cache).
    """
    if db.is_sqlite:
        return _sqlite_stamp(db)
    if db.url in _NO_SNAPSHOT:
        return None
    try:
        text = db.read(lambda conn: conn.scalar("SELECT CAST(pg_current_snapshot() AS text)"))
    except Exception as exc:  # noqa: BLE001 - answer without keeping
        if "42883" in (getattr(exc, "sqlstate", None), getattr(exc.__cause__, "sqlstate", None)):
            _NO_SNAPSHOT.add(db.url)  # undefined function: a server before PostgreSQL 13
        return None
    return ("postgresql", db.url, text)


def _sqlite_stamp(db: Any) -> tuple | None:
    import sqlite3

    try:
        path = db.sqlite_path
        stat = os.stat(path)
    except (IndexError, OSError):  # not a file (":memory:"), or gone
        return None
    identity = (stat.st_dev, stat.st_ino)
    with _LOCK:
        held = _SQLITE.get(db)
        if held is not None and (held[0] != os.getpid() or held[1] != identity):
            if held[0] == os.getpid():
                held[3].close()
            held = None
        if held is None:
            try:
                raw = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                      isolation_level=None, check_same_thread=False)
            except sqlite3.Error:
                return None
            held = _SQLITE[db] = (os.getpid(), identity, next(_GENERATION), raw)
        try:
            version = held[3].execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            held[3].close()
            del _SQLITE[db]
            return None
    return ("sqlite", str(path), identity, held[2], version)
