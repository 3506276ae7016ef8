"""Build the chain (setup of the lineage workload; its time is informative):
a flow whose steps each load the previous artifact and save a new one."""

import _common as c
import _same_api

import lineage as ln

P = c.PARAMS
ln.connect(P["storage"])
t0 = c.perf()
_same_api.chain_with_steps(ln, P["n"])
build_s = c.perf() - t0
c.emit({"build_s": build_s, "per_link_s": build_s / P["n"], "method": "flow+steps"})
