"""Workloads written once for the tools whose API is the same (lineage, LaminDB).

Each tool's workload script does its own setup (connecting, LaminDB's hub
switch) and then calls one of these with its ``ln`` module, so both run the
very same code.
"""

from typing import Any

import _common as c


def saves(ln: Any) -> dict:
    """A big file, many small files (bulk, then one by one), then the same content again."""
    P = c.PARAMS
    small_a = c.small_files(P["small_a"])
    small_b = c.small_files(P["small_b"])
    r: dict = {"n_small": len(small_a)}
    ln.track(params={"workload": "saves"})
    t0 = c.perf()
    big = ln.Artifact(P["big"], key="big/file.bin").save()
    r["big_s"] = c.perf() - t0
    t0 = c.perf()
    ln.save([ln.Artifact(p, key=f"small/a/{i}.txt") for i, p in enumerate(small_a)])
    r["small_bulk_s"] = c.perf() - t0
    t0 = c.perf()
    for i, p in enumerate(small_b):
        ln.Artifact(p, key=f"small/b/{i}.txt").save()
    r["small_each_s"] = c.perf() - t0
    t0 = c.perf()
    again = ln.Artifact(P["big"], key="big/file.bin").save()
    r["big_again_s"] = c.perf() - t0
    r["big_again_same_record"] = again.id == big.id
    t0 = c.perf()
    ln.save([ln.Artifact(p, key=f"small/a/{i}.txt") for i, p in enumerate(small_a)])
    r["small_again_s"] = c.perf() - t0
    ln.finish()
    return r


def steps(ln: Any) -> dict:
    """A trivial function as a step inside a flow, called N times (within a budget)."""
    times: list[float] = []

    @ln.step()
    def subset(x: int) -> int:
        return x

    @ln.flow()
    def main() -> None:
        times.extend(c.timed_calls(subset, c.PARAMS["n"], c.PARAMS.get("budget_s")))

    t0 = c.perf()
    main()
    return c.step_result(times, c.perf() - t0)


def chain_link(ln: Any, i: int) -> None:
    """The body of chain step i: load artifact i-1 (if any), save artifact i.

    The step and flow that call it are defined at module level in each
    tool's ``<tool>_chain.py``: LaminDB labels a run's node with the step's
    qualified name, and a ``<locals>`` in it breaks its graphviz drawing.
    """
    text = ""
    if i > 0:
        with open(ln.Artifact.get(key=f"chain/{i - 1}.txt").cache()) as f:
            text = f.read()
    ln.Artifact(c.write_link(c.PARAMS["scratch"], i, text), key=f"chain/{i}.txt").save()


def last_of_chain(ln: Any) -> tuple[Any, dict, list[str]]:
    """The chain's last artifact, a result dict with the upstream walk (if asked), and what to measure."""
    P = c.PARAMS
    last = ln.Artifact.get(key=f"chain/{P['n'] - 1}.txt")
    r: dict = {}
    what = P["what"].split(",")
    if "walk" in what:
        t0 = c.perf()
        r["found"], r["runs"] = c.walk_upstream(last)
        r["walk_s"] = c.perf() - t0
    return last, r, what
