"""Field and relation specifications: the one definition of the schema.

Record classes declare their columns with `Field` and their relations with
`ForeignKey`, `Reverse` and `ManyToMany`. The runtime reads and writes rows
through DB-API with these specs; `lineage.db.sa_schema` turns the same specs
into SQLAlchemy tables for migrations, so there is a single source of truth.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Column kinds understood by the dialects.
KINDS = frozenset({"int", "bigint", "str", "text", "bool", "float", "json", "datetime"})


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

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown field kind {self.kind!r}; use one of {sorted(KINDS)}")

    def initial(self) -> Any:
        """The value a new record starts with."""
        return self.default() if callable(self.default) else self.default


@dataclass(frozen=True)
class Index:
    """A composite or partial index.

    Attributes:
        name: Index name.
        columns: Indexed columns.
        unique: Whether the index is unique.
        where: SQL condition for a partial index (portable SQL only).
        hint: For a unique index, what to do when a save collides with it.
    """

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    where: str | None = None
    hint: str | None = field(default=None, compare=False)


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
    """Many-to-many through a link table: ``run.input_artifacts``."""

    link: str
    own_column: str
    other_column: str
    target: str
