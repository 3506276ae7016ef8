"""Engine task runs written once, at their end, unless something needs them sooner.

A task run written when it starts and again when it ends costs two write
transactions; for a short task of an engine (a Prefect task called in a
flow) those are most of what lineage adds. ``engine_run(..., defer=True)``
returns such a run unwritten, as a `PendingRun`, and it is written:

* with its final status, once `finish_run` ends it: in the next *batch*,
  which a background thread writes in one transaction `BATCH_SECONDS`
  after the first run in it ended, off the engine's task thread;
* as started, inside the transaction of the first artifact it saves
  (`joining`): the artifact's row and its creating run commit together, so
  a crash leaves both or neither; the run stays deferred for its end, which
  goes into a batch as below;
* as it stands (started, or ended and waiting for its batch), the moment
  anything else reads its ``id``: a step or task it initiates, a run that
  links to it (an artifact it loads is not one: `add_inputs` puts the link
  into the run's own write);
* with every other run waiting, before this process reads the store (so
  it reads its own writes), before it finishes a run that is not deferred
  (a flow's task runs are on disk before the flow's end), and before it
  starts another process (an audit hook on Python's process-spawning
  events: a child that links to a run through ``LINEAGE_PARENT_RUN_UID``
  or by the engine's id finds it);
* as started, `DEFER_SECONDS` after its start (the same thread), so a long
  task is seen running;
* as it stands, when the process exits normally.

A child process that may end without exit handlers (one started by
``multiprocessing``, a process-pool worker, or a plain ``os.fork``) does
not batch: there `finish_run` writes the run before it returns.

What a crash changes: after a ``kill -9``, a task run is not in the store
if it started less than `DEFER_SECONDS` ago and nothing pointed at it or
started a process; nor is one that ended less than `BATCH_SECONDS` ago
(its batch not written yet; it was not in the store as ended, nor perhaps
as started). Nothing on disk refers to either, and the flow run, written
at its start, shows the flow started (then aborted). A run that saved an
artifact is in the store with it, as started at least: the artifact's
row never points at a run that is not stored. Writes are idempotent
by the engine's id, so a run written twice (by a forked child, say) is
still one run.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from lineage.lifecycle import children
from lineage.models.run import Run

if TYPE_CHECKING:
    from datetime import datetime

    from lineage.db.database import Connection, Database

#: Seconds a deferred run may stay unwritten while it runs.
DEFER_SECONDS = 1.0
#: Seconds an ended run waits for others to end, so that they are written together.
#: Each commit costs about the same whatever it holds (the pages of the run table and
#: its indexes): batches of a quarter second took a third off the writer's CPU per run
#: against a tenth, for tasks of a few milliseconds (benchmarks/README.md, Prefect).
BATCH_SECONDS = 0.25
#: How often the background thread looks for runs due.
_TICK_SECONDS = 0.25


class RunWrite(Protocol):
    """How a deferred run is written, alone or in a batch (`engine_run` makes one per run).

    Attributes:
        db: The database the run goes to.
    """

    db: Database

    def alone(self) -> None:
        """Write it in a transaction of its own, as it stands."""

    def prepare(self, in_batch: Callable[[Any], bool]) -> None:
        """Before a batch's transaction: write the pending runs it links to that are not in
        the batch (`in_batch` tells membership)."""

    def stage(self, conn: Connection) -> Any:
        """Its statements, inside the batch's transaction; returns what `settle` needs.
        May run more than once (a retried transaction).

        A class may also offer ``stage_many(conn, writes)``, called first with
        all its writes of the batch: it stages those it can together and
        returns ``id(run)`` -> what `settle` needs for them; `stage` is called
        for the others.
        """

    def settle(self, result: Any) -> None:
        """After the batch committed: update the record and tell observers."""

    def durable(self) -> bool:
        """Whether its end must be on disk when the batch returns."""

    def add_inputs(self, artifact_ids: list[int]) -> None:
        """Link these saved artifacts as inputs of the run, in its write."""

    def join(self, conn: Connection) -> Any:
        """Its statements, as it stands, inside another write's transaction (`joining`);
        returns what `settle` needs. Changes nothing of that transaction's durability."""

    def mark_stored(self) -> None:
        """Its row is committed as started (`join`): later writes update it."""


