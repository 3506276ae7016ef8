"""Draw lineage graphs with Graphviz (the `graphviz` package and the `dot` program).

Visual language (left to right, the way data flowed):

* runs: rounded boxes (blue; red when errored, dashed border while still
  running) labelled with transform key, entrypoint and start time; in
  drawings of more than `SQUARE_RUNS_ABOVE` nodes the corners are square
  (Graphviz draws each rounded corner as curves: a sixth of ``dot``'s time
  on a 1,000-node drawing);
* artifacts: note shapes (yellow) labelled with key and version;
* the focus record: thick orange border;
* merged groups (see `lineage.graph.collapse`): 3-D boxes for runs, doubled
  notes for artifacts, labelled ``×N``;
* edges: solid for inputs and outputs, dashed "re-created" for earlier
  creators of the same content, dotted from a flow to the steps it
  initiated (explained under the drawing), dashed green "data" from an
  engine task to the task that received its return value (no artifact),
  dashed grey "next version" between versions of a key;
* ``⋯`` next to a node: more lineage exists beyond the depth limit or the
  node budget (a note under the drawing says which).
"""

from __future__ import annotations

import html
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lineage.errors import GraphvizNotInstalled, ValidationError

if TYPE_CHECKING:
    import graphviz
    import networkx as nx

    from lineage.db.record import Record

__all__ = ["dot_source", "output_target", "render", "simplify", "to_dot", "view_lineage"]

#: Output formats `render` accepts (``dot`` needs no Graphviz program).
FORMATS = ("svg", "png", "pdf", "dot")
FONT = "Helvetica"
INSTALL_HINT = (
    "Install Graphviz so the `dot` program is on PATH: `apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install graphviz`."
)

_RUN = {"shape": "box", "style": "rounded,filled", "fillcolor": "#E7EEFB", "color": "#4A6FA5"}
#: Drawings with more nodes than this draw runs as square-cornered boxes.
SQUARE_RUNS_ABOVE = 300
_RUN_ERRORED = {"fillcolor": "#FBE3E1", "color": "#B03A2E"}
_ARTIFACT = {"shape": "note", "style": "filled", "fillcolor": "#FFF5D6", "color": "#A57F1C"}
_FOCUS = {"color": "#D9480F", "penwidth": "3"}
_EDGES = {
    "input": {"color": "#5F6B7A"},
    "output": {"color": "#2F4F7F"},
    "recreated": {"color": "#2F4F7F", "style": "dashed", "label": "re-created"},
    "initiated": {"color": "#7A869A", "style": "dotted", "arrowhead": "empty"},
    "data": {"color": "#2E7D4F", "style": "dashed", "label": "data"},
    "version": {"color": "#A0A0A0", "style": "dashed", "label": "next version"},
}


def view_lineage(record: Record | str, filename: str | os.PathLike[str] | None = None,
                 format: str | None = None, *, upstream: bool = True,  # noqa: A002
                 downstream: bool = True, depth: int | None = None, collapse: bool = True,
                 threshold: int | None = None, max_nodes: int | None = None,
                 display: bool | None = None) -> Path:
    """Draw the lineage of a run or artifact and write it to a file.

    Args:
        record: A saved `Run` or `Artifact` (or a key/uid naming one).
        filename: Where to write. Without a suffix, ``.<format>`` is added.
            None: ``lineage-<uid>.<format>`` in the instance's cache folder.
        format: ``svg``, ``png``, ``pdf`` or ``dot`` (the Graphviz source,
            no Graphviz program needed). None: taken from the filename's
            suffix, else ``svg``.
        upstream: Include what the record was derived from.
        downstream: Include what was derived from the record.
        depth: Follow at most this many edges (None: all).
        collapse: Merge large groups of look-alike runs and artifacts.
        threshold: Merge groups larger than this
            (default `lineage.graph.collapse.DEFAULT_THRESHOLD`).
        max_nodes: Draw at most this many nodes, the nearest to the record
            (default `lineage.graph.collapse.DEFAULT_MAX_NODES`).
        display: Show the picture inline (None: when running in Jupyter).

    Returns:
        The path written.

    Raises:
        GraphvizNotInstalled: The `dot` program is missing; the ``.dot``
            source was written next to the requested file and the message
            says where and how to install Graphviz.
        ValidationError: Unknown format, or a filename suffix that
            contradicts `format`.
    """
    from lineage.graph.build import lineage_graph

    graph = lineage_graph(record, upstream=upstream, downstream=downstream, depth=depth)
    fmt, path = output_target(graph, filename, format)
    if collapse:
        graph = simplify(graph, threshold, max_nodes)
    written = render(graph, path, fmt)
    if display if display is not None else _in_notebook():
        _display(written, fmt)
    return written


