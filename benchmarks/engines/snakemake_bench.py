"""What snakemake-logger-plugin-lineage adds to each Snakemake job, as a ratio to Snakemake's own.

Runs one workflow of ``--jobs`` trivial shell jobs (one rule with a
wildcard, each job writing a small distinct file; plus the target rule)
with ``--cores 2``, alternately without and with ``--logger lineage``, in
fresh working directories, ``--repeats`` times per side: Snakemake's own
cost per job is the wall time of a plain run divided by the number of
jobs, the plugin's the difference of the medians. Three times per side:
the process's wall time (Snakemake waits for its log queue at the end, so
everything the plugin does is inside it), Snakemake's own "Elapsed time"
(the workflow's execution: what the plugin's work on the logging thread
slows while jobs run, without the final drain of the queue), and the CPU
time of the Snakemake process and its jobs.

    .venvs/snakemake/bin/python benchmarks/engines/snakemake_bench.py [--jobs 500] [--repeats 2] [--json out.json]

Needs ``snakemake`` and ``snakemake-logger-plugin-lineage`` in the
interpreter that runs it (``bash scripts/test.sh snakemake`` makes
.venvs/snakemake); records into a temporary embedded lineage instance.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SNAKEFILE = '''
rule all:
    input: expand("out/{{i}}.txt", i=range({jobs}))

rule job:
    output: "out/{{i}}.txt"
    params: scale=3
    shell: "echo job {{wildcards.i}} {{params.scale}} > {{output}}"
'''


def run_once(root: Path, jobs: int, lineage: bool, env: dict[str, str]) -> tuple[float, float, float]:
    """(wall, Snakemake's elapsed, CPU of Snakemake and its jobs), in seconds, of one workflow run."""
    workdir = Path(tempfile.mkdtemp(dir=root))
    (workdir / "Snakefile").write_text(SNAKEFILE.format(jobs=jobs))
    command = [sys.executable, "-m", "snakemake", "--cores", "2", "--quiet", "rules"]
    if lineage:
        command[3:3] = ["--logger", "lineage"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or "could not record" in done.stderr:
        raise SystemExit(f"snakemake failed or lineage could not record:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, _elapsed(done.stderr), cpu


def _elapsed(log: str) -> float:
    """Snakemake's "Elapsed time: H:MM:SS.ffffff" in seconds."""
    match = re.search(r"Elapsed time: (\d+):(\d+):([\d.]+)", log)
    if match is None:
        raise SystemExit("no 'Elapsed time' in Snakemake's output")
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="snakemake-bench-"))
    env = {**os.environ, "LINEAGE_CONFIG_DIR": str(root / "config")}
    subprocess.run([sys.executable, "-c", f"import lineage as ln; ln.init(storage={str(root / 'instance')!r})"],
                   check=True, env=env, capture_output=True)
    env["LINEAGE_INSTANCE"] = str(root / "instance")
    runs: dict[bool, list[tuple[float, float, float]]] = {False: [], True: []}
    for repeat in range(args.repeats):
        for lineage in ((False, True) if repeat % 2 == 0 else (True, False)):
            runs[lineage].append(run_once(root, args.jobs, lineage, env))
            wall, elapsed, cpu = runs[lineage][-1]
            print(f"repeat {repeat + 1} {'lineage' if lineage else 'plain  '}: {wall:.1f} s wall, "
                  f"{elapsed:.1f} s elapsed, {cpu:.1f} s CPU", flush=True)
    jobs = args.jobs + 1  # the target rule is a job too
    result = {"jobs": jobs, "repeats": args.repeats, "python": platform.python_version(),
              "load_average": os.getloadavg()[0]}
    for index, name in ((0, "wall"), (1, "elapsed"), (2, "cpu")):
        plain = statistics.median(r[index] for r in runs[False])
        traced = statistics.median(r[index] for r in runs[True])
        result[name] = {"snakemake_ms_per_job": 1000 * plain / jobs,
                        "added_ms_per_job": 1000 * (traced - plain) / jobs,
                        "ratio": (traced - plain) / plain}
    for name in ("wall", "elapsed", "cpu"):
        r = result[name]
        print(f"{name:7}: Snakemake {r['snakemake_ms_per_job']:.1f} ms/job, lineage adds "
              f"{r['added_ms_per_job']:.1f} ms/job = {r['ratio']:.2f} x Snakemake's own")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
