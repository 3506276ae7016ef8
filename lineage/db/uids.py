"""Random base62 uids; versioned families share a stem and differ in a suffix."""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: Length of the stem shared by all versions of a family.
STEM_LENGTH = 12
#: Length of the version suffix.
SUFFIX_LENGTH = 4


def random_base62(length: int) -> str:
    """A random base62 string of `length` characters (about 5.95 bits each)."""
    raw = int.from_bytes(secrets.token_bytes(length), "big")
    chars = []
    for _ in range(length):
        raw, rest = divmod(raw, 62)
        chars.append(ALPHABET[rest])
    return "".join(chars)


def to_base62(number: int, width: int) -> str:
    """`number` in base62, left-padded with zeros to `width`."""
    if number < 0:
        raise ValueError("number must be non-negative")
    chars = []
    while number:
        number, rest = divmod(number, 62)
        chars.append(ALPHABET[rest])
    return "".join(reversed(chars)).rjust(width, "0")


def versioned_uid(stem: str | None, version: int) -> str:
    """A uid for `version` (1-based) of the family with `stem` (new stem if None)."""
    stem = stem or random_base62(STEM_LENGTH)
    return stem + to_base62(version - 1, SUFFIX_LENGTH)