def simplify(graph: nx.DiGraph, threshold: int | None = None,
             max_nodes: int | None = None) -> nx.DiGraph:
    """`graph` with large look-alike groups merged and at most `max_nodes` nodes."""
    from lineage.graph.collapse import DEFAULT_MAX_NODES, DEFAULT_THRESHOLD, cap, collapse

    merged = collapse(graph, DEFAULT_THRESHOLD if threshold is None else threshold)
    return cap(merged, DEFAULT_MAX_NODES if max_nodes is None else max_nodes)


def render(graph: nx.DiGraph, path: str | os.PathLike[str], format: str = "svg") -> Path:  # noqa: A002
    """Write `graph` drawn by Graphviz to `path` (no collapsing here; see `simplify`).

    Raises:
        GraphvizNotInstalled: `format` is not ``dot`` and the `dot` program
            is missing; the DOT source is written to ``<path stem>.dot``.
    """
    if format not in FORMATS:
        raise ValidationError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    source = to_dot(graph)
    if format == "dot":
        _write(path, source.source.encode("utf-8"))
        return path
    dot_path = path.with_suffix(".dot")
    if shutil.which("dot") is None:
        _write(dot_path, source.source.encode("utf-8"))
        raise GraphvizNotInstalled(f"cannot draw {path.name}: {INSTALL_HINT} The DOT source was "
                                   f"written to {dot_path}; render it later with "
                                   f"`dot -T{format} {dot_path} -o {path}`.")
    import graphviz

    try:
        data = source.pipe(format=format)
    except graphviz.ExecutableNotFound as exc:  # removed between the check and the call
        _write(dot_path, source.source.encode("utf-8"))
        raise GraphvizNotInstalled(f"cannot draw {path.name}: {INSTALL_HINT} The DOT source was "
                                   f"written to {dot_path}.") from exc
    _write(path, data)
    return path


def to_dot(graph: nx.DiGraph, node_attributes: Callable[[str, dict[str, Any]], dict[str, str]]
           | None = None) -> graphviz.Source:
    """The Graphviz drawing of a lineage graph (collapsed or not).

    Args:
        graph: A lineage graph, collapsed or not.
        node_attributes: Extra Graphviz attributes of a node (such as ``id``,
            ``URL``, ``class`` for SVG), given the node id and its data. The
            ``⋯`` marker of a truncated node gets the id ``<id>-more``.

    Returns:
        A ``graphviz.Source`` of `dot_source` (``.source`` is the text,
        ``.pipe()`` draws it).
    """
    import graphviz

    return graphviz.Source(dot_source(graph, node_attributes))


def dot_source(graph: nx.DiGraph, node_attributes: Callable[[str, dict[str, Any]], dict[str, str]]
               | None = None) -> str:
    """The DOT text of `to_dot`, written in one pass (see `lineage.graph.dot`)."""
    from lineage.graph.dot import DotWriter

    dot = DotWriter(
        "lineage",
        # newrank: the same ranks for lineage graphs (no clusters), in linear time; the
        # classic ranking of Graphviz 2.4x is quadratic (1,000-step chain: 40 of dot's 110 ms).
        graph_attr={"rankdir": "LR", "fontname": FONT, "fontsize": "10", "nodesep": "0.25",
                    "ranksep": "0.45", "labelloc": "b", "labeljust": "l", "newrank": "true"},
        node_attr={"fontname": FONT, "fontsize": "10", "margin": "0.12,0.06"},
        edge_attr={"fontname": FONT, "fontsize": "8", "arrowsize": "0.7", "fontcolor": "#666666"},
    )
    order = sorted(graph.nodes)
    names = {node: f"n{i}" for i, node in enumerate(order)}
    nodes = graph.nodes
    square = len(order) > SQUARE_RUNS_ABOVE
    for node in order:
        data = nodes[node]
        extra = node_attributes(node, data) if node_attributes is not None else {}
        attributes = {"tooltip": _tooltip(node, data), **_style(data, square), **extra}
        dot.node(names[node], label=_label(data), **attributes)
        if data.get("truncated"):
            more = f"{names[node]}_more"
            more_id = {"id": f"{extra['id']}-more", "class": "more"} if "id" in extra else {}
            dot.node(more, label="⋯", shape="plaintext", fontsize="14", tooltip="more lineage",
                     **more_id)
            dot.edge(more, names[node], style="dotted", dir="none", color="#999999")
    for source, target, data in sorted(graph.edges(data=True), key=lambda e: (e[0], e[1])):
        kind = "recreated" if data.get("recreated") else data.get("relation", "input")
        dot.edge(names[source], names[target], **_EDGES.get(kind, {}))
    note = _note(graph)
    if note:
        dot.graph_label(note)
    return dot.source()


