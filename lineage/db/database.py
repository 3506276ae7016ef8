"""Connections and transactions on SQLite and PostgreSQL through DB-API.

SQLAlchemy is not used on this path: importing it alone costs more than the
whole budget of a tracked script. One connection per thread and process;
write transactions on SQLite start with ``BEGIN IMMEDIATE`` so "database is
locked" never surfaces from a read-then-write transaction; transient errors
(busy SQLite, PostgreSQL serialization failures and deadlocks) are retried
by re-running the whole transaction function.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from lineage.capture.redact import redact_secrets, redact_url, url_secrets
from lineage.db.dialect import Dialect, PostgresDialect
from lineage.db.file_flags import refused_sqlite_files
from lineage.errors import DatabaseUnreachable, DatabaseWriteError, PermissionDenied

T = TypeVar("T")

#: How long SQLite waits on a lock before reporting busy (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 60_000
#: How many times a transaction is re-run after a transient failure.
MAX_RETRIES = 20
#: SQLite ``synchronous`` level of each durability setting.
SQLITE_SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}


class Connection:
    """A thin wrapper over one DB-API connection with portable SQL.

    Attributes:
        durability: ``"normal"`` or ``"full"``, the level of the database's
            setting in force for the current transaction (see `Database`).
    """

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw = raw
        self.dialect = dialect
        self.durability = "normal"

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement and return the cursor."""
        cursor = self.raw.cursor()
        cursor.execute(self.dialect.sql(sql), tuple(params))
        return cursor

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of a query."""
        return self.execute(sql, params).fetchall()

    def fetchone(self, sql: str, params: Sequence[Any] = ()) -> tuple | None:
        """The first row of a query, or None."""
        return self.execute(sql, params).fetchone()

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None."""
        row = self.fetchone(sql, params)
        return None if row is None else row[0]


