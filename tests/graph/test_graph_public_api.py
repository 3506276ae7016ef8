"""Lineage graphs of pipelines written with the public API (`@ln.flow`, `@ln.step`, artifacts)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from graph_helpers import edges, nodes

import lineage as ln
from lineage.graph.build import node_id

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@ln.step()
def make(folder: str, text: str) -> ln.Artifact:
    """Write the raw file."""
    path = Path(folder) / "raw.txt"
    path.write_text(text)
    return ln.Artifact(path, key="diamond/raw.txt").save()


@ln.step()
def side(raw: ln.Artifact, folder: str, which: str) -> ln.Artifact:
    """One branch of the diamond: upper or lower case."""
    text = Path(raw.cache()).read_text()
    path = Path(folder) / f"{which}.txt"
    path.write_text(text.upper() if which == "upper" else text.lower())
    return ln.Artifact(path, key=f"diamond/{which}.txt").save()


@ln.step()
def combine(first: ln.Artifact, second: ln.Artifact, folder: str) -> ln.Artifact:
    """Join both branches."""
    path = Path(folder) / "both.txt"
    path.write_text(Path(first.cache()).read_text() + Path(second.cache()).read_text())
    return ln.Artifact(path, key="diamond/both.txt").save()


@ln.flow()
def diamond(folder: str, text: str = "Hello") -> ln.Artifact:
    """raw -> (upper, lower) -> both."""
    raw = make(folder, text)
    return combine(side(raw, folder, "upper"), side(raw, folder, "lower"), folder)


def by_entrypoint(graph):
    """entrypoint -> sorted run node ids."""
    found: dict[str, list[str]] = {}
    for node, data in graph.nodes(data=True):
        if data["kind"] == "run":
            found.setdefault(data["entrypoint"].rsplit(".", 1)[-1], []).append(node)
    return {k: sorted(v) for k, v in found.items()}


def test_diamond_flow_graph(instance, tmp_path):
    both = diamond(str(tmp_path))
    raw = ln.Artifact.get(key="diamond/raw.txt")
    upper = ln.Artifact.get(key="diamond/upper.txt")
    lower = ln.Artifact.get(key="diamond/lower.txt")
    flow_run = both.run.initiated_by_run
    steps = ln.Run.filter(initiated_by_run_id=flow_run.id)
    runs = {r.entrypoint.rsplit(".", 1)[-1]: r for r in steps
            if r.entrypoint.endswith(("make", "combine"))}
    up_run, low_run = upper.run, lower.run

    g = ln.lineage_graph(both, downstream=False)
    assert set(g.nodes) == nodes(flow_run, runs["make"], up_run, low_run, runs["combine"],
                                 raw, upper, lower, both)
    N = node_id
    expected = {
        (N(flow_run), N(runs["make"]), "initiated"), (N(flow_run), N(runs["combine"]), "initiated"),
        (N(runs["make"]), N(raw), "output"), (N(runs["combine"]), N(both), "output"),
        (N(raw), N(up_run), "input"), (N(raw), N(low_run), "input"),
        (N(up_run), N(upper), "output"), (N(low_run), N(lower), "output"),
        (N(upper), N(runs["combine"]), "input"), (N(lower), N(runs["combine"]), "input"),
        (N(flow_run), N(up_run), "initiated"), (N(flow_run), N(low_run), "initiated"),
    }
    assert edges(g) == expected
    assert g.nodes[N(flow_run)]["transform_key"] == "test_graph_public_api.py"

    down = ln.lineage_graph(upper, upstream=False)
    assert set(down.nodes) == nodes(upper, runs["combine"], both)


def test_rerun_recreates_and_the_graph_shows_both_runs(instance, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = diamond(str(tmp_path / "a"))
    second = diamond(str(tmp_path / "b"))  # same content: every artifact is re-created
    assert second == first
    both = ln.Artifact.get(key="diamond/both.txt")
    assert both.previous_runs.count() == 1
    g = ln.lineage_graph(both, downstream=False)
    runs = by_entrypoint(g)
    counts = {k: len(v) for k, v in runs.items()}
    assert counts == {"diamond": 2, "make": 2, "side": 4, "combine": 2}
    assert sum(d["kind"] == "artifact" for _, d in g.nodes(data=True)) == 4
    recreated = [(a, b) for a, b, d in g.edges(data=True) if d.get("recreated")]
    assert len(recreated) == 4  # each artifact: the earlier creating run
    assert ln.lineage_graph(both, downstream=False, depth=1).number_of_nodes() == 3


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
def test_view_lineage_of_a_tracked_artifact(instance, tmp_path):
    both = diamond(str(tmp_path))
    svg = both.view_lineage(tmp_path / "diamond.svg").read_text()
    for label in ("test_graph_public_api.py", "diamond/both.txt", "diamond/raw.txt", "v1"):
        assert label in svg
