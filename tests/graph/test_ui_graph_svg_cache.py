"""The UI's lineage drawing: Graphviz runs once per distinct drawing, and never serves a stale one."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz (dot)")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_svg_is_laid_out_once_per_drawing_and_redrawn_when_the_lineage_changes(
        lin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import graphviz

    from lineage.ui import graph_view
    from lineage.ui.graph_view import GraphQuery, graph_svg

    monkeypatch.setattr(graph_view, "_SVG_CACHE", type(graph_view._SVG_CACHE)())
    layouts = []
    real_pipe = graphviz.Digraph.pipe

    def counting_pipe(self: Any, *args: Any, **kwargs: Any) -> Any:
        layouts.append(self.source)
        return real_pipe(self, *args, **kwargs)

    monkeypatch.setattr(graphviz.Digraph, "pipe", counting_pipe)
    raw = lin.artifact("raw.csv")
    first = graph_svg(GraphQuery(raw.uid))
    assert graph_svg(GraphQuery(raw.uid)) == first
    assert len(layouts) == 1

    lin.run("clean.py", inputs=(raw,))  # a new downstream run: a new drawing
    second = graph_svg(GraphQuery(raw.uid))
    assert len(layouts) == 2 and second != first and "clean.py" in second
