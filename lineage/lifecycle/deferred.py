"""Engine task runs written once, at their end, unless something needs them sooner.

A task run written when it starts and again when it ends costs two write
transactions; for a short task of an engine (a Prefect task called in a
flow) those are most of what lineage adds. ``engine_run(..., defer=True)``
returns such a run unwritten, as a `PendingRun`, and it is written:

* with its final status, in one transaction, when `finish_run` ends it;
* as started, the moment anything reads its ``id``: an artifact it saves
  or loads, a step or task it initiates, a run that links to it;
* as started, before this process starts another process (an audit hook on
  Python's process-spawning events), so a child that links to it through
  ``LINEAGE_PARENT_RUN_UID`` finds it;
* as started, `DEFER_SECONDS` after its start (a background thread), so a
  long task is seen running;
* as it stands, when the process exits normally.

What a crash changes: a task run not written yet (it started less than
`DEFER_SECONDS` ago, nothing points at it and it started no process) is
not in the store after a ``kill -9``. Nothing on disk refers to it, and the
flow run, written at its start as before, shows the flow started (then
aborted). Writes are idempotent by the engine's id, so a run written twice
(by a forked child, say) is still one run.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from lineage.models.run import Run

if TYPE_CHECKING:
    from datetime import datetime

#: Seconds a deferred run may stay unwritten while it runs.
DEFER_SECONDS = 1.0
#: How often the background thread looks for runs due.
_TICK_SECONDS = 0.25
#: Audit events raised before a process is started (or replaced).
_SPAWNING = frozenset({"subprocess.Popen", "os.posix_spawn", "os.spawn", "os.system",
                       "os.exec", "os.fork", "os.forkpty"})


@dataclass
class _Pending:
    """A run not written yet and how to write it."""

    run: PendingRun
    write: Callable[[], None]
    since: float
    writing: bool = False


_lock = threading.RLock()
_pending: dict[int, _Pending] = {}  # id(run object) -> its write
_started: list[bool] = []  # the thread, audit hook and exit handler are installed


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


def defer(run: Run, write_run: Callable[[], None]) -> PendingRun:
    """Make `run` a `PendingRun` that `write_run` writes (as the run then stands)."""
    run.__class__ = PendingRun
    with _lock:
        _pending[id(run)] = _Pending(run, write_run, time.monotonic())  # type: ignore[arg-type]
    if not _started:
        _start()
    return run  # type: ignore[return-value]


def is_pending(run: Any) -> bool:
    """Whether `run` is a deferred run not written yet."""
    return type(run) is PendingRun and id(run) in _pending


def write(run: PendingRun) -> int | None:
    """Write `run` now if it is pending (as it stands); returns its id.

    Raises what the write raises; the run then stays pending (a later
    finish or exit writes it again).
    """
    with _lock:
        entry = _pending.get(id(run))
        if entry is None or entry.writing:  # written already, or this write reading its id
            return run.__dict__.get("id")
        entry.writing = True
        try:
            entry.write()
        except BaseException:
            entry.writing = False
            raise
        del _pending[id(run)]
        run.__class__ = Run
        return run.__dict__.get("id")


def finish(run: PendingRun, status: str, error: str | None, finished_at: datetime) -> bool | None:
    """End a pending run in one write: its start and final status together.

    Returns:
        True when this call wrote it; None when it was not pending (written
        already: `finish_run` updates the row as usual).
    """
    with _lock:
        entry = _pending.get(id(run))
        if entry is None or entry.writing:
            return None
        run._assign(status=status, finished_at=finished_at, error=error)
        write(run)
        return True


def write_all() -> None:
    """Write every pending run of this process now (before a child process, at exit).

    Stops at the first failure (an unreachable database fails them all; it
    is logged once): a run that cannot be written stays pending.
    """
    with _lock:
        runs = [entry.run for entry in _pending.values()]
    for run in runs:
        try:
            write(run)
        except Exception as exc:  # noqa: BLE001 - a later finish or tick writes it again
            _report(exc)
            return


# --- the background writer, the spawn hook and the exit handler ---------------------
def _start() -> None:
    import atexit

    with _lock:
        if _started:
            return
        _started.append(True)
    sys.addaudithook(_on_audit)
    atexit.register(write_all)
    os.register_at_fork(after_in_child=_after_fork)
    threading.Thread(target=_watch, name="lineage-deferred-runs", daemon=True).start()


def _on_audit(event: str, args: tuple[Any, ...]) -> None:
    """Before this process starts another one, write the pending runs (it may link to them)."""
    if _pending and event in _SPAWNING:
        try:
            write_all()
        except BaseException:  # noqa: BLE001 - an audit hook that raises would stop the spawn
            pass


def _watch() -> None:
    """Write runs pending for more than `DEFER_SECONDS` (a long task is seen running).

    After a failed write, the runs due wait another interval (one failure
    is logged once; an unreachable database is not asked once per run).
    """
    while True:
        time.sleep(_TICK_SECONDS)
        if not _pending:
            continue
        now = time.monotonic()
        with _lock:
            due = [entry for entry in _pending.values()
                   if now - entry.since >= DEFER_SECONDS and not entry.writing]
        for entry in due:
            try:
                write(entry.run)
            except Exception as exc:  # noqa: BLE001 - retried after another interval
                later = time.monotonic()
                for waiting in due:
                    waiting.since = later
                _report(exc)
                break


def _after_fork() -> None:
    """In a forked child: a fresh lock (the parent's may have been held by another thread).

    The parent's pending runs stay known: the child writes one if it needs
    its id (the write is idempotent by the engine's id; the parent's own
    write then finds it). No watcher thread runs in the child.
    """
    global _lock
    _lock = threading.RLock()
    for entry in _pending.values():
        entry.writing = False


def _report(exc: BaseException) -> None:
    from lineage.lifecycle.guard import report

    report("lifecycle", exc, "the start of a task run")

