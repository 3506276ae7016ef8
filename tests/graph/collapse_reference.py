"""The grouping of `lineage.graph.collapse` as first written: the reference to match.

Colour refinement over node ids and (direction, edge kind) pairs, kept
verbatim from before the grouping worked on positions and packed ints
(`test_graph_collapse_reference` compares the two on random graphs).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import networkx as nx

from lineage.graph.collapse import _initial_colour


def reference_groups(graph: nx.DiGraph, threshold: int, rounds: int,
                     keep: frozenset[str] | set[str] = frozenset()) -> list[list[str]]:
    """The groups the first implementation made, in its order."""
    return _groups(graph, threshold, rounds, keep)


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
    """The groups as the first implementation made them, on node names (the oracle)."""
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

