"""Small formatting helpers the templates use (times, durations, sizes, statuses)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from lineage.ui.read.values import display, reference_link


def when(value: str | None) -> str:
    """An ISO timestamp in local time, to the second."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def duration(seconds: float | None) -> str:
    """``0.25 -> "250 ms"``, ``75 -> "75.0 s"``, ``600 -> "10.0 min"``."""
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def size(value: int | None) -> str:
    """Bytes in binary units."""
    from lineage.graph.describe import human_size

    return human_size(value)


def pretty(value: Any) -> str:
    """Indented JSON for a value shown whole."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=False)


def short_uid(uid: str | None) -> str:
    """The first 8 characters of a uid."""
    return (uid or "")[:8]


FILTERS = {"when": when, "duration": duration, "size": size, "pretty": pretty,
           "display": display, "short": short_uid, "ref_link": reference_link}
GLOBALS: dict[str, Any] = {}
