"""Every exception `lineage` raises on purpose.

Each class mixes in the builtin a user would naturally catch, so both
``except lineage.LineageError`` and ``except LookupError`` work::

    LineageError
    ├── ValidationError (ValueError)
    │   ├── ParameterBindError (TypeError)
    │   ├── InvalidKeyError
    │   ├── ReadOnlyFieldError
    │   └── SettingsError
    ├── DoesNotExist (LookupError)
    ├── MultipleResultsFound (LookupError)
    ├── InstanceNotFound (LookupError)
    ├── ConflictError
    ├── NoActiveRun (RuntimeError)
    ├── RunAlreadyActive (RuntimeError)
    ├── SchemaVersionError (RuntimeError)
    ├── DatabaseUnreachable (ConnectionError)
    ├── DatabaseWriteError (OSError)
    ├── PermissionDenied (PermissionError)
    ├── StorageError (OSError)
    ├── BulkSaveError (RuntimeError)
    └── GraphvizNotInstalled (RuntimeError)

Messages say what was wrong and what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class LineageError(Exception):
    """Base class of all errors raised by lineage."""


class ValidationError(LineageError, ValueError):
    """A value given by the user is not acceptable."""


class ParameterBindError(ValidationError, TypeError):
    """Arguments given to a tracked function do not match its signature."""


class InvalidKeyError(ValidationError):
    """An artifact key is absolute, empty or escapes its storage location."""


class ReadOnlyFieldError(ValidationError):
    """A field that only lineage sets (a hash, a version, a run's status) was assigned."""

    def __init__(self, registry: str, field: str) -> None:
        self.registry = registry
        self.field = field
        super().__init__(
            f"{registry}.{field} is set by lineage and cannot be changed: it keeps "
            "identity, versions and lineage true. Create a new record (save the new "
            "content, run the code again) instead."
        )


class SettingsError(ValidationError):
    """A setting got an unknown name or a value outside its allowed set."""


class DoesNotExist(LineageError, LookupError):
    """A `get()` matched no record."""


class MultipleResultsFound(LineageError, LookupError):
    """A `get()` or `one()` matched more than one record."""


class InstanceNotFound(LineageError, LookupError):
    """No lineage instance exists at the given place."""


class ConflictError(LineageError):
    """Another writer changed the same field of the same record first.

    Attributes:
        registry: Name of the registry (for example ``"Artifact"``).
        uid: uid of the record.
        fields: Names of the fields both writers changed.
    """

    def __init__(self, registry: str, uid: str, fields: Sequence[str]) -> None:
        self.registry = registry
        self.uid = uid
        self.fields = tuple(fields)
        names = ", ".join(self.fields)
        super().__init__(
            f"{registry} {uid}: field(s) {names} were changed by another writer "
            "since this record was loaded. Call record.refresh(), re-apply your "
            "change and save again."
        )


class NoActiveRun(LineageError, RuntimeError):
    """An operation needs a current run and there is none."""


class RunAlreadyActive(LineageError, RuntimeError):
    """`track()` was called while a run is already being tracked."""


class SchemaVersionError(LineageError, RuntimeError):
    """The database schema was written by a newer version of lineage."""


class DatabaseUnreachable(LineageError, ConnectionError):
    """The metadata database cannot be reached or opened."""


class DatabaseWriteError(LineageError, OSError):
    """The metadata database refused a write: a read-only file, folder or database, a full disk."""


class PermissionDenied(LineageError, PermissionError):
    """The database refused a read or write for this role: a space it may not write, a
    table it has no privilege on (PostgreSQL spaces, see docs/spaces.md)."""


class StorageError(LineageError, OSError):
    """A storage location cannot be used (missing bucket, unreachable, ...)."""


class BulkSaveError(LineageError, RuntimeError):
    """Some artifacts of a bulk save failed; the completed ones stay saved.

    Attributes:
        saved: The records that were saved completely.
        failed: The records that left no trace.
    """

    def __init__(self, saved: Sequence[Any], failed: Sequence[Any], cause: BaseException) -> None:
        self.saved = list(saved)
        self.failed = list(failed)
        saved_names = _listing(self.saved)
        failed_names = _listing(self.failed)
        super().__init__(
            f"bulk save failed with {type(cause).__name__}: {cause}. "
            f"Saved: {saved_names}. Not saved (no trace left): {failed_names}. "
            "Fix the cause and save the failed ones again."
        )


class GraphvizNotInstalled(LineageError, RuntimeError):
    """The Graphviz `dot` program is missing."""


def _listing(records: Sequence[Any], limit: int = 10) -> str:
    shown = ", ".join(_describe(r) for r in records[:limit]) or "none"
    return shown + (f" and {len(records) - limit} more" if len(records) > limit else "")


def _describe(record: Any) -> str:
    key = getattr(record, "key", None)
    uid = getattr(record, "uid", None)
    return f"{key or '<no key>'} ({uid})" if uid else str(key or record)
