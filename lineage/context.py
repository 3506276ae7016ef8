"""The current run, kept in a ContextVar.

Threads and asyncio tasks each see their own current run. Worker threads
start with an empty context, so two fallbacks exist: the newest flow or
tracked run of the process (`current_run`: what steps and saved artifacts
in a worker thread link to), and the run of the whole process, the one
`track()` started (`context_run`: what a top-level flow links to; never a
flow of another thread).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING

from lineage.errors import NoActiveRun

if TYPE_CHECKING:
    from lineage.models.run import Run

_current_run: ContextVar[Run | None] = ContextVar("lineage_current_run", default=None)
_process_run: list[Run] = []
_detached: ContextVar[bool] = ContextVar("lineage_detached", default=False)
_whole_process_run: list[Run] = []


def current_run() -> Run | None:
    """The run of this thread or task, else the newest flow or tracked run of the process, else None.

    None inside `detached()`.
    """
    if _detached.get():
        return None
    run = _current_run.get()
    if run is not None:
        return run
    return _process_run[-1] if _process_run else None


def context_run() -> Run | None:
    """The run of this thread or task, else the run of the whole process (`track()`), else None.

    None inside `detached()`.
    """
    if _detached.get():
        return None
    run = _current_run.get()
    return run if run is not None else whole_process_run()


def current_run_id() -> int | None:
    """The id of `current_run()`, or None."""
    run = current_run()
    return None if run is None else run.id


def require_run() -> Run:
    """The current run.

    Raises:
        NoActiveRun: No run is being tracked here.
    """
    run = current_run()
    if run is None:
        raise NoActiveRun(
            "no run is active. Call ln.track() first, or run this inside an @ln.flow/@ln.step function."
        )
    return run


def enter_run(run: Run) -> Token:
    """Make `run` current in this context; returns the token for `exit_run`."""
    return _current_run.set(run)


def exit_run(token: Token) -> None:
    """Restore the run that was current before `enter_run`."""
    _current_run.reset(token)


def set_process_run(run: Run | None) -> None:
    """Set (or clear, with None) the fallback of `current_run` (the newest flow or tracked run)."""
    _process_run.clear()
    if run is not None:
        _process_run.append(run)


def set_whole_process_run(run: Run | None) -> None:
    """Set (or clear, with None) the run of the whole process, which every thread sees as its own."""
    _whole_process_run.clear()
    if run is not None:
        _whole_process_run.append(run)


def whole_process_run() -> Run | None:
    """The run of the whole process (`track()`), or None."""
    return _whole_process_run[-1] if _whole_process_run else None


def process_run() -> Run | None:
    """The newest flow or tracked run of the process (the fallback of `current_run`), or None."""
    return _process_run[-1] if _process_run else None


@contextmanager
def detached() -> Iterator[None]:
    """A block in which no run is current, not even the process's tracked run.

    Engine adapters save an input file that no known run made inside it, so
    the artifact gets no creating run.
    """
    token = _detached.set(True)
    try:
        yield
    finally:
        _detached.reset(token)
