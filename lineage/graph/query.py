"""SQL of the lineage graph: one recursive CTE per direction.

The lineage graph has two kinds of nodes, runs (``'r'``) and artifacts
(``'a'``), and four kinds of derivation edges, each stored in one place:

==============================  =========================================
edge                            stored in
==============================  =========================================
artifact -> run   (input)       ``run_input(run_id, artifact_id)``
run -> artifact   (output)      ``artifact.run_id`` (latest creator) and
                                ``artifact_previous_run`` (earlier ones)
run -> run        (initiated)   ``run.initiated_by_run_id``
run -> run        (data)        ``run_upstream(run_id, upstream_run_id)``
==============================  =========================================

Upstream follows these edges backwards, downstream forwards. Each step of
the recursion is a handful of index lookups keyed on the current node, so
the cost grows with the size of the answer and not with the size of the
store. SQLite evaluates several recursive SELECTs per queue row (3.34+);
PostgreSQL allows a single recursive term, so there the hops are a UNION ALL
inside a ``CROSS JOIN LATERAL``. Both are plain ``WITH RECURSIVE`` queries.

Without a depth limit the CTE holds ``(kind, id)`` and ``UNION`` removes
duplicates, which also ends cycles (a run that loads an artifact and
re-creates it). With a depth limit it holds ``(kind, id, depth)``, bounded
by the limit; the caller takes the minimum depth per node.
"""

from __future__ import annotations

from typing import NamedTuple


class Hop(NamedTuple):
    """One way to step from a node of kind `source` to nodes of kind `target`.

    `tables` is a FROM clause with one table aliased ``x``; `condition`
    ties it to the current node ``cur``; `target_id` selects the next id.
    """

    source: str
    target: str
    tables: str
    target_id: str
    condition: str


#: The artifact ``x.artifact_id`` is not hidden. A scalar subquery on the
#: primary key, not a join: with a join PostgreSQL may pick a hash join over
#: the whole artifact table for every step when its statistics are stale.
_VISIBLE = "NOT (SELECT y.storage_ongoing FROM artifact y WHERE y.id = x.artifact_id)"

UPSTREAM_HOPS = (
    # artifact <- its latest creating run
    Hop("a", "r", "artifact x", "x.run_id", "x.id = cur.id AND x.run_id IS NOT NULL"),
    # artifact <- earlier runs that re-created it
    Hop("a", "r", "artifact_previous_run x", "x.run_id", "x.artifact_id = cur.id"),
    # run <- its (visible) input artifacts
    Hop("r", "a", "run_input x", "x.artifact_id", f"x.run_id = cur.id AND {_VISIBLE}"),
    # run <- the run that initiated it
    Hop("r", "r", "run x", "x.initiated_by_run_id",
        "x.id = cur.id AND x.initiated_by_run_id IS NOT NULL"),
    # run <- runs whose values it received (engine tasks, no artifact)
    Hop("r", "r", "run_upstream x", "x.upstream_run_id", "x.run_id = cur.id"),
)

DOWNSTREAM_HOPS = (
    # artifact -> runs that loaded it
    Hop("a", "r", "run_input x", "x.run_id", "x.artifact_id = cur.id"),
    # run -> artifacts it created (latest creator)
    Hop("r", "a", "artifact x", "x.id", "x.run_id = cur.id AND NOT x.storage_ongoing"),
    # run -> artifacts it re-created earlier
    Hop("r", "a", "artifact_previous_run x", "x.artifact_id", f"x.run_id = cur.id AND {_VISIBLE}"),
    # run -> runs it initiated (steps, child processes)
    Hop("r", "r", "run x", "x.id", "x.initiated_by_run_id = cur.id"),
    # run -> runs that received its values
    Hop("r", "r", "run_upstream x", "x.run_id", "x.upstream_run_id = cur.id"),
)


def traversal_cte(name: str, hops: tuple[Hop, ...], dialect: str, max_depth: int | None) -> str:
    """The body ``name(kind, id[, depth]) AS (...)`` of one recursive CTE.

    The seed row takes two parameters: the node kind (``'a'``/``'r'``) and id.

    Args:
        name: CTE name.
        hops: `UPSTREAM_HOPS` or `DOWNSTREAM_HOPS`.
        dialect: ``"sqlite"`` or ``"postgresql"``.
        max_depth: Deepest hop count to reach, or None for no limit.
    """
    bounded = max_depth is not None
    columns = "kind, id, depth" if bounded else "kind, id"
    if dialect == "postgresql":
        seed = "SELECT CAST(? AS text), CAST(? AS bigint)" + (", 0" if bounded else "")
        inner = "\n      UNION ALL ".join(
            f"SELECT CAST('{h.target}' AS text) AS kind, {h.target_id} AS id FROM {h.tables} "
            f"WHERE cur.kind = '{h.source}' AND {h.condition}"
            for h in hops
        )
        step = (f"SELECT n.kind, n.id{', cur.depth + 1' if bounded else ''} FROM {name} cur "
                f"CROSS JOIN LATERAL (\n      {inner}\n    ) n")
        if bounded:
            step += f" WHERE cur.depth < {int(max_depth)}"
        recursive = [step]
    else:
        seed = "SELECT ?, ?" + (", 0" if bounded else "")
        recursive = []
        for h in hops:
            select = (f"SELECT '{h.target}', {h.target_id}{', cur.depth + 1' if bounded else ''} "
                      f"FROM {name} cur, {h.tables} "
                      f"WHERE cur.kind = '{h.source}' AND {h.condition}")
            if bounded:
                select += f" AND cur.depth < {int(max_depth)}"
            recursive.append(select)
    body = "\n    UNION ".join([seed, *recursive])
    return f"{name}({columns}) AS (\n    {body}\n  )"


