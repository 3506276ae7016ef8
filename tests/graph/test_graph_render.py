"""`view_lineage`: Graphviz output, labels, formats, missing `dot`, large graphs."""

from __future__ import annotations

import html
import re
import shutil

import pytest

import lineage as ln
from lineage.graph.describe import when
from lineage.errors import GraphvizNotInstalled, LineageError, ValidationError
from lineage.graph.render import render, to_dot

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")


@pytest.fixture
def pipeline(lin):
    """raw -> flow(main) -> step(subset) -> subset.csv -> step(train) -> model.pkl (v1, v2)."""
    raw = lin.artifact("raw/sample.fasta")
    flow = lin.run("my_workflow.py", "main", inputs=(raw,))
    subset = lin.run("my_workflow.py", "subset", inputs=(raw,), parent=flow)
    mid = lin.artifact("my_analysis/subset.csv", subset)
    train = lin.run("my_workflow.py", "train", inputs=(mid,), parent=flow, status="errored")
    v1 = lin.artifact("models/model.pkl", train)
    v2 = lin.artifact("models/model.pkl", lin.run("retrain.py", inputs=(mid,)))
    return {"raw": raw, "flow": flow, "subset": subset, "mid": mid, "train": train,
            "v1": v1, "v2": v2}


def svg_texts(svg: str) -> str:
    """The text drawn in an SVG (dot writes ``-`` as ``&#45;``), one line per element."""
    return "\n".join(html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg))


