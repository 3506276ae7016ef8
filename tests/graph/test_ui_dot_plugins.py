"""UI drawings with the small Graphviz plugin folder: fast, and still clickable drawings."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import networkx as nx
import pytest

from lineage.graph.render import dot_source
from lineage.ui import dot_plugins, drawings
from lineage.ui.graph_view import _svg_attributes

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz (dot)")


def chain(steps: int) -> nx.DiGraph:
    """A lineage-shaped chain: artifact -> run -> artifact ... with UI node data."""
    graph = nx.DiGraph(focus=f"artifact:a{steps}")
    for i in range(steps + 1):
        graph.add_node(f"artifact:a{i}", kind="artifact", uid=f"a{i}", key=f"long/{i}",
                       version=1, is_latest=True, focus=i == steps, truncated=False)
    for i in range(1, steps + 1):
        graph.add_node(f"run:r{i}", kind="run", uid=f"r{i}", transform_key="step.py",
                       entrypoint="step", status="completed", focus=False, truncated=False)
        graph.add_edge(f"artifact:a{i - 1}", f"run:r{i}", relation="input")
        graph.add_edge(f"run:r{i}", f"artifact:a{i}", relation="output", recreated=False)
    return graph


@needs_dot
def test_the_folder_holds_only_the_core_and_dot_layout_plugins():
    env = dot_plugins.environment()
    assert env is not None  # Debian's graphviz names its libdir and plugin files
    names = os.listdir(env["GVBINDIR"])
    assert names and all(n.startswith(dot_plugins.PLUGINS) or n.startswith("config")
                         for n in names)
    assert any(n.startswith("config") for n in names)  # written by `dot -c`
    assert dot_plugins.environment() == env  # made once per process


@needs_dot
def test_a_drawing_keeps_every_node_link_and_id():
    svg = drawings.layout(dot_source(chain(30), node_attributes=_svg_attributes))
    assert svg.rstrip().endswith("</svg>")
    for i in range(1, 31):
        assert f'<g id="node&#45;run:r{i}" class="node run">' in svg
        assert f'<a xlink:href="/runs/r{i}" xlink:title="run:r{i}" target="_top">' in svg
    assert '<g id="node&#45;artifact:a30" class="node focus">' in svg
    assert 'xlink:href="/artifacts/a0"' in svg
    assert svg.count("<g id=\"edge") == 60


@needs_dot
def test_the_small_folder_draws_the_same_layout_as_the_full_installation():
    """Same nodes in the same places: only label widths may differ (built-in metrics)."""
    source = dot_source(chain(12))
    full = subprocess.run(["dot", "-Tplain"], input=source.encode(), capture_output=True,
                          check=True).stdout.decode()
    small = subprocess.run(["dot", "-Tplain"], input=source.encode(), capture_output=True,
                           check=True, env=dot_plugins.environment()).stdout.decode()

    def order(plain: str) -> list[str]:  # nodes from left to right, and their rows
        rows = [line.split() for line in plain.splitlines() if line.startswith("node ")]
        return [name for name, _ in sorted(((r[1], float(r[2])) for r in rows),
                                           key=lambda item: item[1])]

    assert order(small) == order(full)
    edges = sorted(line.split()[1:3] for line in small.splitlines() if line.startswith("edge "))
    assert edges == sorted(line.split()[1:3] for line in full.splitlines()
                           if line.startswith("edge "))


def test_the_dot_source_asks_for_the_linear_time_ranking():
    assert "newrank=true" in dot_source(chain(2)).splitlines()[1]


@pytest.mark.parametrize(("text", "found"), [
    ('dot - graphviz version 2.43.0 (0)\nlibdir = "{dir}"\nActivated plugin', True),
    ('libdir = "/no/such/graphviz/folder"\n', False),
    ("dot - graphviz version 9\nno folder named\n", False),
])
def test_libdir_is_read_from_dot_verbose_output(tmp_path: Path, text: str, found: bool):
    libdir = dot_plugins.libdir_of(text.replace("{dir}", str(tmp_path)))
    assert libdir == (tmp_path if found else None)


def test_large_drawings_draw_runs_with_square_corners():
    from lineage.graph.render import SQUARE_RUNS_ABOVE

    def run_lines(graph: nx.DiGraph) -> list[str]:
        return [line for line in dot_source(graph).splitlines() if "shape=box" in line]

    small = chain(SQUARE_RUNS_ABOVE // 2 - 1)  # at most SQUARE_RUNS_ABOVE nodes
    assert small.number_of_nodes() <= SQUARE_RUNS_ABOVE
    assert run_lines(small) and all('style="rounded,filled"' in line for line in run_lines(small))
    large = chain(SQUARE_RUNS_ABOVE // 2 + 1)
    large.nodes["run:r1"]["status"] = "started"
    lines = run_lines(large)
    assert len(lines) == SQUARE_RUNS_ABOVE // 2 + 1 and not any("rounded" in line for line in lines)
    assert sum('style="filled,dashed"' in line for line in lines) == 1  # still dashed while running