def traversal_sql(dialect: str, upstream: bool, downstream: bool,
                  max_depth: int | None) -> tuple[str, int]:
    """One statement returning ``(direction, kind, id, depth)`` rows.

    `direction` is ``'u'`` or ``'d'``; `depth` is the fewest hops from the
    focus (NULL when unbounded). Every node reached is returned once per
    direction, the focus included.

    Returns:
        The SQL and how many (kind, id) seed pairs it expects.
    """
    ctes, selects = [], []
    directions = ((upstream, "up", UPSTREAM_HOPS), (downstream, "down", DOWNSTREAM_HOPS))
    for wanted, name, hops in directions:
        if not wanted:
            continue
        ctes.append(traversal_cte(name, hops, dialect, max_depth))
        tag = name[0]
        if max_depth is None:
            selects.append(f"SELECT '{tag}', kind, id, NULL FROM {name}")
        else:
            selects.append(f"SELECT '{tag}', kind, id, MIN(depth) FROM {name} GROUP BY kind, id")
    sql = "WITH RECURSIVE " + ",\n  ".join(ctes) + "\n" + "\nUNION ALL ".join(selects)
    return sql, len(ctes)


def ids_condition(column: str, dialect: str) -> str:
    """``column`` is in a list given as one parameter (see `ids_param`)."""
    if dialect == "postgresql":
        return f"{column} = ANY(CAST(? AS bigint[]))"
    return f"{column} IN (SELECT value FROM json_each(?))"


def ids_param(ids: list[int], dialect: str) -> object:
    """The parameter for `ids_condition`: an array literal (PostgreSQL) or a JSON array (SQLite)."""
    if dialect == "postgresql":
        # An array literal: psycopg dumps a list of 1,000 ints element by element
        # (about a millisecond), a string at once; the server parses either.
        return "{" + ",".join([str(int(i)) for i in ids]) + "}"
    import json

    return json.dumps(list(ids))


RUN_COLUMNS = ("id", "uid", "entrypoint", "name", "status", "started_at", "finished_at",
               "initiated_by_run_id", "transform_key", "transform_uid", "transform_version",
               "transform_kind")
ARTIFACT_COLUMNS = ("id", "uid", "key", "version", "is_latest", "description", "size", "hash",
                    "kind", "suffix", "run_id", "storage_ongoing", "created_at", "space_id")


def runs_sql(dialect: str) -> str:
    """Rows of `RUN_COLUMNS` for the runs whose ids are given."""
    return ("SELECT r.id, r.uid, r.entrypoint, r.name, r.status, r.started_at, r.finished_at, "
            "r.initiated_by_run_id, t.key, t.uid, t.version, t.kind "
            "FROM run r JOIN transform t ON t.id = r.transform_id "
            f"WHERE {ids_condition('r.id', dialect)}")


def artifacts_sql(dialect: str) -> str:
    """Rows of `ARTIFACT_COLUMNS` for the artifacts whose ids are given."""
    return (f"SELECT {', '.join(ARTIFACT_COLUMNS)} FROM artifact "
            f"WHERE {ids_condition('id', dialect)}")


def links_sql(dialect: str) -> str:
    """``(relation, first_id, second_id)`` link rows touching the given nodes.

    Rows: ``('input', run_id, artifact_id)`` for inputs of the given runs,
    ``('recreated', run_id, artifact_id)`` for earlier creators of the given
    artifacts, ``('data', upstream_run_id, run_id)`` for run -> run data
    edges into the given runs. Parameters: run ids, artifact ids, run ids.
    Each list is probed through an index once per id; the caller keeps the
    rows whose other end is in the graph.
    """
    return (
        "SELECT 'input', run_id, artifact_id FROM run_input "
        f"WHERE {ids_condition('run_id', dialect)} "
        "UNION ALL SELECT 'recreated', run_id, artifact_id FROM artifact_previous_run "
        f"WHERE {ids_condition('artifact_id', dialect)} "
        "UNION ALL SELECT 'data', upstream_run_id, run_id FROM run_upstream "
        f"WHERE {ids_condition('run_id', dialect)}"
    )


def version_neighbors_sql() -> str:
    """The previous and next visible version of a key around a version (in one space).

    Parameters: key, space id, key, space id, version, key, space id, version.
    """
    cols = ", ".join(ARTIFACT_COLUMNS)
    # ``space_id + 0``: without ANALYZE statistics SQLite otherwise walks the
    # space_id index (every artifact of the space: 50 ms at 100,000 artifacts)
    # instead of the key index (the versions of one key).
    visible = "FROM artifact WHERE key = ? AND space_id + 0 = ? AND NOT storage_ongoing"
    return (
        f"SELECT {cols} {visible} AND version IN ("
        f"(SELECT MAX(version) {visible} AND version < ?), "
        f"(SELECT MIN(version) {visible} AND version > ?))"
    )
