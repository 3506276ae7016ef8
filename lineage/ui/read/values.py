"""Turning stored values into JSON for the API: times, params, record references."""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: Longest text shown for one parameter value in tables.
SHORT_TEXT = 120


def iso(value: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 text (None stays None)."""
    return None if value is None else value.isoformat()


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """Duration in seconds, or None when either end is missing."""
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 6)


def flatten(values: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys: ``{"a": {"b": 1}} -> {"a.b": 1}``.

    Record references (``{"__record__": ..., "uid": ...}``) and other values
    stay whole.
    """
    if not isinstance(values, dict):
        return {prefix or "value": values} if values is not None else {}
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value and not is_reference(value) and not _escaped(value):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


def is_reference(value: Any) -> bool:
    """Whether `value` is a stored reference to a record."""
    return isinstance(value, dict) and "__record__" in value and "uid" in value


def _escaped(value: dict[str, Any]) -> bool:
    return any(str(k).startswith("__") for k in value)


def display(value: Any) -> str:
    """A short text for a table cell."""
    if is_reference(value):
        return f"{value['__record__']} {value.get('key') or value['uid']}"
    if isinstance(value, list) and value and all(is_reference(v) for v in value):
        kinds = sorted({v["__record__"] for v in value})
        return f"{len(value)} {'/'.join(kinds)} records: " + ", ".join(
            (v.get("key") or v["uid"])[:8] for v in value[:5]) + ("…" if len(value) > 5 else "")
    if isinstance(value, dict) and "__repr__" in value:
        text = str(value["__repr__"])
    elif isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    else:
        import json

        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= SHORT_TEXT else text[:SHORT_TEXT] + "…"


def reference_link(value: Any) -> str | None:
    """The UI path of a referenced record, or None."""
    if not is_reference(value):
        return None
    kind = {"Artifact": "artifacts", "Run": "runs", "Transform": "transforms",
            "Project": "projects"}.get(value["__record__"])
    return f"/{kind}/{value['uid']}" if kind else None
