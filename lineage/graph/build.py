"""The lineage graph of a run or artifact, as a `networkx.DiGraph`.

Nodes are runs (``"run:<uid>"``) and artifacts (``"artifact:<uid>"``).
Edges point the way data flowed:

=================  ===================  ==========================================
edge               ``relation``         meaning
=================  ===================  ==========================================
artifact -> run    ``"input"``          the run loaded, cached or opened it
run -> artifact    ``"output"``         the run created it (``recreated=False``),
                                        or created the same content earlier and
                                        was superseded (``recreated=True``:
                                        ``artifact.previous_runs``)
run -> run         ``"initiated"``      a flow (or parent process) started a step
run -> run         ``"data"``           the later run received a value the earlier
                                        one returned, without an artifact (engine
                                        tasks: ``run.upstream_runs``)
artifact -> artif  ``"version"``        the next version of the same key
=================  ===================  ==========================================

*Upstream* of a node is everything with a path of input/output/initiated/data
edges to it; *downstream* is everything it has such a path to. So upstream of
an artifact is its creating runs (latest and previous), their inputs and
initiating runs, recursively; downstream is the runs that loaded it, their
outputs and the steps they started, recursively. The graph holds the focus,
its upstream and its downstream, and every edge among those nodes.

Version edges are not followed (the history of a key is not its
derivation), but they connect the versions present in the graph, and the
focus artifact's previous version (upstream) and next version (downstream)
are added so the graph shows where it sits in its key's history.

The whole graph comes from a constant number of queries (recursive CTEs,
see `lineage.graph.query`), whatever its size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from lineage.errors import DoesNotExist, ValidationError

if TYPE_CHECKING:
    import networkx as nx

    from lineage.db.database import Connection
    from lineage.db.record import Record

__all__ = ["lineage_graph", "node_id", "resolve_record"]

T = TypeVar("T")

#: Edge relations, in the order they are drawn in legends.
RELATIONS = ("input", "output", "initiated", "data", "version")


def node_id(record: Record) -> str:
    """The graph node id of a run or artifact (``"run:<uid>"``, ``"artifact:<uid>"``)."""
    return f"{_kind_of(record)}:{record.uid}"


def lineage_graph(record: Record | str, upstream: bool = True, downstream: bool = True,
                  depth: int | None = None, *, versions: bool = True) -> nx.DiGraph:
    """The lineage graph of a run or artifact.

    Args:
        record: A saved `Run` or `Artifact`, or a key or uid naming one
            (see `resolve_record`).
        upstream: Include what the record was derived from.
        downstream: Include what was derived from the record.
        depth: Follow at most this many edges from the record (None: all).
            When more lineage exists beyond it, ``graph.graph["truncated"]``
            is True and the nodes at the border have ``truncated=True``.
        versions: Add the previous/next version of a focus artifact and
            ``"version"`` edges between versions of a key.

    Returns:
        A `networkx.DiGraph`. Graph attributes: ``focus`` (node id),
        ``upstream``, ``downstream``, ``depth``, ``truncated``. Run nodes:
        ``kind="run"``, ``uid``, ``transform_key``, ``transform_uid``,
        ``transform_version``, ``transform_kind``, ``entrypoint``, ``name``,
        ``status``, ``started_at``, ``finished_at``. Artifact nodes:
        ``kind="artifact"``, ``uid``, ``key``, ``version``, ``is_latest``,
        ``description``, ``size``, ``hash``, ``artifact_kind``, ``suffix``,
        ``created_at``. Every node also has ``focus`` and ``truncated``
        (booleans). Edges: ``relation`` (see the module docstring) and, on
        output edges, ``recreated``. A run in a space the reader cannot read
        (PostgreSQL spaces) is a node ``kind="hidden"`` with only
        ``label="1 record in a space you cannot read"``; the graph attribute
        ``hidden_records`` counts them.

    Raises:
        ValidationError: `record` is not a saved run or artifact, or `depth`
            is negative.
        DoesNotExist: A string names no run or artifact.

    Example:
        >>> g = ln.lineage_graph(ln.Artifact.get(key="results/model.pkl"), downstream=False)
        >>> [n for n, d in g.nodes(data=True) if d["kind"] == "run"]
    """
    return lineage_graph_with(record, upstream, downstream, depth, versions=versions)[0]


def lineage_graph_with(record: Record | str, upstream: bool = True, downstream: bool = True,
                       depth: int | None = None, *, versions: bool = True,
                       also: Callable[[Connection, dict[str, Any]], T] | None = None,
                       ) -> tuple[nx.DiGraph, T | None]:
    """`lineage_graph` and what `also` reads in the same transaction (see `lineage_lists`)."""
    import networkx as nx

    attributes, nodes, edges, extra = lineage_lists(record, upstream, downstream, depth,
                                                    versions=versions, also=also)
    graph = nx.DiGraph(**attributes)
    graph.add_nodes_from(nodes)
    graph.add_edges_from((source, target, data) for (source, target), data in edges.items())
    return graph, extra


def lineage_lists(record: Record | str, upstream: bool = True, downstream: bool = True,
                  depth: int | None = None, *, versions: bool = True,
                  also: Callable[[Connection, dict[str, Any]], T] | None = None,
                  ) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]],
                             dict[tuple[str, str], dict[str, Any]], T | None]:
    """The graph of `lineage_graph` as plain data, and what `also` read.

    Returns:
        The graph attributes, the nodes as ``(node id, data)`` in the graph's
        order, the edges as ``(source, target) -> data`` in the order they were
        added (a networkx graph of them is `lineage_graph`), and the result of
        `also(conn, fetched)`, run after the graph's queries in the same
        transaction (None without `also`): ``fetched["depths"]`` maps each
        ``("r" | "a", database id)`` reached to its hop count (nodes one hop
        beyond `depth` included).
    """
    from lineage.db.record import current_db

    if isinstance(record, str):
        record = resolve_record(record)
    kind = _kind_of(record)
    if record.id is None:
        raise ValidationError(f"{type(record).__name__} {record.uid} is not saved yet; "
                              "save() it first.")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 0):
        raise ValidationError(f"depth must be a non-negative integer or None, got {depth!r}")
    db = current_db()

    def read(conn: Connection) -> tuple[dict[str, Any], T | None]:
        fetched = _fetch(conn, kind[0], record.id, upstream, downstream, depth, versions)
        return fetched, (None if also is None else also(conn, fetched))

    fetched, extra = db.read(read)
    attributes: dict[str, Any] = {"focus": node_id(record), "upstream": upstream,
                                  "downstream": downstream, "depth": depth, "truncated": False}
    nodes, edges, db_keys, hidden = _lists(fetched, db.dialect, f"{kind[0]}{record.id}")
    if hidden:
        attributes["hidden_records"] = hidden
    if depth is not None:
        nodes, edges, attributes["truncated"] = _cut(nodes, edges, fetched["depths"], db_keys,
                                                     depth)
    return attributes, nodes, edges, extra


def resolve_record(text: str, transforms: bool = False) -> Record:
    """The run or artifact a command-line argument names.

    Tried in order: an artifact or run uid, an artifact key (its latest
    version), a uid prefix (at least 4 characters, unambiguous), a transform
    key (its latest run), which may also be given as the workflow's file
    name, the end of its key or its path (see `find_transform_key`).

    Args:
        text: A uid, uid prefix or key.
        transforms: Return the transform itself for a transform key or uid
            (instead of its latest run).

    Raises:
        DoesNotExist: Nothing matches; the message says what was tried.
        MultipleResultsFound: A file name ends several transform keys; the
            message lists them.
    """
    from lineage.artifact import Artifact
    from lineage.errors import InvalidKeyError
    from lineage.models.run import Run
    from lineage.models.transform import Transform, find_transform_key

    for model in (Artifact, Run, Transform) if transforms else (Artifact, Run):
        found = model.filter(uid=text).first()
        if found is not None:
            return found
    try:
        found = Artifact.filter(key=text).order_by("-is_latest", "-version").first()
    except InvalidKeyError:  # not an artifact key (an absolute path, ...): try the rest
        found = None
    if found is not None:
        return found
    if len(text) >= 4:
        matches = [*Artifact.filter(uid__startswith=text)[:2],
                   *Run.filter(uid__startswith=text)[:2]]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise DoesNotExist(f"{text!r} is the start of several uids "
                               f"({', '.join(m.uid for m in matches)}); give more characters.")
    key = find_transform_key(text)
    transform = None if key is None else Transform.filter(key=key).order_by("-version").first()
    if transform is not None and transforms:
        return transform
    if transform is not None and transform.latest_run is not None:
        return transform.latest_run
    raise DoesNotExist(
        f"no artifact or run matches {text!r} (tried artifact and run uids, artifact keys, "
        "uid prefixes and transform keys). List candidates with `lineage runs` or "
        "ln.Artifact.filter(key__startswith=...)."
    )


# --- internals -------------------------------------------------------------------
def _kind_of(record: Any) -> str:
    from lineage.artifact import Artifact
    from lineage.models.run import Run

    if isinstance(record, Artifact):
        return "artifact"
    if isinstance(record, Run):
        return "run"
    raise ValidationError(
        f"lineage graphs start from a Run or an Artifact, got {type(record).__name__}. "
        "For a transform, use transform.latest_run."
    )


def _fetch(conn: Connection, kind: str, record_id: int, upstream: bool, downstream: bool,
           depth: int | None, versions: bool) -> dict[str, Any]:
    """Every row the graph needs, in a constant number of queries."""
    from lineage.graph import query as q

    dialect = conn.dialect.name
    if dialect == "postgresql":
        # Index lookups only: JIT compilation (triggered by the recursive CTE's
        # high cost estimate) would cost more than the whole query.
        conn.execute("SET LOCAL jit = off")
        # Every table here is read by index probes on cached pages; at the default
        # random_page_cost (4, spinning disks) PostgreSQL reads the 1,000 input links
        # of a 1,000-step chain with a scan of all of run_input (7.5 ms, not 2).
        conn.execute("SET LOCAL random_page_cost = 1.1")
    depths: dict[tuple[str, int], int] = {(kind, record_id): 0}
    if upstream or downstream:
        max_depth = None if depth is None else depth + 1  # one more hop tells what was cut
        sql, seeds = q.traversal_sql(dialect, upstream, downstream, max_depth)
        for _direction, node_kind, node, hops in conn.fetchall(sql, [kind, record_id] * seeds):
            key = (node_kind, int(node))
            hops = 0 if hops is None else int(hops)
            depths[key] = min(hops, depths.get(key, hops))
    run_ids = sorted(i for k, i in depths if k == "r")
    artifact_ids = sorted(i for k, i in depths if k == "a")
    runs = conn.fetchall(q.runs_sql(dialect), [q.ids_param(run_ids, dialect)]) if run_ids else []
    artifacts = (conn.fetchall(q.artifacts_sql(dialect), [q.ids_param(artifact_ids, dialect)])
                 if artifact_ids else [])
    focus = next((row for row in (artifacts if kind == "a" else runs) if row[0] == record_id), None)
    if focus is None:
        raise DoesNotExist(f"the {'artifact' if kind == 'a' else 'run'} with id {record_id} was "
                           "deleted; there is no lineage to show.")
    if versions and kind == "a":
        key, version, space = focus[2], focus[3], focus[q.ARTIFACT_COLUMNS.index("space_id")]
        if key is not None:
            rows = conn.fetchall(q.version_neighbors_sql(),
                                 [key, space, key, space, version, key, space, version])
            for row in rows:
                wanted = upstream if row[3] < version else downstream
                if wanted and ("a", row[0]) not in depths:
                    depths[("a", row[0])] = 1
                    artifacts.append(row)
                    artifact_ids.append(row[0])
    links: list[tuple] = []
    if run_ids:
        r, a = q.ids_param(run_ids, dialect), q.ids_param(artifact_ids, dialect)
        links = conn.fetchall(q.links_sql(dialect), [r, a, r])
    return {"depths": depths, "runs": runs, "artifacts": artifacts, "links": links}


def _lists(fetched: dict[str, Any], dialect: Any, focus_key: str,
           ) -> tuple[list[tuple[str, dict[str, Any]]], dict[tuple[str, str], dict[str, Any]],
                      dict[str, tuple[str, int]], int]:
    """Nodes and edges of the fetched rows, node -> (kind, database id), hidden runs.

    Gathered in lists (a networkx graph takes them in one call each: it
    clears its caches and runs its checks per call, not per node). The edge
    dict keeps what single `add_edge` calls would make: an edge added twice
    stays where it was first added and takes the later attributes.
    """
    db_keys: dict[str, tuple[str, int]] = {}
    run_nodes: dict[int, str] = {}
    artifact_nodes: dict[int, str] = {}
    decode = dialect.decode
    nodes: list[tuple[str, dict[str, Any]]] = []
    # Columns: lineage.graph.query.RUN_COLUMNS and ARTIFACT_COLUMNS.
    for (run_id, uid, entrypoint, name, status, started_at, finished_at, _parent, transform_key,
         transform_uid, transform_version, transform_kind) in fetched["runs"]:
        node = f"run:{uid}"
        run_nodes[run_id] = node
        db_keys[node] = ("r", run_id)
        nodes.append((node, {
            "kind": "run", "uid": uid, "transform_key": transform_key,
            "transform_uid": transform_uid, "transform_version": transform_version,
            "transform_kind": transform_kind, "entrypoint": entrypoint, "name": name,
            "status": status, "started_at": decode("datetime", started_at),
            "finished_at": decode("datetime", finished_at),
            "focus": focus_key == f"r{run_id}", "truncated": False,
        }))
    for (artifact_id, uid, key, version, is_latest, description, size, hash_, kind, suffix,
         _run, _ongoing, created_at, _space) in fetched["artifacts"]:
        node = f"artifact:{uid}"
        artifact_nodes[artifact_id] = node
        db_keys[node] = ("a", artifact_id)
        nodes.append((node, {
            "kind": "artifact", "uid": uid, "key": key, "version": version,
            "is_latest": decode("bool", is_latest), "description": description,
            "size": size, "hash": hash_, "artifact_kind": kind, "suffix": suffix,
            "created_at": decode("datetime", created_at),
            "focus": focus_key == f"a{artifact_id}", "truncated": False,
        }))
    hidden = _add_hidden_runs(nodes, fetched["depths"], run_nodes, db_keys)
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    for artifact in fetched["artifacts"]:
        run = run_nodes.get(artifact[10])
        if run is not None:
            edges[(run, artifact_nodes[artifact[0]])] = {"relation": "output", "recreated": False}
    for relation, run_id, other_id in fetched["links"]:
        if relation == "data":  # other_id is the run that received the data
            source, target = run_nodes.get(run_id), run_nodes.get(other_id)
            if source is not None and target is not None:
                edges.setdefault((source, target), {"relation": "data"})
            continue
        run, artifact = run_nodes.get(run_id), artifact_nodes.get(other_id)
        if run is None or artifact is None:
            continue
        if relation == "input":
            edges.setdefault((artifact, run), {}).update(relation="input")
        else:
            edges.setdefault((run, artifact), {"relation": "output", "recreated": True})
    for row in fetched["runs"]:
        parent = run_nodes.get(row[7])
        if parent is not None:
            edges.setdefault((parent, run_nodes[row[0]]), {}).update(relation="initiated")
    by_key: dict[tuple[int, str], list[tuple[int, str]]] = defaultdict(list)
    for row in fetched["artifacts"]:  # versions of a key are per space
        if row[2] is not None:
            by_key[(row[13], row[2])].append((row[3], artifact_nodes[row[0]]))
    for members in by_key.values():
        members.sort()
        for (_, older), (_, newer) in zip(members, members[1:], strict=False):
            edges.setdefault((older, newer), {"relation": "version"})
    return nodes, edges, db_keys, hidden


#: What a node for a record the reader may not see says (and all it says).
HIDDEN_LABEL = "1 record in a space you cannot read"


def _add_hidden_runs(nodes: list[tuple[str, dict[str, Any]]], depths: dict[tuple[str, int], int],
                     run_nodes: dict[int, str], db_keys: dict[str, tuple[str, int]]) -> int:
    """A node per run the traversal reached but the database did not return; their count.

    On PostgreSQL with spaces, a visible artifact or run can point at a run in
    a space the reader cannot read (``artifact.run_id``,
    ``run.initiated_by_run_id``); the row-level security policies hide the
    run's row. The edge is drawn to a node that says only that: no uid, name,
    key, params or hash. (Link rows with a hidden end are hidden themselves.)
    """
    hidden = sorted(i for kind, i in depths if kind == "r" and i not in run_nodes)
    for number, run_id in enumerate(hidden, start=1):
        node = f"hidden:{number}"
        run_nodes[run_id] = node
        db_keys[node] = ("r", run_id)
        nodes.append((node, {"kind": "hidden", "uid": "", "label": HIDDEN_LABEL, "focus": False,
                             "truncated": False}))
    return len(hidden)


def _cut(nodes: list[tuple[str, dict[str, Any]]], edges: dict[tuple[str, str], dict[str, Any]],
         depths: dict[tuple[str, int], int], db_keys: dict[str, tuple[str, int]], depth: int,
         ) -> tuple[list[tuple[str, dict[str, Any]]], dict[tuple[str, str], dict[str, Any]], bool]:
    """Nodes and edges without those deeper than `depth` (their neighbours marked truncated).

    The third value says whether any node was dropped.
    """
    beyond = {node for node, _ in nodes if depths.get(db_keys[node], 0) > depth}
    if not beyond:
        return nodes, edges, False
    data = dict(nodes)
    for source, target in edges:
        if source in beyond:
            data[target]["truncated"] = True
        if target in beyond:
            data[source]["truncated"] = True
    kept = {pair: d for pair, d in edges.items() if pair[0] not in beyond and pair[1] not in beyond}
    return [(node, d) for node, d in nodes if node not in beyond], kept, True
