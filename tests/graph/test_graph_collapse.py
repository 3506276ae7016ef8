"""Collapsing look-alike groups and capping large lineage graphs."""

from __future__ import annotations

import networkx as nx
import pytest

import lineage as ln
from lineage.graph.build import node_id
from lineage.graph.collapse import cap, collapse, key_pattern


def groups(graph):
    """{(kind, count, label)} of the merged nodes."""
    out = set()
    for _, data in graph.nodes(data=True):
        if data.get("collapsed"):
            label = data.get("entrypoint") if data["kind"] == "run" else data.get("key")
            out.add((data["kind"], data["count"], label))
    return out


def fan_out(lin, flow, n, prefix):
    outs = []
    for i in range(n):
        step = lin.run("wf.py", "work", parent=flow)
        outs.append(lin.artifact(f"{prefix}/{i}.csv", step))
    return outs


def test_fan_out_groups_and_edges(lin):
    raw = lin.artifact("raw.csv")
    flow = lin.run("wf.py", "main", inputs=(raw,))
    shards = [lin.artifact(f"shards/{i}.csv", flow) for i in range(12)]
    workers = [lin.run("wf.py", "work", inputs=(s,), parent=flow) for s in shards]
    parts = [lin.artifact(f"parts/{i}.csv", w) for i, w in enumerate(workers)]
    gather = lin.run("wf.py", "gather", inputs=tuple(parts), parent=flow)
    merged = lin.artifact("merged.csv", gather)

    graph = ln.lineage_graph(merged)
    small = collapse(graph, threshold=8)
    assert groups(small) == {("run", 12, "work"), ("artifact", 12, "shards/*.csv"),
                             ("artifact", 12, "parts/*.csv")}
    assert small.number_of_nodes() == 7 and small.graph["collapsed"] == (36, 3)
    assert small.nodes[node_id(merged)]["focus"] is True
    by_label = {d.get("key") or d.get("entrypoint"): n for n, d in small.nodes(data=True)}
    work, shard_group = by_label["work"], by_label["shards/*.csv"]
    part_group = by_label["parts/*.csv"]
    assert small.edges[shard_group, work] == {"relation": "input", "count": 12}
    assert small.edges[work, part_group]["count"] == 12
    assert small.edges[node_id(flow), work]["relation"] == "initiated"
    assert small.nodes[work]["started_at"] < small.nodes[work]["started_last"]
    assert sorted(small.nodes[work]["members"]) == sorted(node_id(w) for w in workers)

    assert collapse(graph, threshold=12).number_of_nodes() == graph.number_of_nodes()
    assert "collapsed" not in collapse(graph, threshold=12).graph


def test_kept_nodes_are_never_merged(lin):
    raw = lin.artifact("raw.csv")
    readers = [lin.run("wf.py", "read", inputs=(raw,)) for _ in range(12)]
    graph = ln.lineage_graph(raw)
    assert groups(collapse(graph, threshold=8)) == {("run", 12, "read")}
    kept = {node_id(r) for r in readers[:3]}
    partly = collapse(graph, threshold=8, keep=kept)
    assert groups(partly) == {("run", 9, "read")} and kept <= set(partly.nodes)
    everything = collapse(graph, threshold=8, keep={node_id(r) for r in readers})
    assert "collapsed" not in everything.graph and set(everything) == set(graph)


def test_different_transforms_or_statuses_are_not_merged(lin):
    raw = lin.artifact("raw.csv")
    for i in range(10):
        lin.run(f"tool_{i}.py", inputs=(raw,))
    for i in range(10):
        lin.run("same.py", inputs=(raw,), status="errored" if i < 3 else "completed")
    merged = collapse(ln.lineage_graph(raw), threshold=5)
    assert groups(merged) == {("run", 7, "main")}


def test_steps_of_two_flows_stay_apart(lin):
    raw = lin.artifact("raw.csv")
    flows = [lin.run("wf.py", "main", inputs=(raw,)) for _ in range(2)]
    for k, flow in enumerate(flows):
        fan_out(lin, flow, 10, f"out{k}")
    merged = collapse(ln.lineage_graph(raw), threshold=5)
    assert groups(merged) == {("run", 10, "work"), ("artifact", 10, "out0/*.csv"),
                              ("artifact", 10, "out1/*.csv")}
    assert merged.number_of_nodes() == 1 + 2 + 4
    for flow in flows:
        steps = [s for s in merged.successors(node_id(flow)) if merged.nodes[s].get("collapsed")]
        assert len(steps) == 1
        (artifacts,) = merged.successors(steps[0])
        assert merged.nodes[artifacts]["count"] == 10


def test_chain_middle_collapses_but_ends_stay(lin):
    previous = lin.artifact("epoch/0.pt")
    for i in range(1, 41):
        previous = lin.artifact(f"epoch/{i}.pt", lin.run("train.py", "epoch", inputs=(previous,)))
    graph = ln.lineage_graph(previous)
    merged = collapse(graph, threshold=8)
    assert merged.number_of_nodes() < 20
    assert merged.nodes[node_id(previous)]["focus"] is True
    (run_group,) = [n for n, d in merged.nodes(data=True)
                    if d.get("collapsed") and d["kind"] == "run"]
    (artifact_group,) = [n for n, d in merged.nodes(data=True)
                         if d.get("collapsed") and d["kind"] == "artifact"]
    assert merged.has_edge(run_group, artifact_group) and merged.has_edge(artifact_group, run_group)
    assert nx.is_weakly_connected(merged)


def test_cap_keeps_nearest_nodes(lin):
    raw = lin.artifact("raw.csv")
    first = lin.run("a.py", inputs=(raw,))
    mid = lin.artifact("mid.csv", first)
    second = lin.run("b.py", inputs=(mid,))
    out = lin.artifact("out.csv", second)
    graph = ln.lineage_graph(out)
    capped = cap(graph, 3)
    assert set(capped.nodes) == {node_id(out), node_id(second), node_id(mid)}
    assert capped.graph["truncated"] is True and capped.graph["hidden"] == 2
    assert capped.nodes[node_id(mid)]["truncated"] is True
    assert graph.graph["truncated"] is False  # the original is untouched
    assert cap(graph, 5) is graph


@pytest.mark.parametrize("keys, pattern", [
    (["s/1.csv", "s/2.csv", "s/10.csv"], "s/*.csv"),
    (["a.csv", "a.csv"], "a.csv"),
    (["x/1", "x/11"], "x/1*"),
    ([None, None], None),
    (["ab", "abb"], "ab*"),
])
def test_key_pattern(keys, pattern):
    assert key_pattern(keys) == pattern
