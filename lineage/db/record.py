"""The base class of every registry (Run, Artifact, Project, ...).

A record is a plain Python object whose columns are declared with
`lineage.db.fields.Field`. Loading keeps a snapshot of the loaded values so
`save()` writes only changed fields, each with a compare-and-swap on its
loaded value: concurrent writers of disjoint fields both succeed, writers of
the same field get `ConflictError` (see `lineage.db.cas`).

Assigning a field validates the value for its column (`Field.validate`), so
a wrong type is a `ValidationError` naming the field, never a string in an
integer column or a driver error. Fields a registry lists in
``system_fields`` (identity, versions, where an object lives, what a run
captured) are set by lineage only: assigning one raises `ReadOnlyFieldError`,
and so does saving a record whose system field was changed behind its back.
lineage's own code sets them with `Record._assign`.
"""

from __future__ import annotations

import copy
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

from lineage.db import provider
from lineage.db.dialect import utcnow
from lineage.db.fields import Field, ForeignKey, Index, ManyToMany, Reverse
from lineage.db.uids import random_base62
from lineage.errors import ReadOnlyFieldError, ValidationError

if TYPE_CHECKING:
    from typing_extensions import Self

    from lineage.db.database import Connection, Database
    from lineage.db.dialect import Dialect
    from lineage.db.query import QuerySet

_REGISTRIES: dict[str, type[Record]] = {}


def registry_class(name: str) -> type[Record]:
    """The registry class called `name` (``"Artifact"``)."""
    if name not in _REGISTRIES:
        provider.get().load_registries()
    return _REGISTRIES[name]


def all_registries() -> list[type[Record]]:
    """Every registry class, in declaration order."""
    provider.get().load_registries()
    return list(_REGISTRIES.values())


def current_db() -> Database:
    """The database of the current instance (connecting on first use)."""
    return provider.get().database()


