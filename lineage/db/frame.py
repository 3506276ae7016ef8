"""Tables of query results: `QuerySet.to_dataframe()` and the query set's repr.

Foreign keys are shown by name (``transform`` as its key, ``created_by`` as
the user's handle, a run as its uid), joined in the main statement; JSON
params and the features of runs and artifacts are expanded as ``params.<name>`` and
``features.<name>`` columns (one batched statement for the features);
``include=[...]`` adds related records (many-to-many and reverse relations:
a list of names per row, in batches) or a field of a foreign key
(``"transform__version"``).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from lineage.db.fields import ForeignKey, ManyToMany, Reverse
from lineage.errors import ValidationError

if TYPE_CHECKING:
    from lineage.db.database import Database
    from lineage.db.query import QuerySet
    from lineage.db.record import Record

_BATCH = 500
PREVIEW_ROWS = 10
_PREVIEW_WIDTH = 40


def display_field(model: type[Record]) -> str:
    """The field that names a record of `model` in tables (key, handle, name, uid)."""
    for name in ("handle", "key", "root"):
        if name in model.fields:
            return name
    name_field = model.fields.get("name")
    if name_field is not None and not name_field.nullable:
        return "name"
    return "uid" if "uid" in model.fields else "id"


def _registry_by_table(table: str) -> type[Record] | None:
    from lineage.db.record import all_registries

    for model in all_registries():
        if model.__tablename__ == table:
            return model
    return None


def _foreign_keys(model: type[Record]) -> dict[str, tuple[str, type[Record]]]:
    """Column ``x_id`` -> (shown name ``x``, target registry)."""
    from lineage.db.record import registry_class

    named = {r.column: (name, r.target) for name, r in model.relations.items() if isinstance(r, ForeignKey)}
    found = {}
    for column, spec in model.fields.items():
        if column in named:
            found[column] = (named[column][0], registry_class(named[column][1]))
        elif spec.references and column.endswith("_id"):
            target = _registry_by_table(spec.references)
            if target is not None:
                found[column] = (column[: -len("_id")], target)
    return found


def _select(query: QuerySet[Any], db: Database, paths: list[tuple[str, str]]) -> tuple[str, list[Any], list[str]]:
    """The statement of `query` with foreign keys joined; returns SQL, params, column names."""
    model = query.model
    table = model.__tablename__
    fks = _foreign_keys(model)
    cols, names, joins = [], [], []
    aliases: dict[str, str] = {}
    for column in model.columns():
        if column in fks:
            shown, target = fks[column]
            alias = aliases.setdefault(column, f"fk{len(aliases)}")
            joins.append(f" LEFT JOIN {target.__tablename__} {alias} ON {alias}.id = {table}.{column}")
            field = display_field(target)
            cols.append(f"{alias}.{field}")
            names.append(shown)
        else:
            cols.append(f"{table}.{column}")
            names.append(column)
    for relation, field in paths:
        column = next((c for c, (shown, _) in fks.items() if shown == relation), None)
        target = fks[column][1] if column else None
        if target is None or field not in target.columns():
            raise ValidationError(
                f"include={relation}__{field!r}: {model.__name__} has no foreign key {relation!r} with a field "
                f"{field!r}. Foreign keys: {', '.join(s for s, _ in fks.values())}."
            )
        alias = aliases.get(column)
        if alias is None:
            alias = aliases.setdefault(column, f"fk{len(aliases)}")
            joins.append(f" LEFT JOIN {target.__tablename__} {alias} ON {alias}.id = {table}.{column}")
        cols.append(f"{alias}.{field}")
        names.append(f"{relation}.{field}")
    where, params = query.compile_where(db)
    sql = f"SELECT {', '.join(cols)} FROM {table}{''.join(joins)} WHERE {where}{query._tail()}"
    return sql, params, names


def _kinds(model: type[Record], names: list[str], paths: list[tuple[str, str]]) -> list[str]:
    fks = _foreign_keys(model)
    shown = {s: t for s, t in fks.values()}
    kinds = []
    for column, name in zip(model.columns(), names):
        if column in fks:
            target = fks[column][1]
            kinds.append(target.columns()[display_field(target)].kind)
        else:
            kinds.append(model.columns()[column].kind)
    kinds += [shown[r].columns()[f].kind for r, f in paths]
    return kinds


def rows(query: QuerySet[Any], include: list[str] | tuple[str, ...] = ()) -> tuple[list[str], list[list[Any]]]:
    """Column names and decoded rows of `query`, names instead of ids."""
    model = query.model
    db = query._db()
    relations, paths = [], []
    for item in include:
        if not isinstance(item, str):
            raise ValidationError(f"include takes relation names such as 'input_artifacts', got {item!r}.")
        head, _, rest = item.partition("__")
        relation = model.relations.get(head)
        if rest and head in {shown for shown, _ in _foreign_keys(model).values()}:
            paths.append((head, rest))
        elif isinstance(relation, (ManyToMany, Reverse)) and not rest:
            relations.append(head)
        else:
            choices = sorted(n for n, r in model.relations.items() if not isinstance(r, ForeignKey))
            raise ValidationError(
                f"include={item!r}: not a relation of {model.__name__}. Use one of {', '.join(choices)}, "
                "or a foreign key's field such as 'transform__version'."
            )
    sql, params, names = _select(query, db, paths)
    decode = db.dialect.decode
    kinds = _kinds(model, names, paths)
    data = [[None if v is None else decode(k, v) for k, v in zip(kinds, row)] for row in db.query(sql, params)]
    if relations and data:
        ids = [row[0] for row in data]
        for relation in relations:
            names.append(relation)
            linked = _related(db, model, relation, ids)
            for row in data:
                row.append(linked.get(row[0], []))
    return names, data


def _related(db: Database, model: type[Record], relation: str, ids: list[int]) -> dict[int, list[Any]]:
    """Own id -> names of the records linked through `relation`, in batches."""
    from lineage.db.record import registry_class

    spec = model.relations[relation]
    target = registry_class(spec.target)
    field = display_field(target)
    kind = target.columns()[field].kind
    found: dict[int, list[Any]] = {}
    for start in range(0, len(ids), _BATCH):
        chunk = ids[start : start + _BATCH]
        marks = ", ".join("?" for _ in chunk)
        if isinstance(spec, ManyToMany):
            sql = (
                f"SELECT l.{spec.own_column}, t.{field} FROM {spec.link} l JOIN {target.__tablename__} t "
                f"ON t.id = l.{spec.other_column} WHERE l.{spec.own_column} IN ({marks}) ORDER BY t.id"
            )
        else:
            sql = (
                f"SELECT t.{spec.column}, t.{field} FROM {target.__tablename__} t "
                f"WHERE t.{spec.column} IN ({marks}) ORDER BY t.id"
            )
        for own, value in db.query(sql, chunk):
            found.setdefault(own, []).append(db.dialect.decode(kind, value))
    return found


def _features(query: QuerySet[Any], db: Database) -> dict[int, dict[str, Any]]:
    """Record id -> feature name -> value for the runs (artifacts) of `query`, in one statement."""
    table = query.model.__tablename__
    values, column = query.model.feature_table  # type: ignore[misc]
    where, params = query.compile_where(db)
    sql = (
        f"SELECT v.{column}, f.name, v.value FROM {values} v JOIN feature f ON f.id = v.feature_id "
        f"WHERE v.{column} IN (SELECT {table}.id FROM {table} WHERE {where}{query._tail()})"
    )
    found: dict[int, dict[str, Any]] = {}
    decode = db.dialect.decode
    for run_id, name, value in db.query(sql, params):
        found.setdefault(run_id, {})[name] = None if value is None else decode("json", value)
    return found


def to_dataframe(query: QuerySet[Any], include: list[str] | tuple[str, ...] | None = None) -> Any:
    """`query`'s records as a pandas DataFrame indexed by uid (see the module docstring)."""
    import pandas as pd

    names, data = rows(query, include or ())
    columns: dict[str, list[Any]] = {name: [row[i] for row in data] for i, name in enumerate(names)}
    if query.model.feature_table is not None:
        ids = columns["id"]
        if "params" in columns:
            columns = _expand(columns, "params")
        values = _features(query, query._db()) if ids else {}
        feature_names = sorted({n for v in values.values() for n in v})
        for name in feature_names:
            columns[f"features.{name}"] = [values.get(i, {}).get(name) for i in ids]
    uids = columns.pop("uid", [None] * len(data))
    return pd.DataFrame(columns, columns=list(columns), index=pd.Index(uids, name="uid"))


