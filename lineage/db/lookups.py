"""Django-style lookups compiled to portable SQL.

``key__startswith="a/"``, ``params__a__b=1``, ``transform__key="x.py"``,
``projects=my_project``: each keyword becomes one SQL condition with
parameters. Relations compile to ``IN (SELECT ...)`` subqueries, so a filter
never multiplies rows.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timezone
from typing import TYPE_CHECKING, Any

from lineage.db.fields import ForeignKey, ManyToMany, Reverse
from lineage.errors import ValidationError

if TYPE_CHECKING:
    from lineage.db.dialect import Dialect
    from lineage.db.record import Record

OPERATORS = frozenset({
    "exact", "in", "contains", "icontains", "startswith", "istartswith", "endswith",
    "iendswith", "gt", "gte", "lt", "lte", "isnull", "ne",
})
_COMPARE = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_STRING_OPS = frozenset({"contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"})
_INT64 = 2**63
_KIND_NAMES = {"int": "an integer", "bigint": "an integer", "str": "a text", "text": "a text",
               "bool": "a boolean", "float": "a number", "datetime": "a date-time", "json": "a JSON"}

Condition = tuple[str, list[Any]]


def compile_lookup(model: type[Record], alias: str, lookup: str, value: Any, dialect: Dialect) -> Condition:
    """Compile one ``name__path__op=value`` keyword into SQL and parameters."""
    parts = lookup.split("__")
    op = "exact"
    if len(parts) > 1 and parts[-1] in OPERATORS:
        op = parts.pop()
    head, rest = parts[0], parts[1:]
    if head == "pk":
        head = "id"
    if head in model.columns():
        spec = model.columns()[head]
        column = f"{alias}.{head}"
        if rest:
            if spec.kind != "json":
                raise ValidationError(
                    f"{model.__name__}.{head} is not a JSON field, so '{lookup}' cannot look "
                    f"inside it. Lookups available: {', '.join(sorted(OPERATORS))}."
                )
            value = _json_value(lookup, op, value)
            return _json_condition(column, tuple(rest), op, value, dialect)
        value = _checked_value(model, head, lookup, op, value)
        return _column_condition(column, spec.kind, op, value, dialect)
    if head in model.relations:
        if not rest and op in ("exact", "in"):
            _check_targets(model, head, lookup, value)
            value = _checked_value(model, "id", lookup, op, value)
        return _relation_condition(model, alias, head, rest, op, value, dialect)
    extra = model.extra_lookup(alias, head, rest, op, value, dialect)
    if extra is not None:
        return extra
    available = sorted({"id", *model.columns(), *model.relations})
    raise ValidationError(
        f"{model.__name__} has no field or relation {head!r} (in lookup {lookup!r}). "
        f"Available: {', '.join(available)}.{model.lookup_hint(head)}"
    )


def _check_targets(model: type[Record], name: str, lookup: str, value: Any) -> None:
    """Refuse records of another registry than the relation's (``transform=<a Run>``)."""
    target = model.relations[name].target
    values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
    for item in values:
        if hasattr(item, "__tablename__") and type(item).__name__ != target:
            raise ValidationError(
                f"{lookup}= takes {target} records or their ids, got a {type(item).__name__}."
            )


def _checked_value(model: type[Record], name: str, lookup: str, op: str, value: Any) -> Any:
    """`value` made comparable with the column `name`, or a `ValidationError` naming `lookup`.

    Records become their ids, ISO strings for date-time fields become
    datetimes, and keys are normalized the way saves normalize them.
    Anything the field cannot hold (a list for a plain lookup, a string for
    an integer, an integer beyond 64 bits) is refused here, so neither
    backend's driver ever sees it.
    """
    from lineage.db.query import QuerySet

    spec = model.columns()[name]
    if op == "isnull":
        if not isinstance(value, bool):
            raise ValidationError(f"{lookup}= takes True or False, got {value!r}.")
        return value
    if op in _STRING_OPS:
        if spec.kind not in ("str", "text"):
            raise ValidationError(
                f"'{lookup}' compares text, but {model.__name__}.{name} holds "
                f"{_KIND_NAMES[spec.kind]} value; use exact, in, gt, gte, lt or lte."
            )
        if not isinstance(value, str):
            raise ValidationError(f"{lookup}= needs a string, got {type(value).__name__} {value!r}.")
        if spec.normalize_prefix and op in ("startswith", "istartswith"):
            return spec.normalize_prefix(value)
        return value
    if op == "in":
        if isinstance(value, QuerySet):
            return value
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
            raise ValidationError(
                f"{lookup}= needs a list of values, got {type(value).__name__} {value!r}; "
                f"for one value use {lookup.removesuffix('__in')}=..."
            )
        return [_one_value(model, name, lookup, item, op) for item in value]
    return _one_value(model, name, lookup, value, op)


