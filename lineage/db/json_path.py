"""JSON paths in lookups (``params__a__0__b``): one meaning on both backends.

PostgreSQL's ``#>`` operator defines it: each segment is an object key, or,
where the value at that point is an array, an index (``0``, ``-1`` from the
end, leading blanks, a sign and zeros allowed, as C's ``strtol`` reads
them). So ``params__2020`` finds ``{"2020": 5}`` and ``params__layers__0``
finds ``{"layers": [64, 32]}``.

SQLite's own JSON path syntax can say neither "key or index, depending on
the value" nor a key holding ``"``, ``\\`` or a control character (its path
labels are compared with the escaped text). Plain keys use a path literal
(``json_extract(params, '$."lr"')``, as fast as it gets); any other segment
is resolved one level at a time with ``json_each``, which compares decoded
keys and tells objects from arrays, in a subquery (`SqliteTarget`).
"""

from __future__ import annotations

import re
from typing import Any

Fragment = tuple[str, list[Any]]

_PLAIN_KEY = re.compile(r'[^"\\\x00-\x1f]+')
_ARRAY_INDEX = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+)")
_INT32 = 2**31


def check_segments(path: tuple[str, ...]) -> None:
    """Refuse path segments no backend can compare (NUL, lone surrogates).

    Raises:
        ValidationError: A segment is not text either backend can store.
    """
    from lineage.db.dialect import check_text

    for segment in path:
        check_text(segment)


def array_index(segment: str) -> int | None:
    """The array index `segment` stands for (PostgreSQL's reading), or None."""
    match = _ARRAY_INDEX.fullmatch(segment)
    if match is None:
        return None
    index = int(match.group(1))
    return index if -_INT32 <= index < _INT32 else None


def sqlite_path(segments: list[str] | tuple[str, ...]) -> str:
    """A SQLite path literal for plain keys (see `is_plain`): ``$."a"."b"``."""
    return "$" + "".join(f'."{s}"' for s in segments)


def is_plain(segment: str) -> bool:
    """Whether a SQLite path literal finds `segment` as an object key, and only that."""
    return _PLAIN_KEY.fullmatch(segment) is not None and array_index(segment) is None


class SqliteTarget:
    """The value a JSON path points to in a SQLite column, as SQL.

    `type` and `value` are what ``json_type`` and ``json_extract`` give for
    it (NULL when the path leads nowhere); `select` makes a condition or
    expression written with them valid SQL: unchanged for plain paths,
    else a scalar subquery that walks the odd segments with ``json_each``.

    Args:
        column: The JSON column, qualified with its table (``run.params``).
        path: The segments.
    """

    def __init__(self, column: str, path: tuple[str, ...]) -> None:
        check_segments(path)
        self._joins: list[str] = []
        self._join_params: list[Any] = []
        doc, prefix = column, []
        for segment in path:
            if is_plain(segment):
                prefix.append(segment)
                continue
            doc = self._step(doc, sqlite_path(prefix), segment, f"_j{len(self._joins) + 1}")
            prefix = []
        if self._joins and not prefix:
            alias = f"_j{len(self._joins)}"
            self.type: Fragment = (f"{alias}.type", [])
            self.value: Fragment = (f"{alias}.value", [])
        else:
            # The path as a literal, not a parameter: an expression index such as
            # ``CREATE INDEX ... ON run (json_extract(params, '$."lr"'))`` then serves it.
            literal = "'" + sqlite_path(prefix).replace("'", "''") + "'"
            self.type = (f"json_type({doc}, {literal})", [])
            self.value = (f"json_extract({doc}, {literal})", [])

    def _step(self, doc: str, prefix: str, segment: str, alias: str) -> str:
        """Join the member `segment` of the container at `prefix` in `doc`; return its JSON."""
        container = f"json_type({doc}, ?)"
        matches = [f"({container} = 'object' AND {alias}.key = ?)"]
        params: list[Any] = [prefix, prefix, segment]
        index = array_index(segment)
        if index is not None and index >= 0:
            matches.append(f"({container} = 'array' AND {alias}.key = ?)")
            params += [prefix, index]
        elif index is not None:
            matches.append(f"({container} = 'array' AND {alias}.key = json_array_length({doc}, ?) + ?)")
            params += [prefix, prefix, index]
        self._joins.append(f"LEFT JOIN json_each({doc}, ?) AS {alias} ON {' OR '.join(matches)}")
        self._join_params += params
        return f"(CASE WHEN {alias}.type IN ('object', 'array') THEN {alias}.value END)"

    def select(self, sql: str, params: list[Any]) -> Fragment:
        """`sql` (written with `type` and `value`) as a self-contained expression."""
        if not self._joins:
            return sql, params
        joins = " ".join(self._joins)
        return f"(SELECT {sql} FROM (SELECT 1) AS _one {joins})", [*params, *self._join_params]
