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
    edges = {(source, target): data for source, target, data in graph.edges(data=True)}
    return collapse_lists(graph.graph, list(graph.nodes(data=True)), edges, threshold, rounds,
                          keep, graph_type=type(graph))


def collapse_lists(attributes: dict[str, Any], nodes: list[tuple[str, dict[str, Any]]],
                   edges: dict[tuple[str, str], dict[str, Any]],
                   threshold: int = DEFAULT_THRESHOLD, rounds: int = ROUNDS,
                   keep: frozenset[str] | set[str] = frozenset(), *,
                   graph_type: type[nx.DiGraph] | None = None) -> nx.DiGraph:
    """`collapse` of the graph of these attributes, nodes and edges, without building it.

    For a caller that has the graph as lists (`lineage.graph.build.lineage_lists`):
    a 2,000-node chain collapses to a dozen nodes, and only those become a
    networkx graph. `nodes` are ``(node id, data)`` in graph order; `edges`
    map ``(source, target)`` to data, in any order that keeps each source's
    edges in the order they were added (as networkx keeps them). The result
    is what `collapse` makes of that graph, node and edge order included.
    """
    import networkx as nx

    names = [node for node, _ in nodes]
    datas = [data for _, data in nodes]
    position = {node: i for i, node in enumerate(names)}
    pairs = _edge_order(edges, position)
    groups = _groups_of(names, datas, _neighbours(position, pairs), threshold, rounds, keep)
    owner: dict[str, str] = {}
    for index, members in enumerate(groups):
        for member in members:
            owner[member] = f"group:{index}"
    out = (graph_type or nx.DiGraph)()
    out.graph.update(attributes)
    if groups:
        out.graph["collapsed"] = (sum(len(m) for m in groups), len(groups))
    # Nodes and edges gathered first and added in one call each: networkx
    # checks and clears its caches per call, not per node.
    data_of = dict(nodes)
    kept = [(node, {**data, "collapsed": False}) for node, data in nodes if node not in owner]
    kept.extend((f"group:{index}", _group_attributes([data_of[m] for m in members], members))
                for index, members in enumerate(groups))
    merged_edges: dict[tuple[str, str], dict[str, Any]] = {}
    for (source, target), data in pairs:
        pair = (owner.get(source, source), owner.get(target, target))
        merged = merged_edges.get(pair)
        if merged is not None:
            merged["count"] += 1
            if "recreated" in data:  # re-created only if every merged edge is
                merged["recreated"] = merged.get("recreated", True) and data["recreated"]
        else:
            merged_edges[pair] = {**data, "count": 1}
    out.add_nodes_from(kept)
    out.add_edges_from((a, b, data) for (a, b), data in merged_edges.items())
    return out


def _edge_order(edges: dict[tuple[str, str], dict[str, Any]],
                position: dict[str, int]) -> list[tuple[tuple[str, str], dict[str, Any]]]:
    """The edges in networkx's order: by source in node order, each source's as added."""
    return sorted(edges.items(), key=lambda item: position[item[0][0]])


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


def _neighbours(position: dict[str, int],
                pairs: list[tuple[tuple[str, str], dict[str, Any]]],
                ) -> tuple[list[list[tuple[int, int]]], int]:
    """Per node (in `position`'s order), its (way, neighbour's position); how many ways.

    A way is the direction and edge kind as one small int (the numbering
    depends on the edge order; the classes it gives do not).
    """
    codes: dict[tuple, int] = {}
    around: list[list[tuple[int, int]]] = [[] for _ in position]
    for (source, target), data in pairs:
        relation, recreated = data.get("relation"), bool(data.get("recreated"))
        upward = codes.get((0, relation, recreated))
        if upward is None:
            upward = codes[(0, relation, recreated)] = len(codes)
        downward = codes.get((1, relation, recreated))
        if downward is None:
            downward = codes[(1, relation, recreated)] = len(codes)
        s, t = position[source], position[target]
        around[t].append((upward, s))
        around[s].append((downward, t))
    return around, max(len(codes), 1)