def _one_value(model: type[Record], name: str, lookup: str, value: Any, op: str) -> Any:
    spec = model.columns()[name]
    value = _record_id(value)
    if value is None:
        if op in _COMPARE:
            raise ValidationError(f"{lookup}= cannot compare with None; use {name}__isnull=True.")
        return None
    kind = spec.kind

    def refuse(hint: str = "") -> ValidationError:
        return ValidationError(
            f"{lookup}={value!r}: {model.__name__}.{name} holds {_KIND_NAMES[kind]} value, "
            f"not {type(value).__name__}{hint}."
        )

    if isinstance(value, (list, tuple, set, frozenset, dict)) and kind != "json":
        several = "" if op != "exact" else f"; for several values use {name}__in=[...]"
        raise refuse(several)
    if kind in ("int", "bigint"):
        if isinstance(value, float) and math.isfinite(value) and op in _COMPARE:
            return value
        if not isinstance(value, int) or isinstance(value, bool):
            raise refuse()
        if not -_INT64 <= value < _INT64:
            raise ValidationError(
                f"{lookup}={value!r} is out of range: {model.__name__}.{name} holds 64-bit "
                f"integers (from -2**63 to 2**63-1)."
            )
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise refuse()
        if isinstance(value, int) and not -_INT64 <= value < _INT64:
            return float(value)
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise refuse(" (use True or False)")
        return value
    if kind in ("str", "text"):
        if not isinstance(value, str):
            raise refuse()
        return spec.normalize(value) if spec.normalize else value
    if kind == "datetime":
        return _datetime_value(lookup, value, refuse)
    return value


def _datetime_value(lookup: str, value: Any, refuse: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(
                f"{lookup}={value!r} is not an ISO date or date-time such as "
                "'2024-05-01' or '2024-05-01T12:00:00+00:00'."
            ) from None
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(), tzinfo=timezone.utc)
    if not isinstance(value, datetime):
        raise refuse()
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _column_condition(column: str, kind: str, op: str, value: Any, dialect: Dialect) -> Condition:
    if op == "exact":
        if value is None:
            return f"{column} IS NULL", []
        return f"{column} = ?", [dialect.encode(kind, value)]
    if op == "ne":
        if value is None:
            return f"{column} IS NOT NULL", []
        return f"({column} IS NULL OR {column} <> ?)", [dialect.encode(kind, value)]
    if op == "isnull":
        return (f"{column} IS NULL" if value else f"{column} IS NOT NULL"), []
    if op == "in":
        return _in_condition(column, value, lambda v: dialect.encode(kind, v))
    if op in _COMPARE:
        return f"{column} {_COMPARE[op]} ?", [dialect.encode(kind, value)]
    return _string_condition(column, op, value, dialect)


def _in_condition(column: str, values: Any, encode: Any) -> Condition:
    from lineage.db.query import QuerySet

    if isinstance(values, QuerySet):
        sql, params = values.compile_ids()
        return f"{column} IN ({sql})", params
    if isinstance(values, (str, bytes)):
        raise ValidationError(f"__in needs a list of values, not the string {values!r}")
    items = [encode(v) for v in values]
    if not items:
        return "1 = 0", []
    return f"{column} IN ({', '.join('?' for _ in items)})", items


def _string_condition(column: str, op: str, value: Any, dialect: Dialect) -> Condition:
    if not isinstance(value, str):
        raise ValidationError(f"__{op} needs a string, got {type(value).__name__}")
    insensitive = op.startswith("i")
    base = op[1:] if insensitive else op
    if base == "contains":
        return dialect.contains(column, insensitive), [value]
    if base == "startswith":
        return dialect.startswith(column, insensitive), [value, value]
    if base == "endswith":
        return dialect.endswith(column, insensitive), [value, value]
    raise ValidationError(f"unknown lookup operator {op!r}; use one of {', '.join(sorted(OPERATORS))}")


def json_lookup(lookup: str, column: str, path: tuple[str, ...], op: str, value: Any,
                dialect: Dialect) -> Condition:
    """`value` checked and compared with the JSON at `path` in `column`, as ``params__...`` lookups do.

    Feature values (``Run.filter(accuracy__gt=0.9)``) use it too, so both
    mean the same on both backends: comparisons with a number match numbers
    only, with a string strings only; text lookups match strings only.
    """
    return _json_condition(column, path, op, _json_value(lookup, op, value), dialect)


