"""Captured text the database cannot hold, escaped instead of refused.

PostgreSQL stores neither NUL characters nor lone surrogates (what Python
makes of undecodable bytes in file names, ``sys.argv`` and environment
variables), and the store refuses them on every backend alike. Text that
*tracking* captures on its own (parameters, command lines, derived keys,
git paths) must never make the user's program fail, so it is escaped:
undecodable bytes become ``\\xff`` (so the original bytes can be read
back), other lone surrogates ``\\udc80``-style escapes and NUL ``\\x00``.
Text the user hands over explicitly (a key, a name) is refused instead, by
the database layer.
"""

from __future__ import annotations


def is_storable(text: str) -> bool:
    """Whether both backends can store `text` as it is (no NUL, no lone surrogate)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def escape_text(text: str) -> str:
    """`text` itself when storable, else with NUL and lone surrogates escaped.

    ``"data\\udcff.csv"`` (from the bytes ``b"data\\xff.csv"``) becomes
    ``"data\\\\xff.csv"``; ``"a\\x00b"`` becomes ``"a\\\\x00b"``.
    """
    if is_storable(text):
        return text
    try:
        # Undecodable bytes (surrogateescape): show the bytes themselves.
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")