@dataclass(slots=True)
class _Pending:
    """A run not written yet and how to write it."""

    run: PendingRun
    how: RunWrite
    since: float  # its start; once ended, its end
    writing: bool = False
    ended: bool = False  # waiting in `_queue` for its batch
    stored: bool = False  # written as started (`joining`): only its end is still to write


_lock = threading.RLock()  # held while writing: one write of deferred runs at a time
_registry = threading.Lock()  # held only while `_pending` and `_queue` change
_pending: dict[int, _Pending] = {}  # id(run object) -> its write
_queue: list[_Pending] = []  # ended runs waiting for their batch, in the order they ended
_wake = threading.Event()  # a run ended: the background thread starts a batch
_started: list[bool] = []  # the thread, audit hook and exit handler are installed
_forked: list[bool] = []  # this process is a forked child: no batches
_staging = threading.local()  # the batch this thread is writing: .conn, .entries, .results
_joined = threading.local()  # .run: the run `joining` lets this thread write in its transaction


class PendingRun(Run):
    """A `Run` whose row is not written yet: reading its ``id`` writes it.

    Once written it is a plain `Run` again (its class is switched back).
    It compares and hashes as the `Run` it becomes.
    """

    #: Tells `finish_run` to look here first (a plain `Run` has no such attribute).
    deferred = True

    @property  # type: ignore[override]
    def id(self) -> int | None:
        """The run's id, writing the run first if it is still pending."""
        value = self.__dict__.get("id")
        if value is None:
            value = write(self)
        return value

    @id.setter
    def id(self, value: int | None) -> None:
        self.__dict__["id"] = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other.uid == self.uid

    def __hash__(self) -> int:
        return hash((Run.__name__, self.uid))

    def __reduce_ex__(self, protocol: Any) -> Any:
        write(self)  # a copy gets a written run, not a second pending one
        return Run.__reduce_ex__(self, protocol)


def defer(run: Run, how: RunWrite) -> PendingRun:
    """Make `run` a `PendingRun` that `how` writes (as the run then stands)."""
    object.__setattr__(run, "__class__", PendingRun)  # not `Record.__setattr__`: no field
    with _registry:
        _pending[id(run)] = _Pending(run, how, time.monotonic())  # type: ignore[arg-type]
    how.db.before_close = write_all  # closing the instance writes what waits first
    if not _started:
        _start()
    return run  # type: ignore[return-value]


def is_pending(run: Any) -> bool:
    """Whether `run` is a deferred run not written yet."""
    return type(run) is PendingRun and id(run) in _pending


def add_inputs(run: Any, artifact_ids: list[int]) -> bool:
    """Add input links to the write of `run` if it is pending and not being written.

    Returns:
        False when `run` is not waiting to be written: the caller writes the links.
    """
    if type(run) is not PendingRun:
        return False
    with _registry:
        entry = _pending.get(id(run))
        if entry is None or entry.writing:
            return False
        entry.how.add_inputs(artifact_ids)
    return True


def write(run: PendingRun) -> int | None:
    """Write `run` now if it is pending (as it stands; an ended one with its batch).

    Returns its id. Raises what the write raises; the run then stays
    pending (a later finish, batch or exit writes it again).
    """
    with _lock:
        with _registry:
            entry = _pending.get(id(run))
            mine = entry is not None and not (entry.writing or entry.ended)
            if mine:
                entry.writing = True
        if entry is None:
            return run.__dict__.get("id")
        if mine and getattr(_joined, "run", None) is run and entry.how.db.in_transaction():
            _write_joined(entry)
        elif mine:
            try:
                entry.how.alone()
            except BaseException:
                entry.writing = False
                raise
            _written(entry)
        elif entry.writing:  # this thread is writing it (another's write would hold `_lock`)
            _stage_now(entry)  # in a batch: its id is wanted before its turn
        else:  # ended, waiting for its batch
            flush()
        return run.__dict__.get("id")