def _expand(columns: dict[str, list[Any]], name: str) -> dict[str, list[Any]]:
    """`name` (a JSON object per row) replaced by ``<name>.<key>`` columns, in place of it."""
    values = columns[name]
    keys: dict[str, None] = {}
    for value in values:
        if isinstance(value, dict):
            keys.update(dict.fromkeys(value))
    expanded: dict[str, list[Any]] = {}
    for column, cells in columns.items():
        if column != name:
            expanded[column] = cells
            continue
        for key in keys:
            expanded[f"{name}.{key}"] = [v.get(key) if isinstance(v, dict) else None for v in values]
    return expanded


def _preview(query: QuerySet[Any]) -> tuple[list[str], list[list[str]], bool]:
    """Up to PREVIEW_ROWS rows as short strings (one statement), and whether there are more."""
    bounded = query._clone()
    bounded._limit = PREVIEW_ROWS + 1 if query._limit is None else min(query._limit, PREVIEW_ROWS + 1)
    names, data = rows(bounded)
    more = len(data) > PREVIEW_ROWS
    keep = [i for i, n in enumerate(names) if n not in ("id", "source_code", "error")]
    shown = []
    for row in data[:PREVIEW_ROWS]:
        cells = []
        for i in keep:
            text = "" if row[i] is None else str(row[i])
            cells.append(text if len(text) <= _PREVIEW_WIDTH else text[: _PREVIEW_WIDTH - 1] + "…")
        shown.append(cells)
    return [names[i] for i in keep], shown, more


def preview_text(query: QuerySet[Any]) -> str:
    """A compact text table of the first rows of `query`."""
    names, data, more = _preview(query)
    title = f"{query.model.__name__} query: {len(data)}{'+' if more else ''} rows"
    if not data:
        return f"{title}"
    widths = [max(len(n), *(len(r[i]) for r in data)) for i, n in enumerate(names)]
    lines = [title, "  ".join(n.ljust(w) for n, w in zip(names, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in data]
    if more:
        lines.append("... (more rows: .count(), .to_dataframe())")
    return "\n".join(lines)


def preview_html(query: QuerySet[Any]) -> str:
    """A small HTML table of the first rows of `query` (Jupyter's rich repr)."""
    names, data, more = _preview(query)
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in data)
    note = "<p>more rows: <code>.count()</code>, <code>.to_dataframe()</code></p>" if more else ""
    title = f"<p>{html.escape(query.model.__name__)} query: {len(data)}{'+' if more else ''} rows</p>"
    return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"
