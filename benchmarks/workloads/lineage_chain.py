"""Build the chain (setup of the lineage workload; its time is informative):
a flow whose steps each load the previous artifact and save a new one."""

import _common as c

import lineage as ln

P = c.PARAMS
ln.connect(P["storage"])


@ln.step()
def link(i: int) -> None:
    text = ""
    if i > 0:
        with open(ln.Artifact.get(key=f"chain/{i - 1}.txt").cache()) as f:
            text = f.read()
    ln.Artifact(c.write_link(P["scratch"], i, text), key=f"chain/{i}.txt").save()


@ln.flow()
def chain(n: int) -> None:
    for i in range(n):
        link(i)


t0 = c.perf()
chain(P["n"])
build_s = c.perf() - t0
c.emit({"build_s": build_s, "per_link_s": build_s / P["n"], "method": "flow+steps"})
