"""Overhead per step: a trivial function as a step inside a flow."""

import _common as c

import lineage as ln

ln.connect(c.PARAMS["storage"])
N = c.PARAMS["n"]
BUDGET = c.PARAMS.get("budget_s")
times: list[float] = []


@ln.step()
def subset(x: int) -> int:
    return x


@ln.flow()
def main() -> None:
    times.extend(c.timed_calls(subset, N, BUDGET))


t0 = c.perf()
main()
c.emit(c.step_result(times, c.perf() - t0))
