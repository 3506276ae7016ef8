"""Random base62 uids; versioned families share a stem and differ in a suffix.

Uids name records; they are not secrets. They come from lineage's own
``random.Random``, seeded once from ``os.urandom`` and reseeded in a forked
child (so parent and child never draw the same uids). Each ``os.urandom`` call
is a system call that releases the GIL; inside an engine whose worker threads
all want it, one such call per record cost 0.6 ms of wall time (Prefect, 8
threads), against under 1 us for the generator.
"""

from __future__ import annotations

import os
import random

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#: Length of the stem shared by all versions of a family.
STEM_LENGTH = 12
#: Length of the version suffix.
SUFFIX_LENGTH = 4


_generator: random.Random | None = None


def _random() -> random.Random:
    """The process's uid generator, made on first use."""
    global _generator
    if _generator is None:
        _generator = random.Random(os.urandom(32))
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_reseed)
    return _generator


def _reseed() -> None:
    """In a forked child: draw a new seed, so the child's uids differ from the parent's."""
    if _generator is not None:
        _generator.seed(os.urandom(32))


#: Random bytes -> base62 characters: the 248 byte values below ``4 * 62`` map evenly to
#: the alphabet (`bytes.translate`), the 8 others are dropped (`_DROPPED`).
_TO_BASE62 = bytes(ord(ALPHABET[value % 62]) for value in range(248)) + bytes(8)
_DROPPED = bytes(range(248, 256))


def random_base62(length: int) -> str:
    """A random base62 string of `length` characters (about 5.95 bits each, each uniform).

    Random bytes, each of the first 248 values a character and the rest
    drawn again: one translation in C instead of a division per character.
    """
    generator = _random()
    text = b""
    while len(text) < length:  # a draw of `length + 8` bytes falls short about once in 10^11
        text += generator.randbytes(length + 8).translate(_TO_BASE62, _DROPPED)
    return text[:length].decode("ascii")


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
