"""Upstream lineage of the last artifact of the chain. Each measure runs in a
fresh process (P["what"]; --quick runs all three, in this order, in one):
"walk" follows artifact.run.input_artifacts recursively; "graph" times
view_lineage(with_children=False, return_graph=True), which builds the
graphviz graph from the database without rendering; "view" does the same and
renders it to SVG (in a script, view_lineage() itself would try to open a
viewer; rendering needs the graphviz `dot` program, whose absence or failure
is reported as text)."""

import _common as c
import _same_api

import lamindb as ln

ln.setup.settings.instance._is_on_hub = False
P = c.PARAMS
last, r, what = _same_api.last_of_chain(ln)
if "graph" in what:
    t0 = c.perf()
    g = last.view_lineage(with_children=False, return_graph=True)
    r["graph_s"] = c.perf() - t0
    r["graph_nodes"] = len({line.split()[0] for line in g.body if "->" not in line})
if "view" in what:
    t0 = c.perf()
    g = last.view_lineage(with_children=False, return_graph=True)
    try:
        svg = g.pipe(format="svg")
        r["view_s"] = c.perf() - t0
        r["view_bytes"] = len(svg)
    except Exception as exc:  # graphviz missing or broken: say so, no number
        r["view_error"] = f"{type(exc).__name__}: {exc}".strip()[:400]
c.emit(r)
