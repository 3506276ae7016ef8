"""The interactive lineage graph: a window onto `ln.lineage_graph`, drawn by Graphviz.

The page asks for the focus with `up` hops upstream and `down` hops
downstream, plus the neighbours of each node in `expand` (one hop both
ways), and groups of look-alike nodes collapsed as in ``view_lineage``
except those holding a node in `open`. Each node knows how many of its
neighbours are not shown (`more_up`, `more_down`, from one statement of
stored counts; for a one-direction window it is read in the graph's own
transaction); such nodes get a ``⋯`` handle that expands them. A collapsed
one-direction window is grouped from the fetched lists
(`lineage.graph.collapse.collapse_lists`): only the collapsed graph becomes
a networkx graph. The drawing is
Graphviz SVG whose nodes link to their pages and carry ids the page's
script uses: ``node-<node id>``, ``node-<node id>-more``, ``group-<first
member id>``.

Built graphs and their answers (JSON, DOT) are kept per query under the
store's write stamp (`lineage.ui.read.stamp`): while no transaction has
changed the store, a repeated query is answered from memory; after any
write the next request builds anew. Drawings are kept by their DOT text
(`lineage.ui.drawings`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lineage.errors import ValidationError
from lineage.ui.read.kept import Kept
from lineage.ui.read.values import iso

#: Most nodes one `expand` list may name.
MAX_EXPAND = 200
#: Built graphs kept (with their JSON and DOT answers), all under one write stamp.
GRAPHS = Kept(16)
T = TypeVar("T")


@dataclass
class GraphQuery:
    """What the graph page asks for (see `lineage.ui.api.get_graph`)."""

    uid: str
    up: int = 2
    down: int = 2
    expand: list[str] = field(default_factory=list)
    collapse: bool = True
    open: list[str] = field(default_factory=list)
    max_nodes: int = 1000


def from_cache(query: GraphQuery, product: str, make: Callable[[Any], T]) -> T:
    """`make(graph)` of the graph of `query`, kept until the store changes.

    `product` names what `make` makes (``"json"``, ``"dot"``); the built
    graph itself is kept too, so the JSON and the drawing of one query build
    it once. See `lineage.ui.read.kept` for why this never serves an answer
    older than the last committed write.
    """
    from lineage.ui.read.kept import MISSING, current_stamp

    stamp = current_stamp()
    key = (query.uid, query.up, query.down, tuple(query.expand), query.collapse,
           tuple(query.open), query.max_nodes)
    entry = GRAPHS.get(stamp, key)
    entry = {} if entry is MISSING else dict(entry)
    if product in entry:
        return entry[product]
    if "graph" not in entry:
        entry["graph"] = build(query)
    entry[product] = make(entry["graph"])
    GRAPHS.put(stamp, key, entry)
    return entry[product]


def build(query: GraphQuery) -> Any:
    """The (collapsed, capped) networkx graph of `query`, with `more_up`/`more_down` on nodes."""
    import networkx as nx

    from lineage.db.record import current_db
    from lineage.graph.build import lineage_graph, lineage_lists
    from lineage.graph.collapse import DEFAULT_THRESHOLD, cap, collapse_lists
    from lineage.ui.read.records import get_record

    if len(query.expand) > MAX_EXPAND:
        raise ValidationError(f"expand names {len(query.expand)} nodes; at most {MAX_EXPAND}.")
    record = _record(query.uid, get_record)
    for node in query.expand:
        kind, _, uid = node.partition(":")
        if kind not in ("run", "artifact") or not uid:
            raise ValidationError(f"expand takes node ids such as run:<uid> or artifact:<uid>, "
                                  f"got {node!r}.")
    if not query.expand and not (query.up and query.down):
        # One direction: the graph and its stored neighbour counts in one read,
        # as lists; a collapsed graph is built from them without the full networkx graph.
        depth = query.up or query.down or None
        attributes, nodes, edges, stored = lineage_lists(
            record, upstream=bool(query.up), downstream=bool(query.down), depth=depth,
            also=lambda conn, fetched: _fetched_degrees(conn, fetched, depth))
        graph = None
    else:
        parts = []
        if query.up:
            parts.append(lineage_graph(record, upstream=True, downstream=False, depth=query.up))
        if query.down:
            parts.append(lineage_graph(record, upstream=False, downstream=True,
                                       depth=query.down))
        if not parts:
            parts.append(lineage_graph(record, upstream=False, downstream=False))
        for node in query.expand:
            kind, _, uid = node.partition(":")
            parts.append(lineage_graph(get_record(kind.capitalize(), uid), depth=1,
                                       versions=False))
        graph = nx.compose_all(parts)
        graph.graph.update(parts[0].graph)
        attributes, nodes = graph.graph, list(graph.nodes(data=True))
        edges = {(source, target): data for source, target, data in graph.edges(data=True)}
        stored = current_db().read(lambda conn: _stored_degrees(
            conn, [d["uid"] for _, d in nodes if d["kind"] == "run"],
            [d["uid"] for _, d in nodes if d["kind"] == "artifact"], by="uid"))
    attributes["truncated"] = False
    _count_hidden(nodes, edges, stored)
    if query.collapse:
        merged = collapse_lists(attributes, nodes, edges, DEFAULT_THRESHOLD)
        opened = _opened(merged, set(query.open))
        graph = (collapse_lists(attributes, nodes, edges, DEFAULT_THRESHOLD, keep=opened)
                 if opened else merged)
    elif graph is None:
        graph = nx.DiGraph(**attributes)
        graph.add_nodes_from(nodes)
        graph.add_edges_from((source, target, data) for (source, target), data in edges.items())
    return cap(graph, query.max_nodes, copy=False)


def _record(uid: str, get_record: Any) -> Any:
    from lineage.errors import DoesNotExist

    try:
        return get_record("Artifact", uid)
    except DoesNotExist:
        return get_record("Run", uid)


def _opened(merged: Any, members: set[str]) -> set[str]:
    """Every member of the groups of `merged` that hold one of `members`."""
    kept: set[str] = set()
    for _, data in merged.nodes(data=True):
        if data.get("collapsed") and members.intersection(data["members"]):
            kept.update(data["members"])
    return kept


def _count_hidden(nodes: list[tuple[str, dict[str, Any]]],
                  edges: dict[tuple[str, str], dict[str, Any]],
                  stored: dict[tuple[str, str], tuple[int, int]]) -> None:
    """Set `more_up`, `more_down` and `truncated`: neighbours in the store minus neighbours drawn.

    `stored` maps (kind, uid) to the stored (upstream, downstream) counts.
    """
    shown_up: dict[str, int] = defaultdict(int)
    shown_down: dict[str, int] = defaultdict(int)
    for (source, target), data in edges.items():
        if data.get("relation") != "version":
            shown_down[source] += 1
            shown_up[target] += 1
    for node, data in nodes:
        up, down = stored.get((data["kind"], data["uid"]), (0, 0))
        data["more_up"] = max(0, up - shown_up.get(node, 0))
        data["more_down"] = max(0, down - shown_down.get(node, 0))
        data["truncated"] = bool(data["more_up"] or data["more_down"])


def _fetched_degrees(conn: Any, fetched: dict[str, Any],
                     depth: int | None) -> dict[tuple[str, str], tuple[int, int]]:
    """`_stored_degrees` of the nodes a graph's fetch kept (its hop count within `depth`)."""
    kept = [key for key, hops in fetched["depths"].items() if depth is None or hops <= depth]
    return _stored_degrees(conn, [i for kind, i in kept if kind == "r"],
                           [i for kind, i in kept if kind == "a"], by="id")


