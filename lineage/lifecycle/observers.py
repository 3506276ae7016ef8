"""Callbacks told when runs start and finish (live OpenLineage emission, say).

The lifecycle calls `notify` after the write transaction of a run's start
and of its finish has committed. Observers must be fast (enqueue, never
send) and are isolated: one that raises is logged once and the run goes
on. The observers of a process are asked once, on the first notification,
from the installed `lineage.db.provider` (its optional ``run_observers()``),
so the lifecycle imports nothing above it; `add_observer` adds more.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from lineage.models.run import Run

logger = logging.getLogger("lineage.lifecycle")

Kind = Literal["start", "finish"]
Observer = Callable[[str, "Run"], None]

_observers: list[Observer] = []
_loaded = False
_failed: set[int] = set()
_lock = threading.Lock()


def add_observer(observer: Observer) -> None:
    """Call ``observer(kind, run)`` after each run start (``"start"``) and finish (``"finish"``)."""
    _load()
    with _lock:
        if observer not in _observers:
            _observers.append(observer)


def remove_observer(observer: Observer) -> None:
    """Stop calling `observer` (no error if it was not added)."""
    with _lock:
        if observer in _observers:
            _observers.remove(observer)


def reset() -> None:
    """Forget every observer; the provider is asked again on the next notification."""
    global _loaded
    with _lock:
        _observers.clear()
        _failed.clear()
        _loaded = False


def notify(kind: Kind, run: Run) -> None:
    """Tell every observer that `run` started or finished (never raises)."""
    if not _loaded:
        _load()
    if not _observers:
        return
    for observer in list(_observers):
        try:
            observer(kind, run)
        except Exception:  # noqa: BLE001 - an observer never breaks a run
            if id(observer) not in _failed:
                _failed.add(id(observer))
                logger.warning("run observer %r failed; the run goes on (logged once)",
                               observer, exc_info=True)


def _load() -> None:
    global _loaded
    with _lock:
        if _loaded:
            return
        _loaded = True
        try:
            from lineage.db import provider

            ask = getattr(provider.get(), "run_observers", None)
            found = list(ask()) if ask is not None else []
        except Exception:  # noqa: BLE001 - no observers rather than a broken run
            logger.warning("could not set up run observers; runs are recorded without them",
                           exc_info=True)
            found = []
        _observers.extend(o for o in found if o not in _observers)
