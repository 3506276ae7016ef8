"""Nextflow's trace fields, read into plain values whatever their units.

A trace record comes as a weblog ``trace`` object (numbers: milliseconds,
bytes, epoch milliseconds), as a trace file written with ``trace.raw =
true`` (the same numbers as text) or as a default trace file (human-readable:
``1m 30s``, ``29.8 MB``, ``35.7%``, ``2014-10-23 16:33:16.288``, ``-`` for
nothing). `normalize` turns any of them into one shape: durations in
milliseconds, sizes in bytes, percentages as numbers, times as aware
datetimes, ``None`` for missing values; fields it does not know are kept
as given (Nextflow adds fields over time).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

#: Durations (milliseconds): time elapsed, and the ``time`` a task requested.
DURATIONS = frozenset({"duration", "realtime", "time"})
#: Sizes (bytes): memory used and requested, I/O, requested disk.
SIZES = frozenset({"rss", "vmem", "peak_rss", "peak_vmem", "rchar", "wchar", "read_bytes",
                   "write_bytes", "memory", "disk"})
#: Percentages.
PERCENTS = frozenset({"%cpu", "%mem"})
#: Timestamps.
TIMES = frozenset({"submit", "start", "complete"})
#: Whole numbers.
INTEGERS = frozenset({"task_id", "exit", "attempt", "cpus", "syscr", "syscw", "vol_ctxt",
                      "inv_ctxt"})
#: How a Nextflow field is named in ``run.details`` when its name is not a plain word.
RENAMED = {"%cpu": "cpu_percent", "%mem": "mem_percent"}
#: Nextflow's exit status of a task that never reported one (``Integer.MAX_VALUE``).
NO_EXIT = 2147483647

#: Nextflow task status -> lineage run status.
STATUSES = {"NEW": "scheduled", "SUBMITTED": "scheduled", "RUNNING": "started",
            "COMPLETED": "completed", "CACHED": "cached", "FAILED": "errored",
            "ABORTED": "aborted"}

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)(?![a-z])", re.IGNORECASE)
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGTPE]?i?B?)$", re.IGNORECASE)
_UNIT_POWERS = {"": 0, "B": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}
_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def missing(value: Any) -> bool:
    """Nextflow's ways of saying "no value": None, ``""``, ``-`` (also ``null`` as text)."""
    return value is None or (isinstance(value, str) and value.strip() in ("", "-", "null"))


def duration_ms(value: Any) -> int | None:
    """``1m 30s`` / ``352ms`` / ``1.5s`` / ``90000`` -> milliseconds."""
    if missing(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return int(float(text))
    parts = _DURATION_PART.findall(text)
    if not parts or _DURATION_PART.sub("", text).strip():
        raise ValueError(f"not a Nextflow duration: {value!r}")
    return round(sum(float(number) * _MS[unit.lower()] for number, unit in parts))


def size_bytes(value: Any) -> int | None:
    """``29.8 MB`` / ``121 KB`` / ``0`` / ``7516192768`` -> bytes (units of 1024)."""
    if missing(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    match = _SIZE.match(str(value).strip())
    if match is None:
        raise ValueError(f"not a Nextflow memory size: {value!r}")
    number, unit = match.groups()
    power = _UNIT_POWERS.get(unit[:1].upper() if unit else "")
    if power is None:
        raise ValueError(f"not a Nextflow memory size: {value!r}")
    return round(float(number) * 1024 ** power)


def percent(value: Any) -> float | None:
    """``35.7%`` / ``35.7`` -> 35.7."""
    if missing(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return float(str(value).strip().removesuffix("%"))


def timestamp(value: Any) -> datetime | None:
    """Epoch milliseconds, ISO 8601 or ``2014-10-23 16:33:16.288`` -> an aware datetime.

    A time without a zone (a human-readable trace file) is taken as local
    time of this machine, as Nextflow writes it in the local time of its own.
    """
    if missing(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, timezone.utc)
    text = str(value).strip()
    if re.fullmatch(r"\d{9,}", text):
        return datetime.fromtimestamp(int(text) / 1000, timezone.utc)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.astimezone()


def integer(value: Any) -> int | None:
    """``0`` / ``"0"`` -> 0; Nextflow's ``Integer.MAX_VALUE`` exit -> None."""
    if missing(value):
        return None
    number = int(float(value)) if not isinstance(value, int) else value
    return None if number == NO_EXIT else number


_READERS = ([(DURATIONS, duration_ms), (SIZES, size_bytes), (PERCENTS, percent),
             (TIMES, timestamp), (INTEGERS, integer)])


def normalize(trace: Mapping[str, Any]) -> dict[str, Any]:
    """One trace record with every known field in its plain unit (see the module docstring).

    Raises:
        ValueError: A known field holds a value of the wrong kind (the
            message names the field).
    """
    out: dict[str, Any] = {}
    for name, value in trace.items():
        reader = next((read for names, read in _READERS if name in names), None)
        if reader is None:
            out[name] = None if missing(value) else value
            continue
        try:
            out[name] = reader(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"trace field {name!r}: {exc}") from None
    return out


#: Fields that name a task; a record needs one of them.
NAMING = ("name", "process", "task_id", "hash")


def check_named(trace: Mapping[str, Any]) -> None:
    """Raise ValueError unless a normalized record names its task (`NAMING`)."""
    if all(trace.get(name) is None for name in NAMING):
        raise ValueError(f"a task record needs one of the fields {', '.join(NAMING)}")


def status_of(trace: Mapping[str, Any], default: str) -> str:
    """The lineage status of a normalized trace record (`default` when it has none)."""
    status = trace.get("status")
    if isinstance(status, str) and status.upper() in STATUSES:
        return STATUSES[status.upper()]
    if default == "completed" and trace.get("exit") not in (None, 0):
        return "errored"  # a custom trace without `status`: the exit status tells
    return default


def details_of(trace: Mapping[str, Any]) -> dict[str, Any]:
    """``run.details`` of a task: every field of a normalized record, times as ISO text."""
    out: dict[str, Any] = {}
    for name, value in trace.items():
        if isinstance(value, datetime):
            value = value.isoformat()
        out[RENAMED.get(name, name)] = value
    return out
