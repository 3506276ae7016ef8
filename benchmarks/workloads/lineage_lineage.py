"""Upstream lineage of the last artifact of the chain. Each measure runs in a
fresh process (P["what"]; --quick runs all three, in this order, in one):
"walk" follows artifact.run.input_artifacts recursively, "graph" calls
ln.lineage_graph(artifact, downstream=False), "view" draws it to SVG with
artifact.view_lineage(file, "svg", downstream=False) and its defaults (which
merge large groups of look-alike nodes; see benchmarks/README.md)."""

import os

import _common as c
import _same_api

import lineage as ln

P = c.PARAMS
ln.connect(P["storage"])
last, r, what = _same_api.last_of_chain(ln)
if "graph" in what:
    t0 = c.perf()
    g = ln.lineage_graph(last, downstream=False)
    r["graph_s"] = c.perf() - t0
    r["graph_nodes"] = g.number_of_nodes()
if "view" in what:
    out = os.path.join(os.getcwd(), "lineage-view.svg")
    t0 = c.perf()
    written = last.view_lineage(out, "svg", downstream=False)
    r["view_s"] = c.perf() - t0
    r["view_bytes"] = os.path.getsize(written)
c.emit(r)
