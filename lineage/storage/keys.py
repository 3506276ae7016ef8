"""Keys: validation of user keys and the content-addressed object layout.

A key is a relative, ``/``-separated path inside a storage location. The same
rules hold for local folders and for S3, so a key valid in one is valid in the
other.

Objects are stored at ``objects/<first 2 hex digits>/<sha256 hex><suffix>``,
for example ``objects/9f/9f86d08...b0f00a08.csv``: 256 shards keep folders
small, the full hash in the name makes an object easy to find, and the suffix
keeps the file's extension for tools that look at it.

The objects of a space other than ``all`` live under that space's prefix,
``spaces/<space uid>/objects/ab/...``, so a bucket policy can restrict each
space's prefix to its members (docs/spaces.md). The space ``all`` keeps the
plain ``objects/`` layout: every member reads it, and instances made before
spaces need no object moved.
"""

from __future__ import annotations

import re

from lineage.errors import InvalidKeyError, ValidationError

OBJECTS_PREFIX = "objects"
"""First segment of every content-addressed object key."""

SPACES_PREFIX = "spaces"
"""First segment of the prefixes of spaces other than ``all``."""

_SPACE_UID = re.compile(r"^[0-9A-Za-z]{1,32}$")

MAX_KEY_BYTES = 1024
"""Longest key in UTF-8 bytes (the S3 limit)."""

MAX_SEGMENT_BYTES = 255
"""Longest path segment in UTF-8 bytes (the usual file name limit)."""

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SUFFIX = re.compile(r"^(\.[A-Za-z0-9_+~-]{1,32}){0,3}$")


