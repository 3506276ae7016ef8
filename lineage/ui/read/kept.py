"""Answers kept in memory until the store changes (under its write stamp).

Read the stamp (`lineage.ui.read.stamp.write_stamp`) *before* computing an
answer and keep the answer under it: a later request with the same stamp
may use it, since no transaction has changed the store in between. A new
stamp drops everything kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

#: What `Kept.get` returns for "nothing kept".
MISSING = object()


class Kept:
    """The newest `size` answers, all under one write stamp.

    Args:
        size: Most answers kept.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._answers: OrderedDict[Any, Any] = OrderedDict()
        self._stamp: Any = None
        self._lock = threading.Lock()

    def get(self, stamp: Any, key: Any) -> Any:
        """The answer kept for `key` under `stamp`, or `MISSING` (always for stamp None)."""
        if stamp is None:
            return MISSING
        with self._lock:
            if stamp != self._stamp:  # the store changed: nothing kept is valid
                self._answers.clear()
                self._stamp = stamp
                return MISSING
            value = self._answers.get(key, MISSING)
            if value is not MISSING:
                self._answers.move_to_end(key)
            return value

    def put(self, stamp: Any, key: Any, value: Any) -> None:
        """Keep `value` for `key`, if `stamp` is still the newest stamp seen."""
        if stamp is None:
            return
        with self._lock:
            if stamp != self._stamp:  # another request saw a newer store: drop this
                return
            self._answers[key] = value
            self._answers.move_to_end(key)
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)

    def clear(self) -> None:
        """Forget every answer."""
        with self._lock:
            self._answers.clear()
            self._stamp = None


def current_stamp() -> Any:
    """The write stamp of the current database (None: do not keep)."""
    from lineage.db.record import current_db
    from lineage.ui.read.stamp import write_stamp

    return write_stamp(current_db())