class Database:
    """The metadata database of one instance.

    Args:
        url: ``sqlite:///path`` or ``postgresql[+psycopg]://...``.

    Attributes:
        durability: ``"normal"`` (default): SQLite in WAL with
            ``synchronous=NORMAL`` (a power loss can drop the newest commits,
            never corrupt the database), and run bookkeeping on PostgreSQL
            commits without waiting for the WAL flush; ``"full"``: every
            durable commit (see `write`) is on disk when it returns: SQLite
            ``synchronous=FULL`` (an fsync of the WAL) and PostgreSQL's
            commit waits for its flush. Set from ``ln.settings.durability``;
            applies from the next transaction of each connection.
        before_read: Called before each read outside a transaction (None:
            nothing), by whoever holds writes back: deferred engine runs
            waiting for their batch are written first, so a process reads
            its own writes.
        before_close: Called by `close` first (None: nothing), by whoever
            holds writes back: they are written before the connections go.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.durability = "normal"
        self.before_read: Callable[[], None] | None = None
        self.before_close: Callable[[], None] | None = None
        self.is_sqlite = url.startswith("sqlite")
        self.dialect: Dialect = Dialect() if self.is_sqlite else PostgresDialect()
        self._local = threading.local()
        self._pid = os.getpid()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        # Raw connections inside a transaction (by id), and those of them `close` left
        # to their own thread: a connection is never closed under a running statement.
        self._busy: set[int] = set()
        self._doomed: set[int] = set()
        self._generation = 0  # `close` counts up: older connections are not reused

    @property
    def sqlite_path(self) -> Path:
        """Path of the SQLite file."""
        return Path(self.url.split("sqlite:///", 1)[1])

    @property
    def safe_url(self) -> str:
        """The URL without any credential (`lineage.capture.redact.redact_url`)."""
        return redact_url(self.url)

    def __repr__(self) -> str:
        return f"Database({self.safe_url!r})"

    # --- connections ------------------------------------------------------
    def connection(self) -> Connection:
        """The connection of the calling thread, opened on first use."""
        if os.getpid() != self._pid:  # forked: never share the parent's sockets
            self._local = threading.local()
            self._all = []
            self._busy, self._doomed = set(), set()
            self._pid = os.getpid()
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and not getattr(local, "depth", 0) and (
                local.generation != self._generation or getattr(conn.raw, "closed", False)):
            self._forget_connection()  # closed by `close` or by the server: open a new one
            conn = None
        if conn is None:
            conn = Connection(self._open(), self.dialect)
            local.conn, local.generation = conn, self._generation
            with self._lock:
                self._all.append(conn.raw)
        return conn

    def _open(self) -> Any:
        if self.is_sqlite:
            return _open_sqlite(self.sqlite_path)
        return _open_postgres(self.url)

    def _forget_connection(self) -> None:
        """Drop the calling thread's connection (after the server closed it)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is None:
            return
        with self._lock:
            if conn.raw in self._all:
                self._all.remove(conn.raw)
        _close_quietly(conn.raw)

    def _connection_lost(self, exc: BaseException) -> bool:
        """Whether `exc` means the PostgreSQL server closed this thread's connection."""
        if self.is_sqlite:
            return False
        sqlstate = getattr(exc, "sqlstate", None)
        if sqlstate is not None and sqlstate.startswith(("08", "57P")):
            return True
        conn = getattr(self._local, "conn", None)
        return conn is not None and bool(getattr(conn.raw, "closed", False))

    def close(self) -> None:
        """Close every connection this process opened, after `before_close`.

        A connection inside a transaction of another thread (a background
        writer's batch) is closed by that thread when its transaction ends:
        closing it under a running statement would crash the process. The
        next use of the database, in any thread, opens a new connection.
        """
        if os.getpid() != self._pid:
            return
        hook = self.before_close
        if hook is not None:
            hook()
        with self._lock:
            self._generation += 1
            for raw in list(self._all):
                if id(raw) in self._busy:
                    self._doomed.add(id(raw))
                    continue
                self._all.remove(raw)
                _close_quietly(raw)

    def _release(self, conn: Connection) -> None:
        """The calling thread's transaction on `conn` ended: close it if `close` asked to."""
        with self._lock:
            key = id(conn.raw)
            self._busy.discard(key)
            if key not in self._doomed:
                return
            self._doomed.discard(key)
            if conn.raw in self._all:
                self._all.remove(conn.raw)
        _close_quietly(conn.raw)
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None

    # --- transactions ---------------------------------------------------------
    @contextmanager
    def _transaction(self, write: bool, durable: bool = True,
                     single: bool = False) -> Iterator[Connection]:
        conn = self.connection()
        if getattr(self._local, "depth", 0):
            # Nested use joins the outer transaction.
            self._local.depth += 1
            try:
                yield conn
            finally:
                self._local.depth -= 1
            return
        with self._lock:
            self._busy.add(id(conn.raw))
        try:
            yield from self._outer_transaction(conn, write, durable, single)
        finally:
            self._release(conn)

    def _outer_transaction(self, conn: Connection, write: bool, durable: bool,
                           single: bool) -> Iterator[Connection]:
        cursor = conn.raw.cursor()
        level = self.durability if durable else "normal"
        if conn.durability != level:
            if self.is_sqlite:  # cannot change inside a transaction: before BEGIN
                cursor.execute(f"PRAGMA synchronous = {SQLITE_SYNCHRONOUS[level]}")
            conn.durability = level
        self._local.ended = []
        # One statement in autocommit mode is its own transaction: it takes
        # the write lock when it starts and commits when it ends.
        autocommit = single and self.is_sqlite
        self._local.committing = autocommit
        if not autocommit:
            cursor.execute("BEGIN IMMEDIATE" if (write and self.is_sqlite) else "BEGIN")
        self._local.depth = 1
        try:
            yield conn
            if not autocommit:
                self._local.committing = True
                cursor.execute("COMMIT")
        except BaseException:
            if not autocommit:
                try:
                    cursor.execute("ROLLBACK")
                except Exception:  # noqa: BLE001 - the original error matters more
                    pass
            self._local.depth = 0
            self._end(committed=False)
            raise
        finally:
            self._local.depth = 0
        self._end(committed=True)

    def _end(self, *, committed: bool) -> None:
        """Tell the `after_transaction` callbacks of the transaction that just ended."""
        ended, self._local.ended = self._local.ended, []
        for callback in ended:
            callback(committed)

    def after_transaction(self, callback: Callable[[bool], None]) -> None:
        """Call ``callback(committed)`` when the calling thread's transaction ends.

        For state kept outside the database that is true only once the
        transaction's rows are: `callback` gets True after the commit, False
        after a rollback (a retried transaction calls it for each attempt).

        Raises:
            RuntimeError: The calling thread is not inside a transaction.
        """
        if not self.in_transaction():
            raise RuntimeError("after_transaction() is for the inside of a transaction")
        self._local.ended.append(callback)

    def in_transaction(self) -> bool:
        """Whether the calling thread is inside a transaction."""
        return bool(getattr(self._local, "depth", 0))

    def write(self, work: Callable[[Connection], T], *, durable: bool = True,
              single: bool = False) -> T:
        """Run `work` in a write transaction, re-running it on transient errors.

        `work` must have no effects outside the database: it may run more
        than once.

        Args:
            work: The transaction's statements.
            durable: At ``durability = "full"``, whether the commit must be
                on disk when this returns. False commits at the ``normal``
                level: the rows are committed (a crash of this process loses
                nothing), and they become durable with the next durable
                commit of any connection (the WAL is flushed in order), for
                bookkeeping whose loss at a power cut loses nothing a durable
                row depends on. A nested call joins the outer transaction and
                its level.
            single: `work` runs exactly one statement and reads its result
                to the end. On SQLite it then runs without ``BEGIN`` and
                ``COMMIT``: a statement in autocommit mode is a transaction of
                its own, and the two statements saved are two more releases of
                the GIL for threads that want it (an engine's workers). On
                PostgreSQL, and inside a transaction, it changes nothing.
        """
        return self._run(work, write=True, durable=durable, single=single)

    def read(self, work: Callable[[Connection], T], *, own_writes: bool = True) -> T:
        """Run `work` in a read transaction (a consistent snapshot).

        Args:
            work: The transaction's statements.
            own_writes: False for a read that no write held back can change
                (deferred engine runs write no artifact rows, say): it then
                does not call `before_read`, which may write them first.
        """
        hook = self.before_read
        if hook is not None and own_writes and not self.in_transaction():
            hook()
        return self._run(work, write=False)

    def _run(self, work: Callable[[Connection], T], write: bool, durable: bool = True,
             single: bool = False) -> T:
        if self.in_transaction():
            with self._transaction(write) as conn:
                return work(conn)
        reconnected = False
        for attempt in range(MAX_RETRIES + 1):
            try:
                with self._transaction(write, durable, single) as conn:
                    return work(conn)
            except Exception as exc:  # noqa: BLE001 - filtered right below
                if self._connection_lost(exc):
                    # A restarted server or a dropped socket: open a new
                    # connection and run `work` once more, unless COMMIT was
                    # already sent (its outcome is unknown, so re-running
                    # could apply `work` twice).
                    committing = getattr(self._local, "committing", False)
                    self._forget_connection()
                    if not committing and not reconnected:
                        reconnected = True
                        continue
                if attempt == MAX_RETRIES or not self._is_transient(exc):
                    fault = self._named_fault(exc)
                    if fault is None:
                        raise
                    raise fault from exc
                time.sleep(min(0.5, 0.005 * 2**attempt) * random.random())
        raise AssertionError("unreachable")

    def _named_fault(self, exc: BaseException) -> Exception | None:
        """A clear `LineageError` for a fault of the database itself (not of a statement)."""
        if self.is_sqlite:
            import sqlite3

            if not isinstance(exc, sqlite3.OperationalError):
                return None
            text = str(exc)
            path = self.sqlite_path
            if "readonly" in text or "read-only" in text or "disk I/O error" in text:
                refused = refused_sqlite_files(path)
                if refused:
                    where, flag = refused[0]
                    named = "the file itself" if where == path else str(where)
                    return DatabaseWriteError(
                        f"cannot write to the SQLite database {path}: it is read-only, {named} "
                        f"is {flag} ({text}). Clear the flag (chattr -{flag[0]} {where}), then "
                        "run the command again."
                    )
            if "readonly" in text or "read-only" in text:
                return DatabaseWriteError(
                    f"cannot write to the SQLite database {path}: it is read-only ({text}). "
                    f"Make the file and its folder writable (an immutable file: chattr -i {path}; "
                    "a read-only mount: remount it) or connect to another instance."
                )
            if "disk is full" in text or "disk I/O error" in text:
                return DatabaseWriteError(
                    f"cannot write to the SQLite database {path}: {text}. Free space on its "
                    "disk (or check the disk), then run the command again."
                )
            if "unable to open" in text:
                return DatabaseUnreachable(
                    f"cannot open the SQLite database {path}: {text}. Check that the file and "
                    "its folder exist and are readable and writable."
                )
            return None
        sqlstate = getattr(exc, "sqlstate", None)
        if sqlstate == "42501":
            return _permission_denied(exc, self.url)
        if sqlstate == "25006":
            return DatabaseWriteError(
                f"cannot write to the database {self.safe_url}: it only allows read-only "
                "transactions (default_transaction_read_only, a hot standby). Connect to the "
                "primary server or ask its administrator for write access."
            )
        if sqlstate in ("53100", "53200"):
            return DatabaseWriteError(
                f"the database server of {self.safe_url} is out of disk space or memory "
                f"({str(exc).strip().splitlines()[0]}); free resources and run the command again."
            )
        if sqlstate is not None and sqlstate.startswith("08"):
            return DatabaseUnreachable(
                f"lost the connection to the database {self.safe_url} "
                f"({str(exc).strip().splitlines()[0] if str(exc).strip() else sqlstate}). "
                "Check that the server runs, then run the command again."
            )
        return None

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of one read-only statement outside any explicit transaction."""
        if self.in_transaction():
            return self.connection().fetchall(sql, params)
        return self.read(lambda conn: conn.fetchall(sql, params))

    def _is_transient(self, exc: BaseException) -> bool:
        if self.is_sqlite:
            import sqlite3

            return isinstance(exc, sqlite3.OperationalError) and (
                "locked" in str(exc) or "busy" in str(exc)
            )
        sqlstate = getattr(exc, "sqlstate", None)
        return sqlstate in {"40001", "40P01"}


def _permission_denied(exc: BaseException, url: str) -> PermissionDenied:
    """The clear error for what PostgreSQL refused this role (SQLSTATE 42501)."""
    import re
    from urllib.parse import urlsplit

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else "permission denied"
    role = urlsplit(url).username or "this role"
    policy = re.search(r'row-level security policy for table "([^"]+)"', text)
    if policy:
        table = policy.group(1)
        return PermissionDenied(
            f"the database refused to write a {table} row as role {role}: the row's space is "
            f"one this role may not write (it is not a member, or only with the role read), or "
            f"the row links to a record it may not write. Save into a space it writes (such as "
            f"all: ln.track(space=...), ln.settings.space), or ask an admin of the space for "
            f"write access: lineage space add-member SPACE {role} --role write."
        )
    if text.startswith("permission denied: role"):  # raised by lineage_check_space_write
        hint = getattr(getattr(exc, "diag", None), "message_hint", None)
        return PermissionDenied(f"{text}. {hint}." if hint else f"{text}.")
    table = re.search(r"permission denied for (?:table|relation|sequence) (\S+)", text)
    if table:
        name = table.group(1)
        what = {
            "space": "only the instance owner creates and changes spaces (lineage space create)",
            "lineage_instance": "only the instance owner changes instance settings and the "
                                "schema; set per-process settings with LINEAGE_* variables",
        }.get(name, "the instance owner grants members the use of the tables with "
                    f"lineage space add-member SPACE {role}")
        return PermissionDenied(f"role {role} may not change table {name} ({text}): {what}.")
    return PermissionDenied(f"the database refused this as role {role}: {text}.")


def is_unique_violation(exc: BaseException) -> bool:
    """Whether `exc` is a unique-constraint violation (SQLite or PostgreSQL)."""
    import sqlite3

    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc)
    return getattr(exc, "sqlstate", None) == "23505"


def _open_sqlite(path: Path) -> Any:
    import sqlite3

    try:
        raw = sqlite3.connect(
            str(path), timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, isolation_level=None,
            check_same_thread=False,
        )
        raw.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        mode = raw.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raw.execute(f"PRAGMA journal_mode = {mode}")
        raw.execute("PRAGMA synchronous = NORMAL")
        raw.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        raise DatabaseUnreachable(
            f"cannot open the SQLite database {path}: {exc}. Check that the folder exists "
            "and is writable, or connect to another instance with ln.connect(...)."
        ) from exc
    return raw


def _open_postgres(url: str) -> Any:
    try:
        import psycopg
    except ImportError as exc:
        raise DatabaseUnreachable(
            "PostgreSQL support needs psycopg: pip install 'lineage[postgres]'"
        ) from exc
    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    conninfo = conninfo.replace("postgres://", "postgresql://", 1)
    try:
        raw = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnreachable(
            f"cannot reach the database {redact_url(url)}: "
            f"{redact_secrets(first_line, url_secrets(url))}. "
            "Check that the server runs and the URL, user and database are right."
        ) from None
    return raw


def _close_quietly(raw: Any) -> None:
    """Close a DB-API connection; closing is best effort (it may be broken already)."""
    try:
        raw.close()
    except Exception:  # noqa: BLE001 - nothing to do about it
        pass
