"""The runs table: search, filters, sorting on any column, server-side pages.

Filters compile through the query layer (`lineage.db.query`), so they mean
what ``ln.Run.filter(...)`` means. Sorting by a param or a feature, and the
free-text search, are the two pieces of SQL this module adds. One page costs
four statements whatever the size of the instance: the page, the count, the
feature values of the page and (through the join) its transforms. A text
search or a param/feature filter is tested row by row, so its count stops
at `COUNT_LIMIT` (``total_exact`` is then false and the page says "10,000+").
A page's ids and count are kept until the store changes
(`lineage.ui.read.kept`): a sort by a param reads every run's params once
per change of the store, not once per request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lineage.errors import ValidationError
from lineage.ui.read.filters import parse_filter
from lineage.ui.read.kept import MISSING, Kept, current_stamp
from lineage.ui.read.values import display, flatten, iso, reference_link, seconds_between

#: Most runs one page may hold.
MAX_LIMIT = 500
#: Runs counted at most when a search or filter tests each row (``"10,000+"``).
COUNT_LIMIT = 10_000
#: Page orders (ids, next page, count) kept until the store changes.
RUN_ORDERS = Kept(64)
#: Most param (and feature) columns a page shows.
MAX_COLUMNS = 40
# Exact to the microsecond (julianday() is not): whole seconds plus the stored fraction.
_SQLITE_DURATION = (
    "(CAST(strftime('%s', run.finished_at) AS INTEGER) - CAST(strftime('%s', run.started_at) "
    "AS INTEGER) + CAST(substr(run.finished_at, 20, 7) AS REAL) - CAST(substr(run.started_at, "
    "20, 7) AS REAL))")
_NOT_NULL = {"started_at", "status", "uid", "id", "transform"}
#: Param keys inlined as SQL literals (letters, digits, ``_``, ``-``; no quote, ``?`` or ``%``).
_PLAIN_KEY = re.compile(r"\w[\w\-]*")
_PLAIN_SORTS = {"started_at", "finished_at", "status", "entrypoint", "name", "uid", "id",
                "attempt", "host"}


@dataclass
class RunQuery:
    """What the runs page asks for.

    Attributes:
        q: Free text: a uid prefix, or part of a transform key, entrypoint,
            run name or external id.
        transform: Only runs of transforms with this key.
        status: Only runs with one of these statuses.
        project: Only runs in the project with this uid or name.
        where: A filter expression (see `lineage.ui.read.filters`).
        sort: A column, ``-`` for descending: ``started_at``, ``duration``,
            ``transform``, ``params.<path>``, ``features.<name>``, ...
        offset: Rows to skip.
        limit: Rows per page (at most `MAX_LIMIT`).
    """

    q: str = ""
    transform: str | None = None
    status: list[str] = field(default_factory=list)
    project: str | None = None
    where: str = ""
    sort: str = "-started_at"
    offset: int = 0
    limit: int = 50


def runs_page(query: RunQuery) -> dict[str, Any]:
    """One page of runs as JSON-ready data (see the API description)."""
    from lineage.db.record import current_db
    from lineage.models.run import Run

    if not 1 <= query.limit <= MAX_LIMIT or query.offset < 0:
        raise ValidationError(f"limit must be 1..{MAX_LIMIT} and offset >= 0.")
    db = current_db()
    where, params = _where(query, db)
    n = len(Run.columns())
    cols = ", ".join(f"run.{c}" for c in Run.columns())
    # The page's ids first (an index walk, even deep into the table), then their rows.
    plain, fed = _ids_statements(query, db, where, params)
    rows_sql = (f"SELECT {cols}, transform.key, transform.uid, transform.version FROM run "
                "JOIN transform ON transform.id = run.transform_id WHERE run.id IN ({marks})")

    # Text search and param/feature filters are tested row by row: count them up to a cap.
    scanning = bool(query.q.strip() or query.where.strip())
    if scanning:  # stop counting at the cap: the count alone would scan every run
        count_sql = (f"SELECT COUNT(*) FROM (SELECT 1 FROM run WHERE {where} "
                     f"LIMIT {COUNT_LIMIT + 1}) capped")
    else:
        count_sql = f"SELECT COUNT(*) FROM run WHERE {where}"

    def order_and_count(conn: Any) -> tuple[list[int], bool, int]:
        sql, sql_params = plain if fed is None else _ids_statement(conn, plain, fed)
        ids = [row[0] for row in conn.fetchall(sql, sql_params)]
        return ids[:query.limit], len(ids) > query.limit, int(conn.scalar(count_sql, params))

    def page_rows(conn: Any, ids: list[int]) -> list[tuple]:
        rows = conn.fetchall(rows_sql.format(marks=", ".join("?" for _ in ids)), ids) if ids else []
        position = {run_id: i for i, run_id in enumerate(ids)}
        rows.sort(key=lambda row: position[row[0]])
        return rows

    def work(conn: Any) -> tuple[list[int], bool, int, list[tuple]]:
        ids, more, total = order_and_count(conn)
        return ids, more, total, page_rows(conn, ids)

    # The order and count (a scan of every run's params for a param sort) are kept
    # until the store changes; the rows themselves are read every time.
    stamp = current_stamp()
    key = (plain[0], count_sql, repr(plain[1]))
    kept = RUN_ORDERS.get(stamp, key)
    if kept is MISSING:
        ids, more, total, rows = db.read(work)
        RUN_ORDERS.put(stamp, key, (ids, more, total))
    else:
        ids, more, total = kept
        rows = db.read(lambda conn: page_rows(conn, ids))
    exact = not scanning or total <= COUNT_LIMIT
    if not exact:  # more than the cap, and at least what the pages so far hold
        total = max(COUNT_LIMIT, query.offset + len(ids) + int(more))
    runs = [(Run.from_row(row[:n], db.dialect), row[n:]) for row in rows]
    features = _features_of([run.id for run, _ in runs], db)
    items = [_row(run, transform, features.get(run.id, {})) for run, transform in runs]
    return {
        "total": total, "total_exact": exact, "more": more, "offset": query.offset,
        "limit": query.limit, "sort": query.sort,
        "columns": _columns(items, query.sort), "runs": items,
    }


def _ids_statements(query: RunQuery, db: Any, where: str, params: list[Any],
                    ) -> tuple[tuple[str, list[Any]], tuple[str, list[Any]] | None]:
    """SQL and parameters of the page's ids, and (PostgreSQL, a descending param sort) the
    same order with its input read newest first (see `_ids_statement`); else None."""
    order, order_params = _order(query.sort, db)
    join = " JOIN transform ON transform.id = run.transform_id" if "transform." in order else ""
    page = f"LIMIT {int(query.limit) + 1} OFFSET {int(query.offset)}"  # one more: a next page?
    plain = (f"SELECT run.id FROM run{join} WHERE {where} ORDER BY {order} {page}",
             [*params, *order_params])
    if db.is_sqlite or not query.sort.startswith("-params."):
        return plain, None
    expr, expr_params = _sort_expression(query.sort[1:], query.sort, db)
    return plain, (f"SELECT id FROM (SELECT run.id, {expr} AS sort_key FROM run{join} "
                   f"WHERE {where} ORDER BY run.id DESC) newest "
                   f"ORDER BY sort_key DESC NULLS LAST, id DESC {page}", [*expr_params, *params])


def _ids_statement(conn: Any, plain: tuple[str, list[Any]],
                   fed: tuple[str, list[Any]]) -> tuple[str, list[Any]]:
    """The page's ids statement of a descending param sort on PostgreSQL: `plain` or `fed`.

    Without an index to walk, PostgreSQL sorts every run's value with a
    top-N heap. Read oldest first (a table's order), each run of the top
    value beats the heap's worst entry on its id and replaces it: about six
    jsonb comparisons a run. Read newest first (`fed`: the same ORDER BY over
    a subquery ordered by id descending), it loses on its id at once: on
    100,000 runs the sort takes half the time (and one core: the plain
    sort takes a parallel worker). When an expression index serves the order
    (the plan of `plain` has no full Sort node: an index walk, or an
    incremental sort of ties along an index of the value), `plain` walks it.
    """
    plan = conn.fetchall("EXPLAIN (FORMAT JSON) " + plain[0], plain[1])[0][0]
    nodes = [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        if node["Node Type"] == "Sort":
            return fed
        nodes.extend(node.get("Plans", []))
    return plain


def _where(query: RunQuery, db: Any) -> tuple[str, list[Any]]:
    from lineage.models.run import Run

    lookups = parse_filter(query.where)
    if query.transform:
        lookups["transform__key"] = query.transform
    if query.status:
        lookups["status__in"] = list(query.status)
    if query.project:
        lookups["projects"] = _project(query.project)
    where, params = Run.filter(**lookups).compile_where(db)
    text = query.q.strip()
    if text:
        d = db.dialect
        search = " OR ".join([
            d.startswith("run.uid", False), d.contains("run.entrypoint", True),
            d.contains("run.name", True), "run.external_id = ?",
            f"run.transform_id IN (SELECT id FROM transform WHERE {d.contains('key', True)})",
        ])
        where = f"{where} AND ({search})"
        params = [*params, text, text, text, text, text, text]
    return where, params


def _project(uid_or_name: str) -> Any:
    from lineage.errors import DoesNotExist
    from lineage.models.project import Project

    found = Project.filter(uid=uid_or_name).first() or Project.filter(name=uid_or_name).first()
    if found is None:
        raise DoesNotExist(f"no project with uid or name {uid_or_name!r}.")
    return found


def _order(sort: str, db: Any) -> tuple[str, list[Any]]:
    """ORDER BY for `sort`: missing values last in both directions, ties by id."""
    name = sort.lstrip("-") or "started_at"
    direction = "DESC" if sort.startswith("-") else "ASC"
    expr, params = _sort_expression(name, sort, db)
    if name in _NOT_NULL:  # plain, so an index on the column serves the order
        return f"{expr} {direction}, run.id {direction}", params
    return f"{expr} {direction} NULLS LAST, run.id {direction}", params


def _sort_expression(name: str, sort: str, db: Any) -> tuple[str, list[Any]]:
    """The SQL value runs are sorted by for column `name` (`sort` as asked, for errors)."""
    params: list[Any] = []
    if name in _PLAIN_SORTS:
        from lineage.models.run import Run

        if name not in Run.columns():
            raise ValidationError(f"runs have no field {name!r} to sort by.")
        expr = f"run.{name}"
    elif name == "transform":
        expr = "transform.key"
    elif name == "duration":
        expr = _SQLITE_DURATION if db.is_sqlite else "(run.finished_at - run.started_at)"
    elif name.startswith("params.") and len(name) > 7 and "__" not in name:
        path = tuple(name[7:].split("."))
        if db.is_sqlite:
            expr, params = db.dialect.json_value("run.params", path)
        else:  # jsonb order: numbers as numbers, then strings
            expr, params = _pg_param(path)
    elif name.startswith("features.") and len(name) > 9:
        expr = ("(SELECT v.value FROM run_feature_value v JOIN feature f ON f.id = v.feature_id "
                "WHERE v.run_id = run.id AND f.name = ?)")
        params = [name[9:]]
    else:
        raise ValidationError(
            f"cannot sort runs by {sort!r}: use started_at, finished_at, duration, status, "
            "transform, entrypoint, name, params.<path> or features.<name> (prefix - for "
            "descending)."
        )
    return expr, params


def _pg_param(path: tuple[str, ...]) -> tuple[str, list[Any]]:
    """The jsonb at `path` of ``run.params``, with the keys inlined when they are plain.

    ``params -> 'a' -> 'b'`` with literal keys, so that an expression index
    such as ``CREATE INDEX ON run ((params -> 'lr') DESC NULLS LAST)`` can
    serve the sort (a parameter never matches an index; without an index
    both forms cost the same, a scan of every run's params). Both say the
    same for object keys; a key that could be an array index (``0``), or
    holds characters a literal would need escaped, keeps the parameter form.
    """
    from lineage.db.json_path import array_index, check_segments

    check_segments(path)
    if all(_PLAIN_KEY.fullmatch(k) and array_index(k) is None for k in path):
        return "(run.params" + "".join(f" -> '{k}'" for k in path) + ")", []
    return "(run.params #> CAST(? AS text[]))", [list(path)]


def _features_of(run_ids: list[int], db: Any) -> dict[int, dict[str, Any]]:
    if not run_ids:
        return {}
    marks = ", ".join("?" for _ in run_ids)
    rows = db.query(
        "SELECT v.run_id, f.name, v.value FROM run_feature_value v "
        f"JOIN feature f ON f.id = v.feature_id WHERE v.run_id IN ({marks})", run_ids)
    out: dict[int, dict[str, Any]] = {}
    for run_id, name, value in rows:
        out.setdefault(run_id, {})[name] = db.dialect.decode("json", value)
    return out


def _row(run: Any, transform: tuple, features: dict[str, Any]) -> dict[str, Any]:
    key, transform_uid, version = transform
    params = flatten(run.params or {})
    item = {
        "uid": run.uid,
        "transform": {"uid": transform_uid, "key": key, "version": version},
        "entrypoint": run.entrypoint, "name": run.name, "status": run.status,
        "started_at": iso(run.started_at), "finished_at": iso(run.finished_at),
        "duration_s": seconds_between(run.started_at, run.finished_at),
        "external_source": run.external_source, "external_id": run.external_id,
        "params": params, "features": features,
        "display": {
            "params": {k: display(v) for k, v in params.items()},
            "features": {k: display(v) for k, v in features.items()},
            "links": {k: link for k, v in params.items() if (link := reference_link(v))},
        },
    }
    for name in ("attempt",):  # engine fields, when the instance has them
        if hasattr(run, name):
            item[name] = getattr(run, name)
    return item


def _columns(items: list[dict[str, Any]], sort: str) -> dict[str, list[str]]:
    """Param and feature columns of a page: the most common first."""
    out: dict[str, list[str]] = {}
    for kind in ("params", "features"):
        counts: dict[str, int] = {}
        for item in items:
            for name in item[kind]:
                counts[name] = counts.get(name, 0) + 1
        names = sorted(counts, key=lambda n: (-counts[n], n))[:MAX_COLUMNS]
        sorted_by = sort.lstrip("-")
        if sorted_by.startswith(f"{kind}.") and sorted_by[len(kind) + 1:] not in names:
            names.append(sorted_by[len(kind) + 1:])
        out[kind] = sorted(names)
    return out
