"""The grouping of `collapse` matches its first implementation (`collapse_reference`) exactly.

Same groups, same members, same order (the order names the ``group:<n>``
nodes), on random lineage-shaped graphs: long chains with irregular
steps, fan-outs under flows, random DAGs with every edge relation, a
focus, kept nodes, and every threshold and number of rounds.
"""

from __future__ import annotations

import random

import networkx as nx
import pytest
from collapse_reference import reference_groups

from lineage.graph.collapse import _groups, collapse

RELATIONS = ("input", "output", "initiated", "data", "version")


def run_data(rng: random.Random) -> dict:
    return {"kind": "run", "transform_key": rng.choice(["a.py", "b.py"]),
            "entrypoint": rng.choice(["main", "step"]),
            "status": rng.choices(["completed", "errored"], [9, 1])[0],
            "truncated": rng.random() < 0.05, "focus": False}


def artifact_data(rng: random.Random, index: int) -> dict:
    return {"kind": "artifact", "key": rng.choice([f"k/{index}.csv", f"k/{index}.pkl", None]),
            "truncated": rng.random() < 0.05, "focus": False}


def chain(rng: random.Random, steps: int) -> nx.DiGraph:
    """A chain of runs and artifacts, some steps different, sometimes a second input."""
    graph = nx.DiGraph()
    previous = "artifact:0"
    graph.add_node(previous, **artifact_data(rng, 0))
    for i in range(1, steps + 1):
        data = run_data(rng) if rng.random() < 0.2 else {
            "kind": "run", "transform_key": "a.py", "entrypoint": "step", "status": "completed",
            "truncated": False, "focus": False}
        graph.add_node(f"run:{i}", **data)
        graph.add_edge(previous, f"run:{i}", relation="input")
        previous = f"artifact:{i}"
        graph.add_node(previous, kind="artifact", key=f"long/{i}", truncated=False, focus=False)
        graph.add_edge(f"run:{i}", previous, relation="output", recreated=rng.random() < 0.05)
        if rng.random() < 0.05 and i > 2:
            graph.add_edge(f"artifact:{rng.randrange(i - 1)}", f"run:{i}", relation="input")
    return graph


def flows(rng: random.Random, count: int) -> nx.DiGraph:
    """Flows that each start a fan of steps reading shards and writing parts."""
    graph = nx.DiGraph()
    for f in range(count):
        flow = f"run:flow{f}"
        graph.add_node(flow, **run_data(rng))
        for s in range(rng.randrange(1, 25)):
            step, shard, part = f"run:{f}.{s}", f"artifact:s{f}.{s}", f"artifact:p{f}.{s}"
            graph.add_node(step, **run_data(rng))
            graph.add_node(shard, kind="artifact", key=f"shards/{s}.csv", truncated=False,
                           focus=False)
            graph.add_node(part, **artifact_data(rng, s))
            graph.add_edge(flow, step, relation="initiated")
            graph.add_edge(shard, step, relation="input")
            graph.add_edge(step, part, relation="output", recreated=False)
            if s and rng.random() < 0.3:
                graph.add_edge(f"run:{f}.{s - 1}", step, relation="data")
    return graph


def random_dag(rng: random.Random, size: int) -> nx.DiGraph:
    graph = nx.DiGraph()
    names = []
    for i in range(size):
        kind = rng.choice(["run", "artifact"])
        names.append(f"{kind}:{i:03d}")
        graph.add_node(names[-1], **(run_data(rng) if kind == "run" else artifact_data(rng, i % 3)))
    for _ in range(rng.randrange(size, 3 * size)):
        a, b = sorted(rng.sample(range(size), 2))
        graph.add_edge(names[a], names[b], relation=rng.choice(RELATIONS),
                       **({"recreated": True} if rng.random() < 0.1 else {}))
    return graph


def graphs() -> list[tuple[str, nx.DiGraph, frozenset[str]]]:
    rng = random.Random(15)
    out = []
    for i in range(60):
        graph = [chain(rng, rng.randrange(5, 120)), flows(rng, rng.randrange(1, 6)),
                 random_dag(rng, rng.randrange(2, 80))][i % 3]
        nodes = sorted(graph.nodes)
        focus = rng.choice(nodes)
        graph.nodes[focus]["focus"] = True
        graph.graph["focus"] = focus
        keep = frozenset(rng.sample(nodes, min(len(nodes), rng.choice([0, 0, 1, 12]))))
        out.append((f"{['chain', 'flows', 'dag'][i % 3]}-{i}", graph, keep))
    return out


@pytest.mark.parametrize(("name", "graph", "keep"), graphs(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_groups_match_the_reference(name, graph, keep):
    for threshold in (1, 2, 3, 8):
        for rounds in (0, 1, 2, 3, 5):
            assert _groups(graph, threshold, rounds, keep) == \
                reference_groups(graph, threshold, rounds, keep), (name, threshold, rounds)


def test_a_long_chain_collapses_as_the_reference_does():
    graph = chain(random.Random(1), 1000)
    graph.nodes["artifact:1000"]["focus"] = True
    expected = reference_groups(graph, 8, 3)
    assert _groups(graph, 8, 3) == expected
    merged = collapse(graph, 8)
    assert [merged.nodes[f"group:{i}"]["members"] for i in range(len(expected))] == expected