class Record:
    """Base class of registries.

    Class attributes of a registry:
        __tablename__: Table name.
        fields: Columns other than ``id``.
        relations: Named relations usable as accessors and in lookups.
        indexes: Extra composite or partial indexes.
        uid_length: Length of random uids.
        hidden_flag: A boolean column whose true rows default queries hide.
        system_fields: Fields only lineage sets (read-only to users).
        feature_table: (table, column) holding the registry's feature values
            (``run_feature_value``, ``run_id``), or None if it has no features.
    """

    __tablename__: ClassVar[str]
    fields: ClassVar[dict[str, Field]] = {}
    system_fields: ClassVar[frozenset[str]] = frozenset({"uid", "created_at", "created_by_id"})
    relations: ClassVar[dict[str, ForeignKey | Reverse | ManyToMany]] = {}
    indexes: ClassVar[tuple[Index, ...]] = ()
    uid_length: ClassVar[int] = 12
    hidden_flag: ClassVar[str | None] = None
    feature_table: ClassVar[tuple[str, str] | None] = None

    id: int | None
    uid: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__tablename__" in cls.__dict__:
            _REGISTRIES[cls.__name__] = cls
            for name in cls.relations:
                if not hasattr(cls, name):
                    setattr(cls, name, _RelationAccessor(name))

    def __init__(self, **values: Any) -> None:
        unknown = set(values) - set(self.fields)
        if unknown:
            raise ValidationError(
                f"{type(self).__name__} has no field(s) {', '.join(sorted(unknown))}. "
                f"Fields: {', '.join(self.fields)}."
            )
        state = self.__dict__
        state["id"] = None
        state["_loaded"] = {}
        state["_loaded_raw"] = {}
        registry = type(self).__name__
        for name, spec in self.fields.items():
            if name in values and values[name] is not None:
                state[name] = spec.validate(values[name], f"{registry}.{name}")
            else:
                state[name] = values.get(name, spec.initial())
        if "uid" in self.fields and not values.get("uid"):
            state["uid"] = random_base62(self.uid_length)
        if "created_at" in self.fields and state["created_at"] is None:
            state["created_at"] = utcnow()

    def __setattr__(self, name: str, value: Any) -> None:
        spec = type(self).fields.get(name)
        if spec is not None:
            registry = type(self).__name__
            value = spec.validate(value, f"{registry}.{name}")
            if name in type(self).system_fields:
                raise ReadOnlyFieldError(registry, name)
        object.__setattr__(self, name, value)

    def _assign(self, **values: Any) -> None:
        """Set fields, system fields included, without checks (lineage's own code)."""
        self.__dict__.update(values)
    # --- schema ---------------------------------------------------------------
    @classmethod
    def columns(cls) -> dict[str, Field]:
        """Columns including ``id``."""
        return {"id": _ID_FIELD, **cls.fields}

    @classmethod
    def column_kind(cls, name: str) -> str:
        """The kind of column `name`."""
        return cls.columns()[name].kind

    @classmethod
    def select_sql(cls, alias: str | None = None) -> str:
        """``SELECT <all columns> FROM <table>``."""
        a = alias or cls.__tablename__
        cols = ", ".join(f"{a}.{c}" for c in cls.columns())
        tail = f" {alias}" if alias else ""
        return f"SELECT {cols} FROM {cls.__tablename__}{tail}"

    @classmethod
    def from_row(cls, row: tuple, dialect: Dialect) -> Self:
        """A record built from a full row in `columns()` order."""
        obj = cls.__new__(cls)
        state = obj.__dict__
        loaded: dict[str, Any] = {}
        loaded_raw: dict[str, Any] = {}
        state["_loaded"] = loaded
        state["_loaded_raw"] = loaded_raw
        for (name, spec), raw in zip(cls.columns().items(), row):
            value = dialect.decode(spec.kind, raw)
            state[name] = value
            if name != "id":
                loaded_raw[name] = raw
                loaded[name] = copy_json(value) if spec.kind == "json" else value
        return obj

    # --- queries --------------------------------------------------------------
    @classmethod
    def filter(cls, *conditions: Any, **lookups: Any) -> QuerySet[Self]:
        """Records matching Django-style `lookups` (see `lineage.db.lookups`)."""
        from lineage.db.query import QuerySet

        return QuerySet(cls).filter(*conditions, **lookups)

    @classmethod
    def objects_unhidden(cls) -> QuerySet[Self]:
        """A query over all rows, hidden ones included."""
        from lineage.db.query import QuerySet

        return QuerySet(cls, show_hidden=True)

    @classmethod
    def get(cls, idlike: int | str | None = None, **lookups: Any) -> Self:
        """The one record matching `lookups`, a uid or an id.

        Raises:
            DoesNotExist: Nothing matches.
            MultipleResultsFound: Several records match.
        """
        if isinstance(idlike, bool) or not isinstance(idlike, (int, str, type(None))):
            raise ValidationError(
                f"{cls.__name__}.get() takes a uid, a uid prefix or an id, got {idlike!r}; "
                "for a field use a keyword such as key='raw/data.csv'."
            )
        if isinstance(idlike, int):
            lookups["id"] = idlike
        elif isinstance(idlike, str):
            lookups["uid" if len(idlike) >= cls.uid_length else "uid__startswith"] = idlike
        return cls.filter(**lookups).get_one(lookups)

    @classmethod
    def to_dataframe(cls, include: list[str] | tuple[str, ...] | None = None, **lookups: Any) -> Any:
        """All (or matching) records as a pandas DataFrame (see `QuerySet.to_dataframe`)."""
        return cls.filter(**lookups).to_dataframe(include=include)

    @classmethod
    def extra_lookup(cls, alias: str, head: str, rest: list[str], op: str, value: Any,
                     dialect: Dialect) -> tuple[str, list[Any]] | None:
        """Hook for lookups that are neither columns nor relations (features)."""
        return None

    @classmethod
    def lookup_hint(cls, name: str) -> str:
        """More for the error of a lookup of an unknown `name` (registries with features list them)."""
        return ""

    # --- writing ----------------------------------------------------------------
    def changed_fields(self) -> dict[str, Any]:
        """Fields whose value differs from what was loaded or last saved."""
        return {
            name: getattr(self, name)
            for name in self.fields
            if name not in self._loaded or getattr(self, name) != self._loaded[name]
        }

    def save(self) -> Self:
        """Insert the record, or write its changed fields (compare-and-swap).

        Raises:
            ConflictError: Another writer changed one of the same fields first.
            ReadOnlyFieldError: A system field was changed.
            ValidationError: A field holds a value its column cannot store.
        """
        db = current_db()
        if self.id is None:
            db.write(self._insert)
        else:
            from lineage.db.cas import update_changed

            update_changed(db, self)
        return self

    def check_changes(self, changes: dict[str, Any], *, system: bool = False) -> None:
        """Refuse changed system fields and values their columns cannot store.

        Values normally pass `Field.validate` on assignment; this catches
        those changed in place (a JSON dict) or through ``__dict__``.

        Raises:
            ReadOnlyFieldError, ValidationError: As on assignment.
        """
        registry = type(self).__name__
        for name, value in changes.items():
            if name in self.system_fields and not system:
                raise ReadOnlyFieldError(registry, name)
            self.fields[name].validate(value, f"{registry}.{name}")

    def _insert(self, conn: Connection) -> None:
        self.id = insert_row(conn, self)

    def mark_saved(self, dialect: Dialect) -> None:
        """Take the current values as the loaded snapshot."""
        for name, spec in self.fields.items():
            value = getattr(self, name)
            self._loaded[name] = copy_json(value) if spec.kind == "json" else value
            self._loaded_raw[name] = dialect.encode(spec.kind, value)

    def refresh(self) -> Self:
        """Reload every field from the database, dropping unsaved changes."""
        db = current_db()
        if self.id is None:
            raise ValidationError(f"{type(self).__name__} {self.uid} is not saved yet; nothing to refresh.")
        row = db.query(f"{self.select_sql()} WHERE id = ?", [self.id])
        if not row:
            from lineage.errors import DoesNotExist

            raise DoesNotExist(f"{type(self).__name__} {self.uid} was deleted by another writer.")
        fresh = self.from_row(row[0], db.dialect)
        self.__dict__.update(fresh.__dict__)
        return self

    def delete(self) -> None:
        """Delete the record (link rows cascade)."""
        if self.id is None:
            return
        record_id = self.id
        current_db().write(lambda conn: delete_rows(conn, type(self), record_id))
        self.id = None

    # --- display ----------------------------------------------------------------
    def __repr__(self) -> str:
        shown = []
        for name in ("uid", "key", "name", "version", "version_tag", "kind", "status", "description", "is_latest"):
            if name in self.fields and getattr(self, name, None) not in (None, ""):
                shown.append(f"{name}={getattr(self, name)!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.uid == other.uid  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.uid))

    def describe(self) -> None:
        """Print a readable summary of the record."""
        provider.get().describe(self)

    def _warn_similar(self, field: str, value: str) -> None:
        """Warn about records whose `field` resembles `value` (not equal)."""
        similar = [getattr(r, field) for r in type(self).filter(**{f"{field}__icontains": value[:32]}).all()]
        similar += [getattr(r, field) for r in type(self).filter(**{f"{field}__istartswith": value[:3]}).all()] if len(value) >= 3 else []
        names = sorted({s for s in similar if s != value})[:10]
        if names:
            warnings.warn(
                f"creating {type(self).__name__} {value!r}; similar names exist: "
                f"{', '.join(repr(n) for n in names)}. Use one of them if you meant it "
                "(switch this check off with ln.settings.upon_create_search_names = False).",
                UserWarning, stacklevel=4,
            )


class _RelationAccessor:
    """``record.<relation>``: a query (or a record, for a foreign key)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, obj: Record | None, owner: type[Record]) -> Any:
        if obj is None:
            return self
        relation = owner.relations[self.name]
        target = registry_class(relation.target)
        if isinstance(relation, ForeignKey):
            target_id = getattr(obj, relation.column)
            return None if target_id is None else target.objects_unhidden().filter(id=target_id).first()
        if isinstance(relation, Reverse):
            if obj.id is None:
                return target.filter(id__in=[])
            return target.filter(**{relation.column: obj.id})
        from lineage.db.linkset import LinkSet

        return LinkSet(target, obj, relation, self.name)


def copy_json(value: Any) -> Any:
    """A deep copy of a decoded JSON value (dicts, lists, scalars), several times faster
    than `copy.deepcopy`; anything else is deep-copied as usual."""
    kind = type(value)
    if kind is dict:
        return {key: copy_json(item) for key, item in value.items()}
    if kind is list:
        return [copy_json(item) for item in value]
    if kind in (str, int, float, bool) or value is None:
        return value
    return copy.deepcopy(value)


def insert_row(conn: Connection, record: Record) -> int:
    """INSERT `record` and return its new id; the snapshot is updated.

    Raises:
        ValidationError: A required field is empty (None).
    """
    names = list(record.fields)
    for name in names:
        spec = record.fields[name]
        if not spec.nullable and getattr(record, name) is None:
            spec.validate(None, f"{type(record).__name__}.{name}")
    values = [conn.dialect.encode(record.fields[n].kind, getattr(record, n)) for n in names]
    sql = (f"INSERT INTO {record.__tablename__} ({', '.join(names)}) "
           f"VALUES ({', '.join('?' for _ in names)}) RETURNING id")
    new_id = conn.execute(sql, values).fetchone()[0]
    record.mark_saved(conn.dialect)
    return new_id


def delete_rows(conn: Connection, cls: type[Record], record_id: int) -> None:
    """Delete one row of `cls` and every link row pointing at it."""
    for link in provider.get().link_tables():
        for column, table in (link.left, link.right):
            if table == cls.__tablename__:
                conn.execute(f"DELETE FROM {link.name} WHERE {column} = ?", [record_id])
    conn.execute(f"DELETE FROM {cls.__tablename__} WHERE id = ?", [record_id])


_ID_FIELD = Field("bigint", nullable=False)