# --- labels and styles ----------------------------------------------------------------
def _label(data: dict[str, Any]) -> str:
    lines: list[str] = []
    if data["kind"] == "hidden":  # a record in a space the reader cannot read
        return f"<<I>{_h(data.get('label', 'hidden'))}</I>>"
    if data["kind"] == "run":
        lines.append(f"<B>{_h(data.get('transform_key') or '(mixed transforms)')}</B>")
        if data.get("entrypoint"):
            lines.append(_h(data["entrypoint"]))
        if data.get("collapsed"):
            lines.append(f"×{data['count']} runs")
            if data.get("started_at"):
                lines.append(f"{_time(data['started_at'])} … {_time(data['started_last'])}")
        else:
            if data.get("started_at"):
                lines.append(_time(data["started_at"]))
        if data.get("status") not in (None, "completed"):
            lines.append(f"<I>{_h(data['status'])}</I>")
    else:
        key = data.get("key") or f"(no key) {data.get('uid', '')[:8]}"
        lines.append(f"<B>{_h(key)}</B>")
        if data.get("collapsed"):
            lines.append(f"×{data['count']} artifacts")
        elif data.get("version") is not None:
            lines.append(f"v{data['version']}" + ("" if data.get("is_latest") else " (not latest)"))
    return "<" + "<BR/>".join(lines) + ">"


def _tooltip(node: str, data: dict[str, Any]) -> str:
    if data.get("collapsed"):
        return f"{data['count']} {data['kind']}s merged"
    return node


def _style(data: dict[str, Any], square: bool = False) -> dict[str, str]:
    if data["kind"] == "hidden":
        return {"shape": "box", "style": "dashed", "color": "#999999", "fontcolor": "#666666"}
    if data["kind"] == "run":
        style = dict(_RUN)
        if data.get("status") == "errored":
            style.update(_RUN_ERRORED)
        if data.get("status") in ("started", "scheduled"):
            style["style"] = "rounded,filled,dashed"
        if square:
            style["style"] = style["style"].replace("rounded,", "")
        if data.get("collapsed"):
            style.update(shape="box3d", style="filled")
    else:
        style = dict(_ARTIFACT)
        if data.get("collapsed"):
            style["peripheries"] = "2"
    if data.get("focus"):
        style.update(_FOCUS)
    return style


def _note(graph: nx.DiGraph) -> str:
    parts = []
    relations = {d.get("relation") for _, _, d in graph.edges(data=True)}
    if "initiated" in relations:
        parts.append("Dotted arrows: a run initiated another (a flow its steps).")
    if "data" in relations:
        parts.append("Dashed green arrows: a run received a value another run returned.")
    hidden = graph.graph.get("hidden")
    if hidden:
        parts.append(f"{hidden} more nodes not drawn (⋯ marks where); draw less with depth=...")
    elif graph.graph.get("truncated"):
        parts.append(f"Lineage continues beyond depth {graph.graph.get('depth')} (⋯ marks where).")
    merged = graph.graph.get("collapsed")
    if merged:
        members, groups = merged
        parts.append(f"{members} look-alike runs and artifacts drawn as {groups} ×N group"
                     f"{'s' if groups > 1 else ''}; collapse=False draws each.")
    return "\\l".join(parts) + ("\\l" if parts else "")


def _h(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _time(value: Any) -> str:
    from lineage.graph.describe import when

    return when(value) if hasattr(value, "astimezone") else str(value)


# --- files and display --------------------------------------------------------------------
def output_target(graph: nx.DiGraph, filename: str | os.PathLike[str] | None,
                  format: str | None) -> tuple[str, Path]:  # noqa: A002
    """The format and path to write: from `format`, else the filename suffix, else svg."""
    if format is not None and format not in FORMATS:
        raise ValidationError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    if filename is None:
        from lineage.instance import current_instance

        fmt = format or "svg"
        uid = graph.graph["focus"].split(":", 1)[1]
        return fmt, current_instance().cache_dir / "lineage" / f"lineage-{uid}.{fmt}"
    path = Path(filename).expanduser()
    suffix = path.suffix.lstrip(".").lower()
    if suffix == "gv":
        suffix = "dot"
    if suffix in FORMATS:
        if format is not None and format != suffix:
            raise ValidationError(f"{path.name} asks for {suffix} but format={format!r}; "
                                  "make them agree or leave format out.")
        return suffix, path
    fmt = format or "svg"
    return fmt, path.with_name(f"{path.name}.{fmt}")


def _write(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder."""
    import secrets

    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as handle:  # default permissions, unlike mkstemp's 0600
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (IPython is never imported here)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _display(path: Path, fmt: str) -> None:
    from IPython.display import SVG, Image, display

    if fmt == "svg":
        display(SVG(filename=str(path)))
    elif fmt == "png":
        display(Image(filename=str(path)))
