"""`collapse_lists` of `lineage_lists` is `collapse` of `lineage_graph`, order included.

The UI collapses graphs from the fetched lists without building the full
networkx graph; these tests build both ways on real stores (both backends)
and compare graph attributes, nodes with their data and edges with theirs,
in order (the order names the ``group:<n>`` nodes and orders the answers).
"""

from __future__ import annotations

import itertools

import pytest
from graph_helpers import Lineage

from lineage.db.record import current_db
from lineage.graph.build import lineage_graph, lineage_lists
from lineage.graph.collapse import collapse, collapse_lists


def snapshot(graph):
    return dict(graph.graph), list(graph.nodes(data=True)), list(graph.edges(data=True))


def data_edge(lin: Lineage, upstream, run) -> None:
    current_db().write(lambda c: c.execute(
        "INSERT INTO run_upstream (run_id, upstream_run_id, created_at) VALUES (?, ?, ?)",
        [run.id, upstream.id, c.dialect.encode("datetime", lin.clock)]))


@pytest.fixture
def store(lin):
    """A chain with versions, a re-created artifact, flows of steps, data edges, readers."""
    raw = lin.artifact("raw.csv")
    previous, records = raw, [raw]
    for i in range(14):
        run = lin.run("step.py", entrypoint="step", inputs=(previous,),
                      status="errored" if i == 9 else "completed")
        previous = lin.artifact(f"chain/{i}.csv" if i % 5 else "chain/model.pkl", run)
        records += [run, previous]
    lin.recreate(records[6], lin.run("step.py", entrypoint="step"))
    for f in range(2):
        flow = lin.run("flow.py", inputs=(previous,))
        steps = [lin.run("shard.py", entrypoint="part", parent=flow) for _ in range(11)]
        for s, step in enumerate(steps):
            records.append(lin.artifact(f"parts/{f}-{s}.csv", step))
            if s:
                data_edge(lin, steps[s - 1], step)
        data_edge(lin, flow, steps[0])  # both initiated and fed by its flow
        records += [flow, *steps]
    lin.run("report.py", inputs=(records[4], records[8]))  # a reader off the chain
    return records


def test_collapsed_lists_are_the_collapsed_graph(store):
    foci = store[::5] + [store[-1]]
    for focus, (up, down), depth, threshold in itertools.product(
            foci, [(True, False), (False, True), (True, True)], [None, 1, 4], [2, 8]):
        graph = lineage_graph(focus, upstream=up, downstream=down, depth=depth)
        attributes, nodes, edges, _ = lineage_lists(focus, upstream=up, downstream=down,
                                                    depth=depth)
        assert snapshot(graph)[1] == nodes and sorted(graph.edges) == sorted(edges)
        members = sorted(graph.nodes)
        for keep in (frozenset(), frozenset(members[::3])):
            expected = snapshot(collapse(graph, threshold, keep=keep))
            assert snapshot(collapse_lists(attributes, nodes, edges, threshold,
                                           keep=keep)) == expected, (focus.uid, up, down, depth)


def test_the_lists_of_a_deep_chain_collapse_to_a_few_groups(lin):
    previous = lin.artifact("raw.csv")
    for i in range(40):
        previous = lin.artifact(f"long/{i}.csv", lin.run("step.py", inputs=(previous,)))
    attributes, nodes, edges, _ = lineage_lists(previous, downstream=False)
    merged = collapse_lists(attributes, nodes, edges)
    assert snapshot(merged) == snapshot(collapse(lineage_graph(previous, downstream=False)))
    assert merged.graph["collapsed"][1] == 2 and merged.number_of_nodes() < 20