#: Per kind: SQL of (uid, upstream count, downstream count) of the rows whose uids or ids
#: are in the list given as one parameter ({uids}: the dialect's condition on it).
_DEGREES = {
    "run": (
        "SELECT r.uid, "
        "(SELECT COUNT(*) FROM run_input i WHERE i.run_id = r.id) "
        "+ CASE WHEN r.initiated_by_run_id IS NULL THEN 0 ELSE 1 END "
        "+ (SELECT COUNT(*) FROM run_upstream u WHERE u.run_id = r.id), "
        "(SELECT COUNT(*) FROM artifact a WHERE a.run_id = r.id AND NOT a.storage_ongoing) "
        "+ (SELECT COUNT(*) FROM artifact_previous_run p WHERE p.run_id = r.id) "
        "+ (SELECT COUNT(*) FROM run c WHERE c.initiated_by_run_id = r.id) "
        "+ (SELECT COUNT(*) FROM run_upstream u WHERE u.upstream_run_id = r.id) "
        "FROM run r WHERE {uids}"),
    "artifact": (
        "SELECT a.uid, CASE WHEN a.run_id IS NULL THEN 0 ELSE 1 END "
        "+ (SELECT COUNT(*) FROM artifact_previous_run p WHERE p.artifact_id = a.id "
        "AND p.run_id <> COALESCE(a.run_id, -1)), "
        "(SELECT COUNT(*) FROM run_input i WHERE i.artifact_id = a.id) "
        "FROM artifact a WHERE {uids}"),
}


