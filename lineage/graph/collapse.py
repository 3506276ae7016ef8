"""Keep large lineage graphs readable: collapse repeated structure, cap the rest.

`collapse` merges every group of more than `threshold` nodes that play the
same part in the graph into one node with a count: 10,000 runs of the same
step, each reading its own shard and writing its own part, become one run
node "×10000" between one shard node "×10000" and one part node "×10000";
the middle of a 1,000-step chain of the same step becomes one step node and
one artifact node with edges in both directions.

"The same part" is colour refinement (the 1-dimensional Weisfeiler-Lehman
test) for a few rounds: nodes start coloured by kind (run: transform key,
entrypoint, status; artifact: file extension) and repeatedly take on the
multiset of (edge relation, direction, neighbour colour). The focus node has
its own colour, so it and its close surroundings are never merged. A group
whose members hang off different individual nodes (steps of two different
flow runs) is split by those nodes when every part stays large.

`cap` then keeps at most `max_nodes` nodes, nearest to the focus first, and
marks the graph truncated: 10,000 boxes are never drawn.
"""

from __future__ import annotations

import os
from collections import defaultdict, deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

#: Groups with more members than this are collapsed by default.
DEFAULT_THRESHOLD = 8
#: Default node budget of a drawing.
DEFAULT_MAX_NODES = 300
#: Rounds of colour refinement: how far "the same shape" looks.
ROUNDS = 3


def collapse(graph: nx.DiGraph, threshold: int = DEFAULT_THRESHOLD,
             rounds: int = ROUNDS, keep: frozenset[str] | set[str] = frozenset()) -> nx.DiGraph:
    """A copy of `graph` with each group of more than `threshold` look-alike nodes merged.

    Args:
        graph: A lineage graph (`lineage.graph.build.lineage_graph`).
        threshold: Merge groups larger than this.
        rounds: Refinement rounds (how many hops of surroundings must match).
        keep: Nodes never merged (as the focus is not), such as the members
            of a group a user opened.

    Returns:
        A new graph. A merged node has id ``"group:<n>"``, the members' kind,
        ``collapsed=True``, ``count`` and ``members`` (original node ids),
        shared attributes (``transform_key``, ``entrypoint``, ``status``
        where all members agree, else None), ``key`` as a pattern such as
        ``"shards/*.csv"``, and ``started_at``/``started_last`` for runs.
        Edges carry ``relation`` and ``count`` (original edges merged).
        ``graph.graph["collapsed"]`` is ``(members, groups)``: how many
        nodes were merged into how many group nodes (absent if none).
    """
    groups = _groups(graph, threshold, rounds, keep)
    owner: dict[str, str] = {}
    for index, members in enumerate(groups):
        for member in members:
            owner[member] = f"group:{index}"
    out = type(graph)()
    out.graph.update(graph.graph)
    if groups:
        out.graph["collapsed"] = (sum(len(m) for m in groups), len(groups))
    # Nodes and edges gathered first and added in one call each: networkx
    # checks and clears its caches per call, not per node.
    nodes = [(node, {**data, "collapsed": False}) for node, data in graph.nodes(data=True)
             if node not in owner]
    nodes.extend((f"group:{index}", _group_attributes(graph, members))
                 for index, members in enumerate(groups))
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    for source, target, data in graph.edges(data=True):
        pair = (owner.get(source, source), owner.get(target, target))
        merged = edges.get(pair)
        if merged is not None:
            merged["count"] += 1
            if "recreated" in data:  # re-created only if every merged edge is
                merged["recreated"] = merged.get("recreated", True) and data["recreated"]
        else:
            edges[pair] = {**data, "count": 1}
    out.add_nodes_from(nodes)
    out.add_edges_from((a, b, data) for (a, b), data in edges.items())
    return out


def cap(graph: nx.DiGraph, max_nodes: int = DEFAULT_MAX_NODES, *,
        copy: bool = True) -> nx.DiGraph:
    """A copy of `graph` with at most `max_nodes` nodes, the nearest to the focus.

    Nearness ignores edge direction. Kept nodes with a dropped neighbour get
    ``truncated=True``; ``graph.graph["truncated"]`` becomes True and
    ``graph.graph["hidden"]`` counts the dropped nodes. ``copy=False`` drops
    the nodes from `graph` itself and returns it (for a graph the caller
    built and owns: dropping a few nodes of 1,000 costs nothing, a copy does).
    """
    if graph.number_of_nodes() <= max_nodes:
        return graph
    focus = graph.graph.get("focus")
    start = focus if focus in graph else next(iter(graph.nodes))
    order, seen, queue = [], {start}, deque([start])
    while queue and len(order) < max_nodes:
        node = queue.popleft()
        order.append(node)
        for neighbor in sorted({*graph.predecessors(node), *graph.successors(node)}):
            if neighbor not in seen:
                seen.add(neighbor)
                queue.append(neighbor)
    kept = set(order)
    hidden = graph.number_of_nodes() - len(kept) + graph.graph.get("hidden", 0)
    border = [node for node in kept
              if any(n not in kept for n in (*graph.predecessors(node), *graph.successors(node)))]
    if copy:
        # Built directly: copying a subgraph view filters every adjacency twice.
        out = graph.__class__()
        out.graph.update(graph.graph)
        out.add_nodes_from((n, dict(d)) for n, d in graph.nodes(data=True) if n in kept)
        out.add_edges_from((u, v, dict(d)) for u, v, d in graph.edges(data=True)
                           if u in kept and v in kept)
    else:
        out = graph
        out.remove_nodes_from([n for n in graph.nodes if n not in kept])
    for node in border:
        out.nodes[node]["truncated"] = True
    out.graph["truncated"] = True
    out.graph["hidden"] = hidden
    return out


