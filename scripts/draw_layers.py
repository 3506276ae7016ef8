"""Draw docs/layers.svg, the layer diagram of docs/architecture.md, with Graphviz.

The layers come from `LAYERS` in tests/test_layers.py, the definition the
import test enforces, so the picture and the rule cannot drift apart (a test
checks that the SVG names every layer). Run after changing the layers::

    python scripts/draw_layers.py            # writes docs/layers.svg
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import graphviz

REPO = Path(__file__).resolve().parents[1]


def load_layers() -> tuple[list, list]:
    """`LAYERS` and `RECORD_METHODS_CALLING_UP` from tests/test_layers.py."""
    spec = importlib.util.spec_from_file_location("test_layers", REPO / "tests" / "test_layers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LAYERS, module.RECORD_METHODS_CALLING_UP


def diagram(layers: list, calling_up: list) -> graphviz.Digraph:
    """Layers top to bottom; solid arrows: may import; dotted: record methods calling up."""
    dot = graphviz.Digraph("layers", graph_attr={
        "rankdir": "TB", "nodesep": "0.3", "ranksep": "0.25", "fontname": "Helvetica",
        "label": "Each layer may import itself and the layers below it.\n"
                 "The db layer reaches the current instance, run and user through "
                 "lineage.db.provider, installed by lineage/__init__.py.",
        "labelloc": "b", "fontsize": "10",
    }, node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica",
                  "fontsize": "10", "width": "5.2", "fillcolor": "#f4f4f4"},
        edge_attr={"arrowsize": "0.6", "fontname": "Helvetica"})
    for name, what, prefixes in reversed(layers):
        modules = ", ".join(p.removeprefix("lineage.") if p != "lineage" else "lineage/__init__"
                            for p in prefixes)
        dot.node(name, f"<<b>{name}</b>  <font point-size='9'>{modules}</font><br/>"
                       f"<font point-size='9' color='#555555'>{_wrap(what)}</font>>")
    for upper, lower in zip(reversed(layers), list(reversed(layers))[1:]):
        dot.edge(upper[0], lower[0])
    for importer, target in calling_up:
        dot.edge(_layer(layers, importer), _layer(layers, target), style="dotted",
                 constraint="false", color="#888888", fontsize="8", fontcolor="#666666",
                 label=f"{importer.removeprefix('lineage.')} methods")
    return dot


def _layer(layers: list, module: str) -> str:
    matches = [(len(p), name) for name, _, prefixes in layers for p in prefixes
               if module == p or module.startswith(p + ".")]
    return max(matches)[1]


def _wrap(text: str, width: int = 80) -> str:
    lines, line = [], ""
    for word in text.replace("&", "&amp;").replace("<", "&lt;").split():
        if line and len(line) + len(word) >= width:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    return "<br/>".join([*lines, line])


def main() -> int:
    out = REPO / "docs" / "layers.svg"
    svg = diagram(*load_layers()).pipe(format="svg")
    out.write_bytes(svg)
    print(f"wrote {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
