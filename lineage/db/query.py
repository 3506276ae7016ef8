"""`QuerySet`: what `Registry.filter()` and relation accessors return.

Lazy and immutable: `filter()` and `order_by()` return new query sets; SQL
runs when the query set is iterated or asked for `all()`, `first()`,
`count()` and friends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from lineage.db.lookups import compile_lookup
from lineage.errors import DoesNotExist, MultipleResultsFound, ValidationError

if TYPE_CHECKING:
    from lineage.db.database import Database
    from lineage.db.record import Record

R = TypeVar("R", bound="Record")


class QuerySet(Generic[R]):
    """A lazy query over one registry.

    Args:
        model: The registry class.
        show_hidden: Include rows that default queries hide (``storage_ongoing``).
    """

    def __init__(self, model: type[R], show_hidden: bool = False) -> None:
        self.model = model
        self._lookups: list[tuple[str, Any]] = []
        self._raw: list[tuple[str, list[Any]]] = []
        self._order: tuple[str, ...] = ()
        self._limit: int | None = None
        self._offset: int = 0
        self._show_hidden = show_hidden

    def _clone(self) -> QuerySet[R]:
        clone = QuerySet(self.model, self._show_hidden)
        clone._lookups = list(self._lookups)
        clone._raw = list(self._raw)
        clone._order = self._order
        clone._limit = self._limit
        clone._offset = self._offset
        return clone

    # --- building ---------------------------------------------------------------
    def filter(self, *conditions: Any, **lookups: Any) -> QuerySet[R]:
        """A query set narrowed by Django-style `lookups`."""
        if conditions:
            raise ValidationError(
                "filter() takes keyword lookups such as key='a.csv' or params__lr__gt=0.1; "
                f"got positional argument(s) {conditions!r}."
            )
        clone = self._clone()
        for name, value in lookups.items():
            if self.model.hidden_flag and name.split("__")[0] == self.model.hidden_flag:
                clone._show_hidden = True
            clone._lookups.append((name, value))
        return clone

    def where(self, sql: str, params: list[Any]) -> QuerySet[R]:
        """A query set narrowed by a raw SQL condition on the model's table."""
        clone = self._clone()
        clone._raw.append((sql, params))
        return clone

    def order_by(self, *fields: str) -> QuerySet[R]:
        """Order by fields; prefix ``-`` for descending."""
        columns = self.model.columns()
        for f in fields:
            if not isinstance(f, str):
                raise ValidationError(
                    f"order_by() takes field names such as 'created_at' or '-created_at' "
                    f"(descending), got {f!r} ({type(f).__name__}); fields: {', '.join(columns)}"
                )
            if f.lstrip("-") not in columns or f.startswith("--"):
                raise ValidationError(
                    f"cannot order {self.model.__name__} by {f!r}; fields: {', '.join(columns)}"
                )
        clone = self._clone()
        clone._order = fields
        return clone

    def __getitem__(self, item: int | slice) -> Any:
        bad = [i for i in ((item.start, item.stop, item.step) if isinstance(item, slice) else (item,))
               if i is not None and (isinstance(i, bool) or not isinstance(i, int))]
        if bad:
            raise ValidationError(f"query sets are indexed with integers, got {bad[0]!r}")
        if isinstance(item, slice):
            if item.step not in (None, 1) or (item.start or 0) < 0 or (item.stop or 0) < 0:
                raise ValidationError("query sets support only non-negative slices without step")
            clone = self._clone()
            clone._offset = self._offset + (item.start or 0)
            if item.stop is not None:
                clone._limit = max(0, item.stop - (item.start or 0))
            return clone
        rows = self[item:item + 1].all()
        if not rows:
            raise IndexError(item)
        return rows[0]

    # --- compiling --------------------------------------------------------------
    def _db(self) -> Database:
        from lineage.db.record import current_db

        return current_db()

    def compile_where(self, db: Database | None = None) -> tuple[str, list[Any]]:
        """The WHERE clause (without ``WHERE``) and its parameters."""
        dialect = (db or self._db()).dialect
        table = self.model.__tablename__
        parts: list[str] = []
        params: list[Any] = []
        flag = self.model.hidden_flag
        if flag and not self._show_hidden:
            parts.append(f"{table}.{flag} = ?")
            params.append(dialect.encode("bool", False))
        for name, value in self._lookups:
            sql, p = compile_lookup(self.model, table, name, value, dialect)
            parts.append(sql)
            params.extend(p)
        for sql, p in self._raw:
            parts.append(sql)
            params.extend(p)
        return (" AND ".join(f"({p})" for p in parts) or "1 = 1"), params

    def compile_ids(self) -> tuple[str, list[Any]]:
        """``SELECT id`` of the matching rows, for use as a subquery."""
        where, params = self.compile_where()
        table = self.model.__tablename__
        return f"SELECT {table}.id FROM {table} WHERE {where}", params

    def _tail(self) -> str:
        order = ", ".join(
            f"{self.model.__tablename__}.{f.lstrip('-')} {'DESC' if f.startswith('-') else 'ASC'}"
            for f in self._order or ("id",)
        )
        sql = f" ORDER BY {order}"
        if self._limit is not None:
            sql += f" LIMIT {int(self._limit)}"
        elif self._offset:
            sql += " LIMIT -1" if self._db().is_sqlite else " LIMIT ALL"
        if self._offset:
            sql += f" OFFSET {int(self._offset)}"
        return sql

    # --- running ----------------------------------------------------------------
    def compile_select(self, db: Database | None = None) -> tuple[str, list[Any]]:
        """The statement `all()` runs and its parameters (``?`` placeholders), for EXPLAIN."""
        where, params = self.compile_where(db)
        return f"{self.model.select_sql()} WHERE {where}{self._tail()}", params

    def all(self) -> list[R]:
        """Every matching record, as a list."""
        db = self._db()
        sql, params = self.compile_select(db)
        return [self.model.from_row(row, db.dialect) for row in db.query(sql, params)]

    def __iter__(self) -> Iterator[R]:
        return iter(self.all())

    def __len__(self) -> int:
        return self.count()

    def __bool__(self) -> bool:
        return self.exists()

    def first(self) -> R | None:
        """The first record in order (by id unless ordered), or None."""
        rows = self[:1].all()
        return rows[0] if rows else None

    def last(self) -> R | None:
        """The last record in order, or None."""
        order = self._order or ("id",)
        flipped = tuple(f[1:] if f.startswith("-") else f"-{f}" for f in order)
        return self.order_by(*flipped).first()

    def one(self) -> R:
        """Exactly one record.

        Raises:
            DoesNotExist: Nothing matches.
            MultipleResultsFound: More than one record matches.
        """
        return self.get_one(dict(self._lookups))

    def get_one(self, lookups: dict[str, Any]) -> R:
        """Like `one()`, with the lookups to name in the error messages."""
        rows = self[:2].all()
        name = self.model.__name__
        shown = ", ".join(f"{k}={v!r}" for k, v in lookups.items()) or "no filter"
        if not rows:
            raise DoesNotExist(f"no {name} matches {shown}. List candidates with ln.{name}.filter().all().")
        if len(rows) > 1 and self._one_version_family():
            rows = self.filter(is_latest=True)[:2].all() or rows
        if len(rows) > 1:
            uids = ", ".join(getattr(r, "uid", "?") for r in rows[:5])
            raise MultipleResultsFound(
                f"{len(rows)} {name} records match {shown} ({uids}...). Narrow the lookup, "
                "for example with uid=..."
            )
        return rows[0]

    def _one_version_family(self) -> bool:
        """Whether all matches are versions of one key (so get() means the latest)."""
        if "is_latest" not in self.model.fields or "key" not in self.model.fields:
            return False
        db = self._db()
        where, params = self.compile_where(db)
        table = self.model.__tablename__
        distinct, nulls = db.query(
            f"SELECT COUNT(DISTINCT {table}.key), COUNT(*) - COUNT({table}.key) FROM {table} WHERE {where}",
            params,
        )[0]
        return distinct == 1 and nulls == 0

    def count(self) -> int:
        """The number of matching records."""
        db = self._db()
        where, params = self.compile_where(db)
        sql = f"SELECT COUNT(*) FROM {self.model.__tablename__} WHERE {where}"
        if self._limit is not None or self._offset:
            inner = f"SELECT {self.model.__tablename__}.id FROM {self.model.__tablename__} WHERE {where}{self._tail()}"
            sql = f"SELECT COUNT(*) FROM ({inner}) AS sub"
        return int(db.query(sql, params)[0][0])

    def exists(self) -> bool:
        """Whether any record matches."""
        return self.first() is not None

    def to_dataframe(self, include: list[str] | tuple[str, ...] | None = None) -> Any:
        """Matching records as a pandas DataFrame indexed by uid.

        Foreign keys show names, not ids (``transform`` is the transform's
        key, ``created_by`` the user's handle, a run its uid); run params and
        features are expanded as ``params.<name>`` and ``features.<name>``
        columns. ``include`` adds relations (``"input_artifacts"``,
        ``"projects"``: a list of names per row) or a foreign key's field
        (``"transform__version"``). Related rows are read in batches, never
        one query per row.
        """
        from lineage.db.frame import to_dataframe

        return to_dataframe(self, include)

    def _repr_html_(self) -> str:
        from lineage.db.frame import preview_html

        return preview_html(self)

    def __repr__(self) -> str:
        lookups = ", ".join(f"{k}={v!r}" for k, v in self._lookups)
        head = f"<QuerySet {self.model.__name__}.filter({lookups})>"
        from lineage.db.frame import preview_text

        try:
            return f"{head}\n{preview_text(self)}"
        except Exception:  # noqa: BLE001 - a repr never raises (no instance open, closed database)
            return head