def validate_key(key: str) -> str:
    """Check a key and return its normal form.

    Empty and ``.`` segments are dropped (``a//./b`` becomes ``a/b``) and a
    ``..`` segment removes the segment before it, as long as the key stays
    inside the storage location (``a/../b`` becomes ``b``). Lookups
    (``Artifact.get(key=...)``) normalize with this same function.

    Args:
        key: A relative ``/``-separated path such as ``raw/sample.fasta``.

    Returns:
        The normalized key.

    Raises:
        InvalidKeyError: The key is not a string, is empty, absolute (``/x``,
            ``C:\\x``, ``C:/x``), contains a backslash, NUL or another control
            character or a lone surrogate, ends with ``/``, escapes the
            storage location with ``..``, or is too long. The message says
            how to fix it.
    """
    _check_characters(key)
    if not key.strip():
        raise InvalidKeyError(
            f"key {key!r} is empty; give a relative path such as 'raw/sample.fasta'."
        )
    if key.endswith("/"):
        raise InvalidKeyError(
            f"key {key!r} ends with '/'; a key names a file, e.g. "
            f"{key.rstrip('/') + '/data.csv'!r}."
        )
    parts = _resolve(key)
    if not parts:
        raise InvalidKeyError(
            f"key {key!r} names no file once '.' and '..' are resolved; "
            "give a path such as 'raw/sample.fasta'."
        )
    normalized = "/".join(parts)
    if len(normalized.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidKeyError(
            f"key {normalized[:60]!r}... is longer than {MAX_KEY_BYTES} bytes; shorten it."
        )
    return normalized


def validate_key_prefix(prefix: str) -> str:
    """The normal form of the start of a key (``key__startswith=...``).

    Normalized as `validate_key` does, keeping a trailing ``/``: ``./raw//``
    becomes ``raw/``; a prefix that resolves to nothing (``./``) becomes ``""``.

    Raises:
        InvalidKeyError: As `validate_key`, except for a trailing ``/``.
    """
    _check_characters(prefix)
    last = prefix.rsplit("/", 1)[-1]
    folder = prefix.endswith("/") or last in (".", "..")
    parts = _resolve(prefix)
    return "/".join(parts) + ("/" if folder and parts else "")


def _check_characters(key: str) -> None:
    if not isinstance(key, str):
        raise InvalidKeyError(f"key must be a string, got {type(key).__name__}: {key!r}.")
    if "\\" in key:
        raise InvalidKeyError(
            f"key {key!r} contains a backslash; use '/' to separate folders, "
            f"e.g. {key.replace(chr(92), '/')!r}."
        )
    bad = _CONTROL.search(key) or _SURROGATE.search(key)
    if bad and bad.re is _SURROGATE:
        raise InvalidKeyError(
            f"key {key!r} is not valid Unicode (a lone surrogate {bad.group()!r} at position "
            f"{bad.start()}, as Python gives for a file name that is not UTF-8); "
            "give the key in valid text, for example with that character replaced."
        )
    if bad:
        raise InvalidKeyError(
            f"key {key!r} contains the control character {bad.group()!r} "
            f"at position {bad.start()}; remove it."
        )
    if key.startswith("/"):
        raise InvalidKeyError(
            f"key {key!r} is absolute; give a path relative to the storage "
            f"location, e.g. {key.lstrip('/') or 'data.csv'!r}."
        )
    if _DRIVE.match(key):
        raise InvalidKeyError(
            f"key {key!r} starts with a drive letter; give a path relative to "
            "the storage location, e.g. 'raw/sample.fasta'."
        )


def _resolve(key: str) -> list[str]:
    """The segments of `key` once empty, ``.`` and ``..`` segments are resolved."""
    parts: list[str] = []
    for segment in key.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not parts:
                raise InvalidKeyError(
                    f"key {key!r} escapes the storage location with '..'; "
                    "give a path that stays inside it, without '..'."
                )
            parts.pop()
            continue
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidKeyError(
                f"key {key!r} has a segment longer than {MAX_SEGMENT_BYTES} bytes; "
                "shorten that folder or file name."
            )
        parts.append(segment)
    return parts


def validate_suffix(suffix: str) -> str:
    """Check an object suffix such as ``.csv`` or ``.tar.gz`` (or ``""``).

    Raises:
        ValidationError: The suffix is not up to three ``.``-led parts of
            letters, digits, ``_``, ``-``, ``+`` or ``~``.
    """
    if not isinstance(suffix, str) or not _SUFFIX.match(suffix):
        raise ValidationError(
            f"suffix {suffix!r} is not a file extension such as '.csv' or '.tar.gz'; "
            "pass '' for none."
        )
    return suffix


def space_prefix(space_uid: str | None) -> str:
    """The key prefix of a space's objects: ``spaces/<uid>/``, or ``""`` for ``all`` (None).

    Raises:
        ValidationError: ``space_uid`` is not a plain uid (letters and digits).
    """
    if space_uid is None:
        return ""
    if not isinstance(space_uid, str) or not _SPACE_UID.match(space_uid):
        raise ValidationError(f"{space_uid!r} is not a space uid (letters and digits).")
    return f"{SPACES_PREFIX}/{space_uid}/"


def object_key_for(sha256: str, suffix: str = "", space_uid: str | None = None) -> str:
    """Content-addressed key of an object: ``[spaces/<uid>/]objects/ab/abcdef...<suffix>``.

    Args:
        sha256: Lowercase hex SHA-256 of the content (a file or a folder
            manifest).
        suffix: The file extension to keep, e.g. ``.csv``; ``""`` for none
            (and for folders).
        space_uid: The uid of the space whose object it is; None for ``all``.

    Raises:
        ValidationError: ``sha256`` is not 64 lowercase hex digits, the
            suffix is not a plain extension or the space uid not a uid.
    """
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise ValidationError(
            f"{sha256!r} is not a SHA-256 digest (64 lowercase hex digits); "
            "use hash_file(...).sha256."
        )
    return (f"{space_prefix(space_uid)}{OBJECTS_PREFIX}/{sha256[:2]}/{sha256}"
            f"{validate_suffix(suffix)}")
