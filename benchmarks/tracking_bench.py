"""Overhead of run tracking: per step, per whole script, and peak memory.

Usage::

    python benchmarks/tracking_bench.py [--steps 2000] [--repeats 15] [--json] [--check]

Three measurements on a fresh embedded (SQLite) instance in a temporary folder:

1. **Step overhead**: a trivial ``@ln.step()`` function called N times
   inside an ``@ln.flow()``, each call timed; the median of those calls
   minus the median of the same loop over the undecorated function.
   Budget: 1 ms (LaminDB 526 ms, MLflow nested runs 29 ms, measured here).
2. **Script overhead**: ``python tracked.py`` (``import lineage as ln;
   ln.track(params=...); <work>; ln.finish()``) against the same script
   without lineage, each run ``--repeats`` times in fresh interpreters,
   alternating; medians compared. Also a script running a one-step flow.
   Budget: 300 ms (LaminDB about 3.3 s, MLflow about 4.2 s).
3. **Peak memory**: the maximum resident set size of the tracked script
   (``ru_maxrss``). Budget: 100 MB (LaminDB 215 MB, MLflow 253 MB).

``--postgres URL`` (an admin URL such as
``postgresql://postgres@127.0.0.1:5432/postgres``) also measures the step
overhead on a temporary PostgreSQL database.

``--check`` exits with status 1 when a budget is exceeded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUDGETS = {"step_overhead_ms": 1.0, "script_overhead_ms": 300.0, "peak_rss_mb": 100.0}

WORK = "total = sum(i * i for i in range(200_000))\n"
MAXRSS = ("import resource, sys\n"
          "print('MAXRSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n")
SCRIPTS = {
    "plain.py": WORK + MAXRSS,
    "tracked.py": (
        "import lineage as ln\n"
        "ln.track(params={'learning_rate': 0.01, 'epochs': 10, 'model': {'name': 'linear'}})\n"
        + WORK + "ln.finish()\n" + MAXRSS
    ),
    "one_step_flow.py": (
        "import lineage as ln\n\n"
        "@ln.step()\ndef subset(n: int) -> int:\n    return n\n\n"
        "@ln.flow()\ndef main(n: int = 2) -> int:\n"
        "    " + WORK.strip() + "\n    return subset(n)\n\n"
        "main()\n" + MAXRSS
    ),
}

STEP_LOOP = """
import json, statistics, sys, time
import lineage as ln

N = int(sys.argv[1])
perf = time.perf_counter

def plain(x: int) -> int:
    return x

@ln.step()
def subset(x: int) -> int:
    return x

tracked: list[float] = []

@ln.flow()
def main() -> None:
    for i in range(N):
        t0 = perf()
        subset(i)
        tracked.append(perf() - t0)

main()
untracked = []
for i in range(N):
    t0 = perf()
    plain(i)
    untracked.append(perf() - t0)
