"""Adapter code never breaks the pipeline it observes.

Every engine hook of an integration runs inside `guarded`: an exception
(an unreachable database, a bug, an engine object of an unexpected shape)
is logged once per adapter and kind of failure, at WARNING on the logger
``lineage.<adapter>``, then at DEBUG, and the engine goes on as if lineage
were not there. A database out of reach is one kind of failure, whatever
the driver calls it (a terminated connection, a refused one, a closed one,
a read-only file), so an outage mid-pipeline gives one warning::

    @guarded("prefect", "the start of a task run")
    def on_running(task, task_run, state): ...

    with guarded("snakemake", "job 12"):
        ...

``KeyboardInterrupt`` and ``SystemExit`` are never swallowed.
"""

from __future__ import annotations

import functools
import logging
import threading
from types import TracebackType
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_reported: set[tuple[str, str, str]] = set()
_lock = threading.Lock()
#: Failures seen per adapter in this process (also those logged at DEBUG only).
failures: dict[str, int] = {}


class guarded:  # noqa: N801 - used like a function: `with guarded(...)`, `@guarded(...)`
    """Catch, log once and swallow exceptions of adapter code.

    Args:
        adapter: The integration (``"prefect"``); names the logger.
        what: What the code was recording, for the message.
    """

    def __init__(self, adapter: str, what: str = "lineage") -> None:
        self.adapter = adapter
        self.what = what

    def __enter__(self) -> guarded:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        report(self.adapter, exc, self.what)
        return True

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with guarded(self.adapter, self.what):
                return fn(*args, **kwargs)
            return None

        return wrapper  # type: ignore[return-value]


#: DB-API exception classes (any driver) that mean the database cannot be written now.
_UNREACHABLE = frozenset({"OperationalError", "InterfaceError", "DatabaseUnreachable"})


def failure_kind(exc: BaseException) -> str:
    """What `exc` is for logging it once: ``"database unreachable"`` or its type's name."""
    if isinstance(exc, ConnectionError) or any(
            cls.__name__ in _UNREACHABLE for cls in type(exc).__mro__):
        return "database unreachable"
    return type(exc).__name__


def report(adapter: str, exc: BaseException, what: str = "lineage") -> None:
    """Log `exc` of `adapter`: the first time per kind at WARNING, later at DEBUG."""
    logger = logging.getLogger(f"lineage.{adapter}")
    kind = (adapter, what, failure_kind(exc))
    with _lock:
        failures[adapter] = failures.get(adapter, 0) + 1
        first = kind not in _reported
        _reported.add(kind)
    if first:
        logger.warning(
            "lineage-%s could not record %s (%s: %s); the pipeline goes on without it. "
            "Further failures of this kind are logged at DEBUG level.",
            adapter, what, type(exc).__name__, exc, exc_info=exc)
    else:
        logger.debug("lineage-%s could not record %s", adapter, what, exc_info=exc)
