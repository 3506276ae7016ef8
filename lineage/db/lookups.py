"""Django-style lookups compiled to portable SQL.

``key__startswith="a/"``, ``params__a__b=1``, ``transform__key="x.py"``,
``projects=my_project``: each keyword becomes one SQL condition with
parameters. Relations compile to ``IN (SELECT ...)`` subqueries, so a filter
never multiplies rows.
"""

from __future__ import annotations

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
        kind = model.column_kind(head)
        column = f"{alias}.{head}"
        if rest:
            if kind != "json":
                raise ValidationError(
                    f"{model.__name__}.{head} is not a JSON field, so '{lookup}' cannot look "
                    f"inside it. Lookups available: {', '.join(sorted(OPERATORS))}."
                )
            return _json_condition(column, tuple(rest), op, value, dialect)
        return _column_condition(column, kind, op, value, dialect)
    if head in model.relations:
        return _relation_condition(model, alias, head, rest, op, value, dialect)
    extra = model.extra_lookup(alias, head, rest, op, value, dialect)
    if extra is not None:
        return extra
    available = sorted({"id", *model.columns(), *model.relations})
    raise ValidationError(
        f"{model.__name__} has no field or relation {head!r} (in lookup {lookup!r}). "
        f"Available: {', '.join(available)}."
    )


def _column_condition(column: str, kind: str, op: str, value: Any, dialect: Dialect) -> Condition:
    value = _record_id(value)
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
        return _in_condition(column, value, lambda v: dialect.encode(kind, _record_id(v)))
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
                [*check_params, *expr_params, value])
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
