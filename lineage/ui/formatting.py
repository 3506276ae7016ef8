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
    """A duration in seconds as text (``""`` for None)."""
    from lineage.graph.describe import seconds_text

    return "" if seconds is None else seconds_text(seconds)


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