def _stored_degrees(conn: Any, runs: list[Any], artifacts: list[Any],
                    by: str) -> dict[tuple[str, str], tuple[int, int]]:
    """(kind, uid) -> (upstream, downstream) neighbour counts in the store.

    `runs` and `artifacts` are uids (`by` ``"uid"``) or database ids (``"id"``).
    One statement for both kinds, each list one parameter (an array literal
    on PostgreSQL, a JSON array on SQLite): the same SQL text whatever the
    graph's size, so PostgreSQL plans it once per connection, not once per
    chunk of placeholders.
    """
    import json

    postgres = conn.dialect.name == "postgresql"

    def condition(alias: str) -> str:
        if postgres:
            return f"{alias}.{by} = ANY(CAST(? AS {'bigint' if by == 'id' else 'text'}[]))"
        return f"{alias}.{by} IN (SELECT value FROM json_each(?))"

    def param(values: list[Any]) -> str:
        if not postgres:
            return json.dumps(values)
        if by == "id":
            return "{" + ",".join([str(int(v)) for v in values]) + "}"
        return "{" + ",".join(['"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
                               for v in values]) + "}"

    sql = (f"SELECT 'run', d.* FROM ({_DEGREES['run'].format(uids=condition('r'))}) d "
           f"UNION ALL SELECT 'artifact', e.* FROM "
           f"({_DEGREES['artifact'].format(uids=condition('a'))}) e")
    return {(kind, uid): (int(up), int(down))
            for kind, uid, up, down in conn.fetchall(sql, [param(runs), param(artifacts)])}


# --- answers ---------------------------------------------------------------------------
def node_url(node: str, data: dict[str, Any]) -> str | None:
    """The page of a node (None for a collapsed group)."""
    if data.get("collapsed") or data.get("kind") == "hidden":
        return None
    return f"/{'runs' if data['kind'] == 'run' else 'artifacts'}/{data['uid']}"


def graph_json(query: GraphQuery) -> bytes:
    """`graph_data` as JSON text (UTF-8), kept until the store changes (see `from_cache`)."""
    import json

    def make(graph: Any) -> bytes:
        return json.dumps(_data(graph), ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode("utf-8")

    return from_cache(query, "json", make)


def graph_data(query: GraphQuery) -> dict[str, Any]:
    """Nodes and edges of the graph as JSON-ready data."""
    return _data(build(query))


def _data(graph: Any) -> dict[str, Any]:
    nodes = []
    for node, data in graph.nodes(data=True):
        item = {k: (iso(v) if hasattr(v, "isoformat") else v) for k, v in data.items()
                if k != "members"}
        item["id"] = node
        item["url"] = node_url(node, data)
        if data.get("collapsed"):
            item["members"] = data["members"][:50]
        nodes.append(item)
    edges = [{"source": a, "target": b, "relation": d.get("relation"),
              "recreated": bool(d.get("recreated")), "count": d.get("count", 1)}
             for a, b, d in graph.edges(data=True)]
    info = {k: v for k, v in graph.graph.items() if k in ("focus", "truncated", "hidden")}
    if "collapsed" in graph.graph:
        info["collapsed"] = list(graph.graph["collapsed"])
    return {"graph": info, "nodes": nodes, "edges": edges}


def graph_svg(query: GraphQuery) -> str:
    """The graph drawn by Graphviz as SVG, nodes linked to their pages."""
    from lineage.graph.render import dot_source
    from lineage.ui.drawings import draw_svg

    return draw_svg(from_cache(query, "dot",
                               lambda graph: dot_source(graph, node_attributes=_svg_attributes)))


def _svg_attributes(node: str, data: dict[str, Any]) -> dict[str, str]:
    if data.get("collapsed"):
        return {"id": f"group-{data['members'][0]}", "class": "group",
                "tooltip": f"{data['count']} {data['kind']}s merged: click to show them"}
    more = []
    if data.get("more_up"):
        more.append(f"{data['more_up']} more upstream")
    if data.get("more_down"):
        more.append(f"{data['more_down']} more downstream")
    return {"id": f"node-{node}", "URL": node_url(node, data) or "", "target": "_top",
            "class": "focus" if data.get("focus") else data["kind"],
            "tooltip": f"{node}" + (f" ({', '.join(more)}; click ⋯ to show)" if more else "")}
