"""What lineage-dagster adds to each Dagster step, against Dagster's own cost per step.

Usage (in a venv with lineage, lineage-dagster and dagster installed)::

    python benchmarks/engines/dagster_bench.py [--steps 40] [--repeats 5] [--json]

One process, one embedded (SQLite) lineage instance in a temporary folder.
A chain of N assets (each loads the previous one and returns a small value
through Dagster's default file system IO manager) is materialized with
``dg.materialize`` over and over, alternating the plain definitions and
the same ones passed through `lineage_dagster.instrument` (plain first in
odd repeats, lineage first in even ones), against two Dagster instances:

- ``ephemeral``: Dagster's in-memory event log (what ``materialize`` uses
  by default; Dagster's cheapest per-step cost);
- ``sqlite``: a persistent Dagster instance in a temporary folder (events
  in SQLite, as in a deployment).

Per step = the run's time / N. Dagster's own cost is the plain run; the
adapter's cost is instrumented minus plain, paired per repeat; the figure
is the median over repeats. Both wall time (``perf_counter``) and CPU time
of this process (``process_time``) are reported: on a loaded machine wall
times stretch with the load, CPU times much less. Each instrumented step
records: its run (its start written in the transaction of its artifact,
its end in a batch of the background writer), the artifact of its asset
(hash, copy into lineage's storage, its version and link), its input, and
the ``lineage/artifact`` metadata Dagster stores.
Each timed run starts after ``gc.collect()``: Dagster's runs leave about
4,000 objects per run in the oldest generation, so a full collection of
its heap (~150 ms) comes every ~8 runs, as often with lineage as without,
and otherwise lands, phase-locked, on the same side of most pairs.
Targets: under 5 % of Dagster's per-step cost and under 2 ms per step.
Nothing here is part of the test suite; no figure is asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_RATIO = 0.05
TARGET_MS = 2.0


def chain(n: int) -> list[Any]:
    """N assets, each loading the one before."""
    import dagster as dg

    assets = []
    for i in range(n):
        if i == 0:
            @dg.asset(name="step_0")
            def first() -> int:
                return 0
            assets.append(first)
        else:
            @dg.asset(name=f"step_{i}", ins={"previous": dg.AssetIn(f"step_{i - 1}")})
            def nxt(previous: int) -> int:
                return previous + 1
            assets.append(nxt)
    return assets


def measure(assets: list[Any], instance: Any, resources: dict[str, Any]) -> tuple[float, float]:
    """(wall, cpu) seconds of one materialization of `assets` (after a full collection)."""
    import dagster as dg

    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = dg.materialize(assets, instance=instance, resources=resources)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if not result.success:
        raise RuntimeError("the benchmark run failed")
    return wall, cpu


def run(steps: int, repeats: int) -> dict[str, Any]:
    import dagster as dg
    import lineage as ln
    import lineage_dagster
    from lineage.testing import temporary_instance

    logging.getLogger("dagster").setLevel(logging.ERROR)
    assets = chain(steps)
    results: dict[str, Any] = {"steps": steps, "repeats": repeats,
                               "dagster": dg.__version__, "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory(prefix="dagster-bench-") as folder:
        root = Path(folder)
        with temporary_instance(root / "lineage"):
            (root / "home").mkdir()
            (root / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
            instances = {"ephemeral": dg.DagsterInstance.ephemeral(tempdir=str(root / "eph")),
                         "sqlite": dg.DagsterInstance.from_config(str(root / "home"))}
            instrumented = lineage_dagster.instrument({})
            for name, instance in instances.items():
                measure(assets, instance, {})  # warm-up: imports, caches, first writes
                measure(assets, instance, instrumented)
                plain_wall, plain_cpu, added_wall, added_cpu = [], [], [], []
                for repeat in range(repeats):
                    order = [("plain", {}), ("lineage", instrumented)]
                    if repeat % 2:
                        order.reverse()
                    times = {label: measure(assets, instance, res) for label, res in order}
                    plain_wall.append(times["plain"][0] / steps)
                    plain_cpu.append(times["plain"][1] / steps)
                    added_wall.append((times["lineage"][0] - times["plain"][0]) / steps)
                    added_cpu.append((times["lineage"][1] - times["plain"][1]) / steps)
                row = {
                    "dagster_ms_per_step_wall": statistics.median(plain_wall) * 1e3,
                    "dagster_ms_per_step_cpu": statistics.median(plain_cpu) * 1e3,
                    "lineage_ms_per_step_wall": statistics.median(added_wall) * 1e3,
                    "lineage_ms_per_step_cpu": statistics.median(added_cpu) * 1e3,
                }
                row["ratio_wall"] = row["lineage_ms_per_step_wall"] / row["dagster_ms_per_step_wall"]
                row["ratio_cpu"] = row["lineage_ms_per_step_cpu"] / row["dagster_ms_per_step_cpu"]
                results[name] = row
                instance.dispose()
            results["runs_recorded"] = ln.Run.filter(external_source="dagster").count()
    results["load_average"] = os.getloadavg()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results = run(args.steps, args.repeats)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"lineage-dagster overhead per step: {args.steps}-asset chain, {args.repeats} "
          f"repeats, Dagster {results['dagster']}, load average {results['load_average'][0]:.1f}")
    print(f"{'instance':<10} {'clock':<5} {'Dagster ms/step':>16} {'lineage ms/step':>16} "
          f"{'ratio':>7}  target: < {TARGET_RATIO:.0%} and < {TARGET_MS} ms")
    for name in ("ephemeral", "sqlite"):
        row = results[name]
        for clock in ("wall", "cpu"):
            print(f"{name:<10} {clock:<5} {row[f'dagster_ms_per_step_{clock}']:>16.2f} "
                  f"{row[f'lineage_ms_per_step_{clock}']:>16.2f} {row[f'ratio_{clock}']:>7.1%}")


if __name__ == "__main__":
    main()
