"""Build the chain (setup of the lineage workload; its time is informative).

method "steps": a flow whose steps each load the previous artifact and save
a new one, as in lineage_chain.py, defined at module level (a step defined
inside a function gets a "<locals>" in its name, which breaks LaminDB's
graphviz drawing of the lineage). LaminDB's @ln.step costs about 0.4 s a
call, so --quick uses method "runs": the same graph (artifact i is the output
of run i, whose input is artifact i-1) written with explicit ln.Run records.
"""

import _common as c
import _same_api

import lamindb as ln

ln.setup.settings.instance._is_on_hub = False
P = c.PARAMS
N = P["n"]


@ln.step()
def link(i: int) -> None:
    _same_api.chain_link(ln, i)


@ln.flow()
def chain(count: int) -> None:
    for i in range(count):
        link(i)


def chain_with_runs(n: int) -> None:
    transform = ln.Transform(key="chain_builder.py", kind="script").save()
    previous = None
    text = ""
    for i in range(n):
        run = ln.Run(transform=transform).save()
        if previous is not None:
            run.input_artifacts.add(previous)
            with open(previous.cache()) as f:
                text = f.read()
        path = c.write_link(P["scratch"], i, text)
        previous = ln.Artifact(path, key=f"chain/{i}.txt", run=run).save()


t0 = c.perf()
if P.get("method", "steps") == "steps":
    chain(N)
else:
    chain_with_runs(N)
build_s = c.perf() - t0
c.emit({"build_s": build_s, "per_link_s": build_s / N, "method": P.get("method", "steps")})