def _refine(names: list[str], datas: list[dict[str, Any]], rounds: int,
            keep: frozenset[str] | set[str],
            neighbours: tuple[list[list[tuple[int, int]]], int]) -> list[int]:
    """Colour refinement: the colour id of each node, in graph order.

    A neighbour's (way, colour) is the one int ``colour * ways + way``, and
    the multiset of them a sorted tuple: the same classes as sorted pairs,
    with fewer objects made.
    """
    around, ways = neighbours
    palette: dict[Any, int] = {}
    colour = [palette.setdefault(_initial_colour(n, d, keep), len(palette))
              for n, d in zip(names, datas, strict=True)]
    classes = len(palette)
    for _ in range(rounds):
        palette = {}
        new = []
        for node, pairs in enumerate(around):
            if len(pairs) == 2:  # most nodes of a chain: no list, no sort
                (w1, o1), (w2, o2) = pairs
                first, second = colour[o1] * ways + w1, colour[o2] * ways + w2
                key: Any = ((colour[node], first, second) if first <= second
                            else (colour[node], second, first))
            elif len(pairs) == 1:
                way, other = pairs[0]
                key = (colour[node], colour[other] * ways + way)
            else:
                key = (colour[node], *sorted([colour[o] * ways + w for w, o in pairs]))
            new.append(palette.setdefault(key, len(palette)))
        colour = new
        if len(palette) == classes:
            break
        classes = len(palette)
    return colour


def _groups(graph: nx.DiGraph, threshold: int, rounds: int,
            keep: frozenset[str] | set[str] = frozenset()) -> list[list[str]]:
    """`_groups_of` a networkx graph."""
    names = list(graph._node)
    position = {node: i for i, node in enumerate(names)}
    pairs = [((source, target), data) for source, target, data in graph.edges(data=True)]
    return _groups_of(names, list(graph._node.values()), _neighbours(position, pairs),
                      threshold, rounds, keep)


def _groups_of(names: list[str], datas: list[dict[str, Any]],
               neighbours: tuple[list[list[tuple[int, int]]], int], threshold: int,
               rounds: int, keep: frozenset[str] | set[str] = frozenset()) -> list[list[str]]:
    """Lists of nodes to merge (each longer than `threshold`).

    Start from the colour classes larger than `threshold`, then split a
    class by what its members hang off (individual nodes, or groups) as long
    as every part stays larger than `threshold`: steps of two flow runs
    become two groups, but the ends of a long chain do not unravel it.
    Groups come in the order of their first node in the graph, members
    sorted by id; parts of a split in the order of their first member.
    """
    if len(names) <= threshold:
        return []
    around, ways = neighbours
    by_colour: dict[int, list[int]] = defaultdict(list)
    for node, colour in enumerate(_refine(names, datas, rounds, keep, neighbours)):
        by_colour[colour].append(node)
    groups = [sorted(m, key=names.__getitem__) for m in by_colour.values() if len(m) > threshold]
    count = len(names)
    changed = True
    while changed:
        changed = False
        # A member's label is its group's index, any other node's its own (after the groups').
        label = [count + node for node in range(count)]
        for index, members in enumerate(groups):
            for member in members:
                label[member] = index
        next_groups = []
        for members in groups:
            parts: dict[frozenset, list[int]] = defaultdict(list)
            for node in members:
                parts[frozenset([label[o] * ways + w for w, o in around[node]])].append(node)
            if len(parts) > 1 and all(len(p) > threshold for p in parts.values()):
                next_groups.extend(parts.values())
                changed = True
            else:
                next_groups.append(members)
        groups = next_groups
    return [[names[node] for node in members] for members in groups]


def _group_attributes(datas: list[dict[str, Any]], members: list[str]) -> dict[str, Any]:
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