# --- grouping ----------------------------------------------------------------------
def _initial_colour(node: str, data: dict[str, Any], keep: frozenset[str] | set[str]) -> tuple:
    if data.get("focus") or node in keep:
        return ("focus", node)
    if data.get("kind") == "run":
        return ("run", data.get("transform_key"), data.get("entrypoint"), data.get("status"),
                data.get("truncated", False))
    return ("artifact", os.path.splitext(data.get("key") or "")[1], data.get("truncated", False))


def _neighbours(graph: nx.DiGraph) -> dict[str, list[tuple[int, str]]]:
    """Each node's (direction and edge kind as one small int, neighbour), read once.

    From networkx's own adjacency dicts: its read-only views wrap every
    lookup, and edge views cost a lookup per edge per round.
    """
    codes: dict[tuple, int] = {}
    pred, succ = graph._pred, graph._succ

    def code(way: str, data: dict[str, Any]) -> int:
        return codes.setdefault((way, _edge_kind(data)), len(codes))

    return {node: [(code("in", d), p) for p, d in pred[node].items()]
            + [(code("out", d), s) for s, d in succ[node].items()]
            for node in graph.nodes}


def _refine(graph: nx.DiGraph, rounds: int, keep: frozenset[str] | set[str],
            neighbours: dict[str, list[tuple[int, str]]] | None = None) -> dict[str, int]:
    """Colour refinement: node -> colour id."""
    palette: dict[Any, int] = {}
    colour = {n: palette.setdefault(_initial_colour(n, d, keep), len(palette))
              for n, d in graph.nodes(data=True)}
    classes = len(set(colour.values()))
    if neighbours is None:
        neighbours = _neighbours(graph)
    for _ in range(rounds):
        palette = {}
        new = {}
        for node, around_node in neighbours.items():
            # The multiset of (direction and edge kind, neighbour colour), as a sorted tuple.
            around = tuple(sorted([(way, colour[other]) for way, other in around_node]))
            new[node] = palette.setdefault((colour[node], around), len(palette))
        colour = new
        if len(palette) == classes:
            break
        classes = len(palette)
    return colour


def _edge_kind(data: dict[str, Any]) -> tuple:
    return (data.get("relation"), bool(data.get("recreated")))


def _groups(graph: nx.DiGraph, threshold: int, rounds: int,
            keep: frozenset[str] | set[str] = frozenset()) -> list[list[str]]:
    """Lists of nodes to merge (each longer than `threshold`).

    Start from the colour classes larger than `threshold`, then split a
    class by what its members hang off (individual nodes, or groups) as long
    as every part stays larger than `threshold`: steps of two flow runs
    become two groups, but the ends of a long chain do not unravel it.
    """
    if graph.number_of_nodes() <= threshold:
        return []
    neighbours = _neighbours(graph)
    by_colour: dict[int, list[str]] = defaultdict(list)
    for node, colour in _refine(graph, rounds, keep, neighbours).items():
        by_colour[colour].append(node)
    groups = [sorted(m) for m in by_colour.values() if len(m) > threshold]
    changed = True
    while changed:
        changed = False
        # A member's label is its group's index, any other node's its id.
        label = {member: index for index, members in enumerate(groups) for member in members}
        next_groups = []
        for members in groups:
            parts: dict[frozenset, list[str]] = defaultdict(list)
            for node in members:
                anchors = frozenset([(way, label.get(other, other))
                                     for way, other in neighbours[node]])
                parts[anchors].append(node)
            if len(parts) > 1 and all(len(p) > threshold for p in parts.values()):
                next_groups.extend(parts.values())
                changed = True
            else:
                next_groups.append(members)
        groups = next_groups
    return groups


def _group_attributes(graph: nx.DiGraph, members: list[str]) -> dict[str, Any]:
    datas = [graph.nodes[m] for m in members]
    first = datas[0]

    def shared(name: str) -> Any:
        values = {d.get(name) for d in datas}
        return values.pop() if len(values) == 1 else None

    attributes: dict[str, Any] = {
        "kind": first["kind"], "collapsed": True, "count": len(members), "members": members,
        "focus": False, "truncated": any(d.get("truncated") for d in datas),
    }
    if first["kind"] == "run":
        starts = [d["started_at"] for d in datas if d.get("started_at") is not None]
        attributes.update(
            transform_key=shared("transform_key"), entrypoint=shared("entrypoint"),
            status=shared("status"), started_at=min(starts, default=None),
            started_last=max(starts, default=None),
        )
    else:
        attributes.update(key=key_pattern([d.get("key") for d in datas]), version=shared("version"))
    return attributes


def key_pattern(keys: list[str | None]) -> str | None:
    """A glob-like summary of keys: ``["s/1.csv", "s/2.csv"] -> "s/*.csv"``."""
    present = [k for k in keys if k]
    if not present:
        return None
    if len(set(present)) == 1:
        return present[0]
    prefix = os.path.commonprefix(present)
    suffix = os.path.commonprefix([k[::-1] for k in present])[::-1]
    room = min(len(k) for k in present) - len(prefix)  # prefix and suffix must not overlap
    if len(suffix) > room:
        suffix = suffix[len(suffix) - room:] if room > 0 else ""
    return f"{prefix}*{suffix}"