tracked.sort()
print(json.dumps({
    "calls": N,
    "median_ms": statistics.median(tracked) * 1e3,
    "p95_ms": tracked[int(0.95 * (N - 1))] * 1e3,
    "mean_ms": statistics.fmean(tracked) * 1e3,
    "untracked_median_ms": statistics.median(untracked) * 1e3,
    "runs_stored": ln.Run.filter().count(),
}))
"""


def _env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINEAGE_")}
    # Cache bytecode as an installed package would (in a private folder, so
    # the source tree stays untouched): PYTHONDONTWRITEBYTECODE would make
    # every run recompile lineage and the libraries it imports.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    env["LINEAGE_INSTANCE"] = str(folder / "instance")
    env["LINEAGE_CONFIG_DIR"] = str(folder / "config")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(script: Path, env: dict[str, str], *args: str) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run a script; returns (wall seconds, CPU seconds, result)."""
    cpu = _cpu_children()
    start = time.perf_counter()
    result = subprocess.run([sys.executable, str(script), *args], env=env, cwd=script.parent,
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{script.name} failed:\n{result.stderr}")
    return elapsed, _cpu_children() - cpu, result


def _maxrss_mb(result: subprocess.CompletedProcess) -> float:
    for line in result.stderr.splitlines():
        if line.startswith("MAXRSS "):
            return int(line.split()[1]) / 1024  # kilobytes on Linux
    raise RuntimeError("no MAXRSS line in the output")


def measure(steps: int, repeats: int) -> dict[str, float]:
    """Run the three measurements; returns the figures in ms and MB."""
    with tempfile.TemporaryDirectory(prefix="lineage-bench-") as tmp:
        folder = Path(tmp)
        env = _env(folder)
        subprocess.run([sys.executable, "-c", f"import lineage as ln; ln.init({str(folder / 'instance')!r})"],
                       env=env, check=True, capture_output=True)
        for name, code in SCRIPTS.items():
            (folder / name).write_text(code)
        (folder / "step_loop.py").write_text(textwrap.dedent(STEP_LOOP))

        _, _, result = _run(folder / "step_loop.py", env, str(steps))
        step = json.loads(result.stdout.strip().splitlines()[-1])

        for name in SCRIPTS:  # warm the OS and bytecode caches and the instance once
            _run(folder / name, env)
        times: dict[str, list[float]] = {name: [] for name in SCRIPTS}
        cpu: dict[str, list[float]] = {name: [] for name in SCRIPTS}
        rss: dict[str, list[float]] = {name: [] for name in SCRIPTS}
        load_before = os.getloadavg()[0]
        for _ in range(repeats):
            for name in SCRIPTS:
                elapsed, used, result = _run(folder / name, env)
                times[name].append(elapsed)
                cpu[name].append(used)
                rss[name].append(_maxrss_mb(result))
        load_after = os.getloadavg()[0]
    median = {name: statistics.median(values) * 1e3 for name, values in times.items()}
    best = {name: min(values) * 1e3 for name, values in times.items()}
    cpu_median = {name: statistics.median(values) * 1e3 for name, values in cpu.items()}
    return {
        "cpus": os.cpu_count() or 1,
        "load_average": max(load_before, load_after),
        "script_overhead_min_ms": best["tracked.py"] - best["plain.py"],
        "script_overhead_cpu_ms": cpu_median["tracked.py"] - cpu_median["plain.py"],
        "flow_script_overhead_cpu_ms": cpu_median["one_step_flow.py"] - cpu_median["plain.py"],
        "step_calls": step["calls"],
        "step_median_ms": step["median_ms"],
        "step_p95_ms": step["p95_ms"],
        "step_mean_ms": step["mean_ms"],
        "step_overhead_ms": step["median_ms"] - step["untracked_median_ms"],
        "plain_script_ms": median["plain.py"],
        "tracked_script_ms": median["tracked.py"],
        "script_overhead_ms": median["tracked.py"] - median["plain.py"],
        "flow_script_ms": median["one_step_flow.py"],
        "flow_script_overhead_ms": median["one_step_flow.py"] - median["plain.py"],
        "plain_peak_rss_mb": max(rss["plain.py"]),
        "peak_rss_mb": max(rss["tracked.py"]),
        "flow_peak_rss_mb": max(rss["one_step_flow.py"]),
    }


def postgres_step_overhead(admin_url: str, steps: int) -> dict[str, float]:
    """The step measurement on a temporary PostgreSQL database."""
    import uuid

    import psycopg

    name = f"lineage_bench_{uuid.uuid4().hex[:10]}"
    base = admin_url.rsplit("/", 1)[0]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="lineage-bench-pg-") as tmp:
            folder = Path(tmp)
            env = _env(folder)
            env["LINEAGE_INSTANCE"] = f"{base}/{name}"
            subprocess.run([sys.executable, "-c", "import lineage as ln; "
                            f"ln.init(storage={str(folder / 'storage')!r}, db={env['LINEAGE_INSTANCE']!r})"],
                           env=env, check=True, capture_output=True)
            (folder / "step_loop.py").write_text(textwrap.dedent(STEP_LOOP))
            _, _, result = _run(folder / "step_loop.py", env, str(steps))
            step = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return {"pg_step_median_ms": step["median_ms"],
            "pg_step_overhead_ms": step["median_ms"] - step["untracked_median_ms"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2000, help="step calls to time")
    parser.add_argument("--repeats", type=int, default=15, help="runs of each script")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 when over budget")
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="also measure steps on PostgreSQL (admin URL)")
    args = parser.parse_args()

    figures = measure(args.steps, args.repeats)
    if args.postgres:
        figures.update(postgres_step_overhead(args.postgres, args.steps))
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"step overhead (median of {figures['step_calls']} calls): "
              f"{figures['step_overhead_ms']:.3f} ms  (p95 {figures['step_p95_ms']:.3f} ms; "
              f"budget {BUDGETS['step_overhead_ms']} ms; LaminDB 526 ms, MLflow 29 ms)")
        print(f"script (median wall): plain {figures['plain_script_ms']:.0f} ms, tracked "
              f"{figures['tracked_script_ms']:.0f} ms -> overhead {figures['script_overhead_ms']:.0f} ms "
              f"(budget {BUDGETS['script_overhead_ms']:.0f} ms; LaminDB ~3300 ms, MLflow ~4200 ms)")
        print(f"   best-of-{args.repeats} wall overhead {figures['script_overhead_min_ms']:.0f} ms, "
              f"CPU-time overhead {figures['script_overhead_cpu_ms']:.0f} ms")
        print(f"one-step flow script: {figures['flow_script_ms']:.0f} ms -> overhead "
              f"{figures['flow_script_overhead_ms']:.0f} ms (CPU {figures['flow_script_overhead_cpu_ms']:.0f} ms)")
        print(f"peak RSS: tracked {figures['peak_rss_mb']:.1f} MB, flow {figures['flow_peak_rss_mb']:.1f} MB, "
              f"plain {figures['plain_peak_rss_mb']:.1f} MB (budget {BUDGETS['peak_rss_mb']:.0f} MB; "
              "LaminDB 215 MB, MLflow 253 MB)")
        if "pg_step_overhead_ms" in figures:
            print(f"step overhead on PostgreSQL: {figures['pg_step_overhead_ms']:.3f} ms (median)")
        print(f"machine: {figures['cpus']} CPUs, load average {figures['load_average']:.1f} "
              "(wall times grow with the load; compare the CPU-time figures then)")
    over = [name for name, budget in BUDGETS.items() if figures[name] > budget]
    if over:
        print("over budget: " + ", ".join(over), file=sys.stderr)
    return 1 if (args.check and over) else 0


if __name__ == "__main__":
    sys.exit(main())
