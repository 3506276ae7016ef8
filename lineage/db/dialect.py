"""The few places where SQLite and PostgreSQL SQL differ.

SQL in lineage is written once with ``?`` placeholders and portable syntax;
a `Dialect` converts placeholders, encodes and decodes values, and renders
JSON-path expressions.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable

from lineage.db.json_path import SqliteTarget, array_index, check_segments


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


#: `json.dumps` with these options makes an encoder per call; one made once serializes alike.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> str:
    """Serialize JSON compactly (no NaN: callers make values JSON-safe first)."""
    return _ENCODER.encode(value)


def _number_text(value: float) -> str | None:
    """The text every JSON number equal to `value` contains, as lineage writes JSON; or None.

    Only for a finite float with a fraction and no exponent (``0.01``): the
    JSON text of any number equal to it is Python's shortest repr, the same
    digits SQLite's own JSON writer prints. Integers (``1`` equals ``1.0``)
    and exponents (``1e-05``, which SQLite writes ``1.0e-05``) get no
    search: they have more than one spelling.
    """
    if not isinstance(value, float) or not math.isfinite(value) or value.is_integer():
        return None
    text = repr(value)
    return None if "e" in text else text


class Dialect:
    """Base dialect: SQLite semantics."""

    name = "sqlite"

    def sql(self, statement: str) -> str:
        """Adapt a statement written with ``?`` placeholders."""
        return statement

    # --- values -----------------------------------------------------------
    def encode(self, kind: str, value: Any) -> Any:
        """Python value -> DB-API parameter for a column of `kind`."""
        if value is None:
            return None
        encode = self.encoder(kind)
        return value if encode is None else encode(value)

    def encoder(self, kind: str) -> Callable[[Any], Any] | None:
        """`encode` for one column `kind` and values that are not None, as one function;
        None where a value is passed as it is. For writers of many rows."""
        return _SQLITE_ENCODERS.get(kind)

    def decode(self, kind: str, value: Any) -> Any:
        """DB-API value -> Python value for a column of `kind`."""
        if value is None:
            return None
        if kind == "json":
            return json.loads(value) if isinstance(value, (str, bytes)) else value
        if kind == "datetime":
            if isinstance(value, datetime):
                return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
            return datetime.fromisoformat(value)
        if kind == "bool":
            return bool(value)
        return value

    def encode_param(self, value: Any) -> Any:
        """A free-standing comparison parameter (not tied to a column)."""
        if isinstance(value, bool):
            return 1 if value else 0
        if isinstance(value, int) and not -2**63 <= value < 2**63:
            return float(value)  # what SQLite's JSON functions read such a number as
        if isinstance(value, datetime):
            return _iso(value)
        return value

    # --- JSON paths (see lineage.db.json_path) --------------------------------
    def json_value(self, column: str, path: tuple[str, ...]) -> tuple[str, list[Any]]:
        """SQL for the scalar at `path` (text, number) plus its parameters."""
        target = SqliteTarget(column, path)
        return target.select(*target.value)

    def json_type_is(self, column: str, path: tuple[str, ...], types: tuple[str, ...]) -> tuple[str, list[Any]]:
        """SQL testing the JSON type at `path` (``string number boolean null object array``)."""
        sqlite_types: list[str] = []
        for t in types:
            sqlite_types += {
                "string": ["text"],
                "number": ["integer", "real"],
                "boolean": ["true", "false"],
                "null": ["null"],
                "object": ["object"],
                "array": ["array"],
            }[t]
        target = SqliteTarget(column, path)
        type_sql, type_params = target.type
        marks = ", ".join("?" for _ in sqlite_types)
        return target.select(f"{type_sql} IN ({marks})", [*type_params, *sqlite_types])

    def json_equals(self, column: str, path: tuple[str, ...], value: Any) -> tuple[str, list[Any]]:
        """SQL testing that the JSON value at `path` equals `value`."""
        target = SqliteTarget(column, path)
        (type_sql, tp), (value_sql, vp) = target.type, target.value
        if value is None:
            return target.select(f"{type_sql} = 'null'", tp)
        if isinstance(value, bool):
            return target.select(f"{type_sql} = ?", [*tp, "true" if value else "false"])
        # The value first: SQLite stops at the first false term, so the type (a
        # second read of the JSON) is checked only on rows whose value matched.
        if isinstance(value, (int, float)):
            sql, params = target.select(f"({value_sql} = ? AND {type_sql} IN ('integer', 'real'))",
                                        [*vp, self.encode_param(value), *tp])
            digits = _number_text(value)
            if digits is None:
                return sql, params
            # A string search before the JSON parse: lineage writes JSON with
            # Python's json, whose text of such a number is its repr, so a row
            # without that text cannot hold the number (half the CPU at 1M runs).
            return f"(instr({column}, ?) > 0 AND {sql})", [digits, *params]
        if isinstance(value, str):
            return target.select(f"({value_sql} = ? AND {type_sql} = 'text')", [*vp, value, *tp])
        # An object or list equals member by member, as jsonb does (key order aside).
        if isinstance(value, dict):
            size = f"(SELECT COUNT(*) FROM json_each({value_sql}))"
            members = [(str(k), v) for k, v in value.items()]
            kind = "object"
        else:
            size = f"json_array_length({value_sql})"
            members = [(str(i), v) for i, v in enumerate(value)]
            kind = "array"
        # CASE, not AND: SQLite may evaluate both sides, and a size of a scalar is an error.
        sql, params = target.select(f"(CASE WHEN {type_sql} = '{kind}' THEN {size} END) = ?",
                                    [*tp, *vp, len(members)])
        for key, member in members:
            member_sql, member_params = self.json_equals(column, (*path, key), member)
            sql, params = f"{sql} AND {member_sql}", [*params, *member_params]
        return f"({sql})", params

    def numeric(self, expr: str) -> str:
        """`expr` cast to a floating-point number."""
        return f"CAST({expr} AS REAL)"

    # --- strings ------------------------------------------------------------
    def contains(self, expr: str, insensitive: bool) -> str:
        """SQL for `expr` containing the next parameter."""
        return f"instr(lower({expr}), lower(?)) > 0" if insensitive else f"instr({expr}, ?) > 0"

    def startswith(self, expr: str, insensitive: bool) -> str:
        """SQL for `expr` starting with the parameter (given twice: value, length)."""
        if insensitive:
            return f"lower(substr({expr}, 1, length(?))) = lower(?)"
        return f"substr({expr}, 1, length(?)) = ?"

    def endswith(self, expr: str, insensitive: bool) -> str:
        """SQL for `expr` ending with the parameter (given twice: value, length)."""
        if insensitive:
            return f"lower(substr({expr}, -length(?))) = lower(?)"
        return f"substr({expr}, -length(?)) = ?"


class PostgresDialect(Dialect):
    """PostgreSQL (psycopg 3) semantics."""

    name = "postgresql"

    def sql(self, statement: str) -> str:
        return _pg_sql(statement)

    def encoder(self, kind: str) -> Callable[[Any], Any] | None:
        return _POSTGRES_ENCODERS.get(kind)  # psycopg adapts datetimes and bools itself

    def decode(self, kind: str, value: Any) -> Any:
        # psycopg already turns jsonb into Python values (a bare JSON string
        # arrives as a str and must not be parsed again).
        return value

    def encode_param(self, value: Any) -> Any:
        return value

    def json_value(self, column: str, path: tuple[str, ...]) -> tuple[str, list[Any]]:
        check_segments(path)
        return f"({column} #>> CAST(? AS text[]))", [list(path)]

    def json_type_is(self, column: str, path: tuple[str, ...], types: tuple[str, ...]) -> tuple[str, list[Any]]:
        check_segments(path)
        marks = ", ".join("?" for _ in types)
        return f"jsonb_typeof({column} #> CAST(? AS text[])) IN ({marks})", [list(path), *types]

    def json_equals(self, column: str, path: tuple[str, ...], value: Any) -> tuple[str, list[Any]]:
        """Equality, with containment in front where it says the same, for GIN indexes.

        ``params @> '{"lr": 0.01}'`` can be answered from a GIN index
        (``jsonb_path_ops``), ``params #> '{lr}' = '0.01'`` cannot. Equality
        implies containment, so ``containment AND equality`` is exactly
        equality (typed as jsonb compares: ``true`` is not ``1``, ``1`` is
        ``1.0``); the containment is only added when every segment is an
        object key (a segment such as ``0`` may be an array index, which
        containment cannot say).
        """
        check_segments(path)
        encoded = dumps(value)
        if not path:
            return f"({column} @> CAST(? AS jsonb) AND {column} = CAST(? AS jsonb))", [encoded, encoded]
        equal = f"({column} #> CAST(? AS text[])) = CAST(? AS jsonb)"
        if any(array_index(segment) is not None for segment in path):
            return equal, [list(path), encoded]
        document: Any = value
        for segment in reversed(path):
            document = {segment: document}
        return f"({column} @> CAST(? AS jsonb) AND {equal})", [dumps(document), list(path), encoded]

    def numeric(self, expr: str) -> str:
        return f"CAST({expr} AS double precision)"

    def contains(self, expr: str, insensitive: bool) -> str:
        return f"strpos(lower({expr}), lower(?)) > 0" if insensitive else f"strpos({expr}, ?) > 0"

    def startswith(self, expr: str, insensitive: bool) -> str:
        if insensitive:
            return f"lower(left({expr}, length(?))) = lower(?)"
        return f"left({expr}, length(?)) = ?"

    def endswith(self, expr: str, insensitive: bool) -> str:
        if insensitive:
            return f"lower(right({expr}, length(?))) = lower(?)"
        return f"right({expr}, length(?)) = ?"


def check_text(value: Any, label: str | None = None) -> None:
    """Refuse text PostgreSQL cannot store, on every backend alike.

    Args:
        value: The text (anything else passes).
        label: What the text is (``Run.name``), named in the error.

    Raises:
        ValidationError: NUL characters, or lone surrogates (not Unicode).
    """
    if not isinstance(value, str) or value.isascii() and "\x00" not in value:
        return
    from lineage.errors import ValidationError

    if "\x00" in value:
        raise ValidationError(
            f"{label or 'text values'} cannot contain NUL characters (\\x00): {value[:40]!r}. "
            "Remove them or store the data as an artifact."
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            f"{label or 'text'} is not valid Unicode ({exc.reason} at position {exc.start}): {value[:40]!r}. "
            "Decode bytes with errors='replace' or store the data as an artifact."
        ) from None


def _checked_text(value: Any) -> Any:
    check_text(value)
    return value


def _bool_int(value: Any) -> int:
    return 1 if value else 0


def encode_json(value: Any) -> str:
    """`dumps` plus the checks PostgreSQL's jsonb would fail on."""
    text = dumps(value)
    if "\\u0000" in text:
        from lineage.errors import ValidationError

        raise ValidationError(
            f"JSON values cannot contain NUL characters (\\u0000): {text[:60]!r}."
        )
    check_text(text)
    return text


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(sep=" ", timespec="microseconds")


#: Column kind -> what makes its (non-None) values DB-API parameters; kinds not here pass as they are.
_POSTGRES_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "json": encode_json, "str": _checked_text, "text": _checked_text}
_SQLITE_ENCODERS: dict[str, Callable[[Any], Any]] = {
    **_POSTGRES_ENCODERS, "datetime": _iso, "bool": _bool_int}


@lru_cache(maxsize=2048)
def _pg_sql(statement: str) -> str:
    return statement.replace("%", "%%").replace("?", "%s")