def _json_value(lookup: str, op: str, value: Any) -> Any:
    """`value` checked for a lookup inside a JSON field (``params__lr__gt=0.1``)."""
    from lineage.db.dialect import encode_json

    if op == "isnull":
        if not isinstance(value, bool):
            raise ValidationError(f"{lookup}= takes True or False, got {value!r}.")
        return value
    if op in _COMPARE and (isinstance(value, bool) or not isinstance(value, (int, float, str))):
        raise ValidationError(f"{lookup}= compares with a number or a string, got {value!r}.")
    if op in _STRING_OPS and not isinstance(value, str):
        raise ValidationError(f"{lookup}= needs a string, got {type(value).__name__} {value!r}.")
    if op == "in":
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
            raise ValidationError(f"{lookup}= needs a list of values, got {value!r}.")
        return [_json_value(lookup, "exact", item) for item in value]
    value = _json_safe(value)
    try:
        encode_json(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"{lookup}={value!r} cannot be compared with JSON: {exc}. Use a string, number, "
            "boolean, None, or a list or dict of those."
        ) from None
    return value


def _json_condition(column: str, path: tuple[str, ...], op: str, value: Any, dialect: Dialect) -> Condition:
    if op == "exact":
        return dialect.json_equals(column, path, _json_safe(value))
    if op == "ne":
        sql, params = dialect.json_equals(column, path, _json_safe(value))
        return f"NOT COALESCE({sql}, 0 = 1)", params
    if op == "in":
        if isinstance(value, (str, bytes)):
            raise ValidationError(f"__in needs a list of values, not the string {value!r}")
        parts = [dialect.json_equals(column, path, _json_safe(v)) for v in value]
        if not parts:
            return "1 = 0", []
        return "(" + " OR ".join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]
    expr, expr_params = dialect.json_value(column, path)
    if op == "isnull":
        return (f"{expr} IS NULL" if value else f"{expr} IS NOT NULL"), expr_params
    if op in _COMPARE:
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        check, check_params = dialect.json_type_is(column, path, ("number",) if numeric else ("string",))
        cast = dialect.numeric(expr) if numeric else expr
        return (f"(CASE WHEN {check} THEN {cast} END) {_COMPARE[op]} ?",
                [*check_params, *expr_params, dialect.encode_param(value)])
    check, check_params = dialect.json_type_is(column, path, ("string",))
    sql, params = _string_condition(expr, op, value, dialect)
    return f"({check} AND {sql})", [*check_params, *expr_params * sql.count(expr), *params]


def _relation_condition(model: type[Record], alias: str, name: str, rest: list[str], op: str,
                        value: Any, dialect: Dialect) -> Condition:
    from lineage.db.record import registry_class

    relation = model.relations[name]
    target = registry_class(relation.target)
    if rest:
        sub_lookup = "__".join(rest) + ("" if op == "exact" else f"__{op}")
        sub_sql, sub_params = target.objects_unhidden().filter(**{sub_lookup: value}).compile_ids()
        negate = False
    elif op == "isnull":
        sub_sql, sub_params = target.objects_unhidden().compile_ids()
        negate = bool(value)
    elif op == "exact" and value is None and isinstance(relation, ForeignKey):
        return f"{alias}.{relation.column} IS NULL", []
    elif op in ("exact", "in") and isinstance(relation, ForeignKey):
        # The column itself (``run.transform_id IN (?)``), so an index on it serves the
        # query and its order; the foreign key keeps the ids those of existing rows.
        return _in_condition(f"{alias}.{relation.column}", value if op == "in" else [value], _record_id)
    elif op in ("exact", "in"):
        values = value if op == "in" else [value]
        sub_sql, sub_params = _in_condition(f"{target.__tablename__}.id", values, _record_id)
        sub_sql = f"SELECT {target.__tablename__}.id FROM {target.__tablename__} WHERE {sub_sql}"
        negate = False
    else:
        raise ValidationError(
            f"'{name}__{op}' is not supported: compare a relation with a record, a list of "
            f"records, or a field of it such as '{name}__uid'."
        )
    if isinstance(relation, ForeignKey):
        sql = f"{alias}.{relation.column} IN ({sub_sql})"
    elif isinstance(relation, Reverse):
        sql = f"{alias}.id IN (SELECT {relation.column} FROM {target.__tablename__} WHERE {relation.column} IS NOT NULL AND id IN ({sub_sql}))"
    elif isinstance(relation, ManyToMany):
        sql = (f"{alias}.id IN (SELECT {relation.own_column} FROM {relation.link} "
               f"WHERE {relation.other_column} IN ({sub_sql}))")
    else:  # pragma: no cover - the three kinds are exhaustive
        raise TypeError(relation)
    return (f"NOT ({sql})" if negate else sql), sub_params


def _record_id(value: Any) -> Any:
    if hasattr(value, "__tablename__") and hasattr(value, "id"):
        if value.id is None:
            raise ValidationError(
                f"{type(value).__name__} {getattr(value, 'uid', '')} is not saved yet; "
                "call .save() before using it in a query."
            )
        return value.id
    return value


def _json_safe(value: Any) -> Any:
    if hasattr(value, "__tablename__") and hasattr(value, "uid"):
        return {"__record__": type(value).__name__, "uid": value.uid}
    return value