def dot_nodes(source: str) -> dict[str, str]:
    """DOT node name -> its attribute text (edges and ⋯ markers left out)."""
    found = {}
    for line in source.splitlines():
        match = re.match(r"\s*(n\d+) \[(.*)\]$", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


@needs_dot
def test_svg_has_the_labels_shapes_and_focus(pipeline, tmp_path):
    path = pipeline["mid"].view_lineage(tmp_path / "lineage.svg")
    assert path == tmp_path / "lineage.svg"
    svg = path.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    texts = svg_texts(svg)
    for text in ("my_workflow.py", "main", "subset", "train", when(pipeline["flow"].started_at),
                 "raw/sample.fasta", "my_analysis/subset.csv", "models/model.pkl", "v1",
                 "errored", "Dotted arrows: a run initiated another"):
        assert text in texts, text
    assert "retrain.py" in texts  # downstream: the run that also read subset.csv
    assert not (tmp_path / "lineage.dot").exists()


def test_dot_source_visual_language(pipeline):
    graph = ln.lineage_graph(pipeline["mid"])
    source = to_dot(graph).source
    nodes = dot_nodes(source)
    assert len(nodes) == graph.number_of_nodes()
    focus = [attrs for attrs in nodes.values() if "penwidth=3" in attrs]
    assert len(focus) == 1 and "my_analysis/subset.csv" in focus[0] and "shape=note" in focus[0]
    runs = [a for a in nodes.values() if "shape=box" in a]
    assert len(runs) == 4 and all("rounded" in a for a in runs)
    errored = [a for a in runs if "errored" in a]
    assert len(errored) == 1 and "#FBE3E1" in errored[0]
    assert "rankdir=LR" in source
    assert source.count("style=dotted") == 2  # flow -> two steps
    assert "next version" in source


def test_recreated_edges_are_dashed(lin):
    first = lin.run("make.py")
    result = lin.artifact("result.csv", first)
    lin.recreate(result, lin.run("make.py"))
    source = to_dot(ln.lineage_graph(result)).source
    assert source.count('label="re-created"') == 1


@needs_dot
@pytest.mark.parametrize("name, fmt, magic", [
    ("pic.png", None, b"\x89PNG"), ("pic", "pdf", b"%PDF"), ("pic.svg", "svg", b"<?xml"),
    ("pic.gv", None, b"digraph"),
])
def test_formats(pipeline, tmp_path, name, fmt, magic):
    path = pipeline["v1"].view_lineage(tmp_path / name, format=fmt)
    assert path.exists() and path.read_bytes().startswith(magic)
    if fmt == "pdf":
        assert path.name == "pic.pdf"


def test_format_errors(pipeline, tmp_path):
    with pytest.raises(ValidationError, match="format"):
        pipeline["v1"].view_lineage(tmp_path / "pic.svg", format="png")
    with pytest.raises(ValidationError, match="unknown format"):
        pipeline["v1"].view_lineage(tmp_path / "pic", format="jpeg2000")


@needs_dot
def test_default_filename_is_in_the_cache(pipeline):
    path = pipeline["flow"].view_lineage()
    assert path.name == f"lineage-{pipeline['flow'].uid}.svg" and path.exists()
    assert "my_workflow.py" in svg_texts(path.read_text())


def test_missing_dot_explains_and_still_writes_the_source(pipeline, tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None
    with pytest.raises(GraphvizNotInstalled) as caught:
        pipeline["mid"].view_lineage(tmp_path / "out" / "lineage.svg")
    message = str(caught.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz",
                 str(tmp_path / "out" / "lineage.dot")):
        assert hint in message
    assert isinstance(caught.value, LineageError) and isinstance(caught.value, RuntimeError)
    source = (tmp_path / "out" / "lineage.dot").read_text()
    assert source.startswith("digraph lineage") and "my_analysis/subset.csv" in source
    assert not (tmp_path / "out" / "lineage.svg").exists()
    # the DOT format itself needs no Graphviz program
    path = pipeline["mid"].view_lineage(tmp_path / "only.dot")
    assert path.read_text().startswith("digraph lineage")


@needs_dot
def test_large_fan_out_is_collapsed(lin, tmp_path):
    raw = lin.artifact("raw.csv")
    flow = lin.run("wf.py", "main", inputs=(raw,))
    scatter = lin.run("wf.py", "scatter", inputs=(raw,), parent=flow)
    parts = []
    for i in range(60):
        shard = lin.artifact(f"shards/{i}.csv", scatter)
        worker = lin.run("wf.py", "work", inputs=(shard,), parent=flow)
        parts.append(lin.artifact(f"parts/{i}.parquet", worker))
    merged = lin.artifact("merged.parquet", lin.run("wf.py", "gather", inputs=tuple(parts),
                                                    parent=flow))
    assert ln.lineage_graph(merged).number_of_nodes() == 185
    path = merged.view_lineage(tmp_path / "big.svg")
    texts = svg_texts(path.read_text())
    assert "×60 runs" in texts and "×60 artifacts" in texts
    assert "shards/*.csv" in texts and "parts/*.parquet" in texts
    assert "180 look-alike runs and artifacts drawn as 3 ×N groups" in texts
    source = merged.view_lineage(tmp_path / "big.dot").read_text()
    assert len(dot_nodes(source)) == 8
    full = merged.view_lineage(tmp_path / "full.dot", collapse=False).read_text()
    assert len(dot_nodes(full)) == 185


@needs_dot
def test_long_chain_of_one_step_is_collapsed(lin, tmp_path):
    previous = lin.artifact("epoch/0.pt")
    for i in range(1, 120):
        previous = lin.artifact(f"epoch/{i}.pt", lin.run("train.py", "epoch", inputs=(previous,)))
    source = previous.view_lineage(tmp_path / "chain.dot").read_text()
    assert len(dot_nodes(source)) < 20
    assert re.search(r"×1\d\d runs", source)
    assert previous.view_lineage(tmp_path / "chain.svg").exists()


def test_node_budget_caps_what_is_drawn(lin, tmp_path):
    raw = lin.artifact("raw.csv")
    for i in range(40):  # 40 different transforms: nothing looks alike
        lin.artifact(f"out/{i}.csv", lin.run(f"tool_{i}.py", inputs=(raw,)))
    path = raw.view_lineage(tmp_path / "capped.dot", max_nodes=21)
    source = path.read_text()
    assert len(dot_nodes(source)) == 21
    assert "60 more nodes not drawn" in source


def test_depth_note_and_markers(pipeline, tmp_path):
    source = pipeline["v1"].view_lineage(tmp_path / "shallow.dot", depth=1).read_text()
    assert "Lineage continues beyond depth 1" in source
    assert "⋯" in source


def test_render_rejects_unknown_format(pipeline, tmp_path):
    with pytest.raises(ValidationError):
        render(ln.lineage_graph(pipeline["v1"]), tmp_path / "x.bmp", "bmp")


@needs_dot
def test_display_inline_in_jupyter(pipeline, tmp_path, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    pipeline["v1"].view_lineage(tmp_path / "inline.svg", display=True)
    pipeline["v1"].view_lineage(tmp_path / "inline.png", display=True)
    assert [type(s).__name__ for s in shown] == ["SVG", "Image"]
    pipeline["v1"].view_lineage(tmp_path / "quiet.svg")  # not a notebook: nothing shown
    assert len(shown) == 2


def test_data_edges_between_runs_are_dashed_and_explained(lin):
    from lineage import lifecycle

    first = lin.run("wf.py", "extract")
    second = lin.run("wf.py", "transform")
    lifecycle.record_upstream(second, first)
    dot = to_dot(ln.lineage_graph(second))
    assert dot.source.count('label=data') + dot.source.count('label="data"') == 1
    assert "style=dashed" in dot.source
    assert "received a value another run returned" in dot.source


def test_to_dot_takes_extra_node_attributes(pipeline):
    graph = ln.lineage_graph(pipeline["mid"], depth=1)
    source = to_dot(graph, node_attributes=lambda node, data: {"id": f"node-{node}",
                                                               "URL": f"/x/{data['uid']}"}).source
    for record in (pipeline["mid"], pipeline["subset"]):
        kind = "artifact" if record is pipeline["mid"] else "run"
        assert f'id="node-{kind}:{record.uid}"' in source and f"URL=\"/x/{record.uid}\"" in source
    assert f'id="node-run:{pipeline["subset"].uid}-more"' in source  # its ⋯ marker
    assert "id=" not in to_dot(graph).source