@contextmanager
def joining(run: Any) -> Iterator[None]:
    """Inside: the first read of pending `run`'s ``id`` in a write transaction of this
    thread writes the run in that transaction (an artifact the run saves).

    The run and the rows that point at it then commit together, or not at
    all (a rollback, a ``kill -9``). Holds the writing lock throughout, taken
    before the caller's transaction as the background writer takes it, so
    neither waits for the other's database lock while holding this one.
    """
    if not is_pending(run) or run.__dict__.get("id") is not None:  # no write to join
        yield
        return
    with _lock:
        _joined.run = run
        try:
            yield
        finally:
            _joined.run = None


def _write_joined(entry: _Pending) -> None:
    """Stage `entry` (claimed for writing) in the calling thread's transaction.

    Once that commits, the run is stored as started and stays pending for
    its end; after a rollback it is pending as before (no id).
    """
    run, db = entry.run, entry.how.db
    try:
        result = entry.how.join(db.connection())
    except BaseException:
        run.__dict__["id"] = None
        entry.writing = False
        raise

    def ended(committed: bool) -> None:
        if committed:
            entry.how.settle(result)
            entry.how.mark_stored()
        else:
            run.__dict__["id"] = None
        with _registry:
            entry.stored = entry.stored or committed
            entry.writing = False

    db.after_transaction(ended)


def finish(run: PendingRun, status: str, error: str | None, finished_at: datetime) -> bool | None:
    """End a pending run: its start and final status are written together.

    Returns:
        True when this call ended it (it is written now, or in the next
        batch); False when it had ended already (the first end is kept);
        None when it was not pending (written already: `finish_run` updates
        the row as usual).
    """
    with _registry:
        entry = _pending.get(id(run))
        state = ("written" if entry is None else "writing" if entry.writing
                 else "ended" if entry.ended else "open")
        if state == "open":
            run._assign(status=status, finished_at=finished_at, error=error)
            batched = _batching()
            if batched:
                entry.ended, entry.since = True, time.monotonic()
                first = not _queue
                _queue.append(entry)
    if state == "writing":
        with _lock:  # written as started right now: once that is done, the row is stored
            return None
    if state != "open":
        return None if state == "written" else False
    if not batched:
        write(run)
        return True
    entry.how.db.before_read = flush_quietly  # the process reads its own writes
    if first:  # the background thread times the batch from its first run
        _wake.set()
    return True


def flush() -> None:
    """Write the ended runs waiting for their batch now: one transaction per database.

    Raises what the write raises; the runs then wait for the next batch.
    """
    if not _queue:
        return
    with _lock:
        with _registry:
            batch = list(_queue)
            _queue.clear()
            for entry in batch:
                entry.writing = True
        by_db: dict[int, list[_Pending]] = {}
        for entry in batch:
            by_db.setdefault(id(entry.how.db), []).append(entry)
        failure: BaseException | None = None
        for entries in by_db.values():  # an unreachable database holds back its runs only
            try:
                _write_batch(entries)
            except BaseException as exc:  # noqa: BLE001 - raised below, once all are tried
                failure = failure or exc
        if failure is not None:
            with _registry:
                left = [entry for entry in batch if id(entry.run) in _pending]
                for entry in left:
                    entry.writing = False
                _queue[:0] = left
            raise failure


def flush_quietly() -> None:
    """`flush`, a failure logged once instead of raised (before a read or a flow's end)."""
    if _queue:
        try:
            flush()
        except Exception as exc:  # noqa: BLE001 - the next batch or the exit tries again
            _report(exc)


def write_all() -> None:
    """Write every pending run of this process now (before a child process, at exit).

    Stops at the first failure (an unreachable database fails them all; it
    is logged once): a run that cannot be written stays pending.
    """
    try:
        flush()
        with _registry:
            runs = [entry.run for entry in _pending.values()]
        for run in runs:
            write(run)
    except Exception as exc:  # noqa: BLE001 - a later finish, batch or tick writes it again
        _report(exc)


# --- batches -------------------------------------------------------------------------
def _write_batch(entries: list[_Pending]) -> None:
    """Write ended runs of one database in one transaction, then settle each."""
    members = {id(entry.run) for entry in entries}
    for entry in entries:
        entry.how.prepare(lambda run: id(run) in members)

    def work(conn: Connection) -> dict[int, Any]:
        _staging.conn, _staging.entries, _staging.results = conn, members, {}
        for kind, hows in _by_kind(entries).items():
            stage_many = getattr(kind, "stage_many", None)
            if stage_many is not None:
                _staging.results.update(stage_many(conn, hows))
        for entry in entries:  # the rest (all, for a kind without `stage_many`), in order
            _stage_now(entry)
        return _staging.results

    db = entries[0].how.db
    try:
        results = db.write(work, durable=any(entry.how.durable() for entry in entries))
    finally:
        _staging.__dict__.clear()
    for entry in entries:
        entry.how.settle(results[id(entry.run)])
        _written(entry)


