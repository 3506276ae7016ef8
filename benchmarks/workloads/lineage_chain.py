"""Build the chain (setup of the lineage workload; its time is informative):
a flow whose steps each load the previous artifact and save a new one. The
step and the flow are at module level, as in lamindb_chain.py."""

import _common as c
import _same_api

import lineage as ln

P = c.PARAMS
ln.connect(P["storage"])


@ln.step()
def link(i: int) -> None:
    _same_api.chain_link(ln, i)


@ln.flow()
def chain(count: int) -> None:
    for i in range(count):
        link(i)


t0 = c.perf()
chain(P["n"])
build_s = c.perf() - t0
c.emit({"build_s": build_s, "per_link_s": build_s / P["n"], "method": "flow+steps"})
