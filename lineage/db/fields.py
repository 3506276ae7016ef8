"""Field and relation specifications: the one definition of the schema.

Record classes declare their columns with `Field` and their relations with
`ForeignKey`, `Reverse` and `ManyToMany`. The runtime reads and writes rows
through DB-API with these specs; `lineage.db.sa_schema` turns the same specs
into SQLAlchemy tables for migrations, so there is a single source of truth.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: Column kinds understood by the dialects.
KINDS = frozenset({"int", "bigint", "str", "text", "bool", "float", "json", "datetime"})

#: Value ranges of the integer kinds (PostgreSQL ``integer`` and ``bigint``).
INT_RANGES = {"int": (-(2**31), 2**31 - 1), "bigint": (-(2**63), 2**63 - 1)}

_EXPECTED = {
    "int": "an integer", "bigint": "an integer", "str": "a string", "text": "a string",
    "bool": "True or False", "float": "a number", "json": "a JSON-compatible value",
    "datetime": "a datetime",
}


@dataclass(frozen=True)
class Field:
    """A column of a registry table.

    Attributes:
        kind: One of `KINDS`.
        nullable: Whether NULL is allowed.
        default: Python default applied on construction (a callable is called).
        index: Create a plain index on the column.
        unique: Create a unique index on the column.
        references: Name of the table this column points to (a foreign key).
        length: Maximum length for ``str`` columns.
        normalize: For text columns whose values have a normal form (artifact
            keys): the function saves use, applied to lookup values too, so
            ``get(key="raw//x.csv")`` finds what was saved as ``raw/x.csv``.
        normalize_prefix: The same for prefixes (``key__startswith``).
        on_delete: What the database does to this column when the referenced
            row is deleted (``"SET NULL"``); None refuses the delete.
        server_default: SQL default the database itself applies when an
            INSERT leaves the column out (raw SQL, older clients).
    """

    kind: str
    nullable: bool = True
    default: Any = None
    index: bool = False
    unique: bool = False
    references: str | None = None
    length: int | None = None
    normalize: Callable[[str], str] | None = field(default=None, compare=False, repr=False)
    normalize_prefix: Callable[[str], str] | None = field(default=None, compare=False, repr=False)
    on_delete: str | None = None
    server_default: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}; use one of {sorted(KINDS)}")

    def initial(self) -> Any:
        """The value a new record starts with."""
        return self.default() if callable(self.default) else self.default

    def validate(self, value: Any, label: str) -> Any:
        """`value` checked (and normalized) for this column; `label` names it in errors.

        Integers must be integers within the column's range (not bools), floats
        numbers (not NaN, which SQLite would store as NULL), bools bools, text
        valid Unicode without NUL (and within ``length``), JSON serializable,
        datetimes datetimes; None only where the column is nullable. numpy
        scalars are turned into the Python type.

        Raises:
            ValidationError: The value does not fit; the message names `label`.
        """
        if value is None:
            if self.nullable:
                return None
            raise _invalid(label, f"cannot be empty (None); it needs {_EXPECTED[self.kind]}")
        kind = self.kind
        if kind in ("int", "bigint"):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise _wrong_type(label, value, kind)
            value = int(value)
            low, high = INT_RANGES[kind]
            if not low <= value <= high:
                raise _invalid(label, f"must be between {low} and {high}, got {value}")
        elif kind in ("str", "text"):
            if not isinstance(value, str):
                raise _wrong_type(label, value, kind)
            if self.normalize is None:  # a normalizer (keys) checks the text with its own error
                from lineage.db.dialect import check_text

                check_text(value, label)
            if self.length is not None and len(value) > self.length:
                raise _invalid(label, f"is at most {self.length} characters long, got "
                                      f"{len(value)}: {value[:40]!r}")
        elif kind == "bool":
            if not isinstance(value, bool):
                if type(value).__module__ != "numpy" or type(value).__name__ not in ("bool", "bool_"):
                    raise _wrong_type(label, value, kind)
                value = bool(value)
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise _wrong_type(label, value, kind)
            value = float(value)
            if math.isnan(value):
                raise _invalid(label, "cannot be NaN; use None for a missing value")
        elif kind == "datetime":
            if not isinstance(value, datetime):
                raise _wrong_type(label, value, kind)
        elif kind == "json":
            from lineage.db.dialect import encode_json

            try:
                encode_json(value)
            except (TypeError, ValueError) as exc:
                raise _invalid(label, f"must be JSON-compatible: {exc}") from None
        return value


def _invalid(label: str, problem: str) -> Exception:
    from lineage.errors import ValidationError

    return ValidationError(f"{label} {problem}.")


def _wrong_type(label: str, value: Any, kind: str) -> Exception:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return _invalid(label, f"must be {_EXPECTED[kind]}, got {type(value).__name__} {shown}")


@dataclass(frozen=True)
class Index:
    """A composite or partial index.

    Attributes:
        name: Index name.
        columns: Indexed columns.
        unique: Whether the index is unique.
        where: SQL condition for a partial index (portable SQL only).
        hint: For a unique index, what to do when a save collides with it.
        postgresql_gin: The operator class of a PostgreSQL GIN index on
            one JSON column (``jsonb_path_ops``: containment, ``@>``). Such
            an index exists on PostgreSQL only: SQLite has no index type
            that looks inside JSON.
    """

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None
    hint: str | None = field(default=None, compare=False)
    postgresql_gin: str | None = None

    def applies_to(self, dialect: str | None) -> bool:
        """Whether the index exists on `dialect` (``sqlite``, ``postgresql``; None: any)."""
        return self.postgresql_gin is None or dialect in (None, "postgresql")


@dataclass(frozen=True)
class LinkTable:
    """A many-to-many link table between two registries.

    Attributes:
        name: Table name.
        left: (column, referenced table) of the first side.
        right: (column, referenced table) of the second side.
        extra: Extra columns.
    """

    name: str
    left: tuple[str, str]
    right: tuple[str, str]
    extra: dict[str, Field] = field(default_factory=dict)


@dataclass(frozen=True)
class ForeignKey:
    """Many-to-one: ``run.transform`` through ``run.transform_id``."""

    column: str
    target: str


@dataclass(frozen=True)
class Reverse:
    """One-to-many: ``transform.runs`` through ``run.transform_id``."""

    target: str
    column: str


@dataclass(frozen=True)
class ManyToMany:
    """Many-to-many through a link table: ``run.input_artifacts``.

    ``editable`` relations (labels, projects) take ``add()`` and
    ``remove()``; the others are lineage that runs record.
    """

    link: str
    own_column: str
    other_column: str
    target: str
    editable: bool = False