def _by_kind(entries: list[_Pending]) -> dict[type, list[Any]]:
    """The writes of `entries` by their class, in order."""
    kinds: dict[type, list[Any]] = {}
    for entry in entries:
        kinds.setdefault(type(entry.how), []).append(entry.how)
    return kinds


def _stage_now(entry: _Pending) -> None:
    """Stage `entry` in this thread's batch if it is in it and not staged yet.

    A run's statements may need the id of another run of the batch (its
    upstream run) before that one's turn: it is staged first.
    """
    results = getattr(_staging, "results", None)
    key = id(entry.run)
    if results is not None and key in _staging.entries and key not in results:
        results[key] = None  # staging: a link back to this run reads the id set so far
        results[key] = entry.how.stage(_staging.conn)


def _written(entry: _Pending) -> None:
    with _registry:
        _pending.pop(id(entry.run), None)
    object.__setattr__(entry.run, "__class__", Run)


def _batching() -> bool:
    """Whether ended runs may wait for a batch: not in a child that may skip exit handlers."""
    if _forked:
        return False
    mp = sys.modules.get("multiprocessing")
    return mp is None or mp.parent_process() is None


# --- the background writer, the spawn hook and the exit handler ---------------------
def _start() -> None:
    import atexit

    with _registry:
        if _started:
            return
        _started.append(True)
    children.before_spawn(_write_before_spawn)
    atexit.register(write_all)
    os.register_at_fork(after_in_child=_after_fork)
    threading.Thread(target=_watch, name="lineage-deferred-runs", daemon=True).start()


def _write_before_spawn() -> None:
    """Before this process starts another one, write the pending runs (it may link to them)."""
    if _pending:
        write_all()


def _watch() -> None:
    """Write batches of ended runs, and runs pending for more than `DEFER_SECONDS`.

    After a failed write, the runs due wait `DEFER_SECONDS` (one failure is
    logged once; an unreachable database is not asked once per run).
    """
    retry_at = 0.0
    while True:
        _wake.wait(_next_wait(retry_at))
        _wake.clear()
        if not _pending or time.monotonic() < retry_at:
            continue
        try:
            _write_due()
        except Exception as exc:  # noqa: BLE001 - retried after another interval
            retry_at = time.monotonic() + DEFER_SECONDS
            _report(exc)


def _next_wait(retry_at: float) -> float:
    """Seconds until the batch is due, at most a tick (and not before `retry_at`)."""
    now = time.monotonic()
    first = _queue[0] if _queue else None
    wait = _TICK_SECONDS if first is None else first.since + BATCH_SECONDS - now
    return min(_TICK_SECONDS, max(wait, retry_at - now, 0.001))


def _write_due() -> None:
    """The batch, once its first run waited `BATCH_SECONDS`; then the long-running runs."""
    now = time.monotonic()
    first = _queue[0] if _queue else None
    if first is not None and now - first.since >= BATCH_SECONDS:
        flush()
    with _registry:
        due = [entry for entry in _pending.values()
               if now - entry.since >= DEFER_SECONDS
               and not (entry.writing or entry.ended or entry.stored)]
    for entry in due:
        write(entry.run)


def _after_fork() -> None:
    """In a forked child: fresh locks (the parent's may have been held by another thread).

    The parent's pending runs stay known: the child writes one if it needs
    its id (the write is idempotent by the engine's id; the parent's own
    write then finds it). No watcher thread runs in the child, and it does
    not batch.
    """
    global _lock, _registry, _wake
    _lock, _registry, _wake = threading.RLock(), threading.Lock(), threading.Event()
    _forked.append(True)
    for entry in _pending.values():
        entry.writing = False


def _report(exc: BaseException) -> None:
    from lineage.lifecycle.guard import report

    report("lifecycle", exc, "task runs")
