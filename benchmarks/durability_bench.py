"""Per-step cost at each ``ln.settings.durability`` level, side by side.

The step loop of `tracking_bench` (a trivial ``@ln.step()`` called N times in
an ``@ln.flow()``) on a fresh embedded (SQLite) instance, once per variant,
the variants rotating over ``--repeats`` rounds:

- ``normal``: WAL, ``synchronous=NORMAL`` (the default);
- ``full``: what ``durability = "full"`` does: a step's start and finish
  commit without an fsync while its flow is open in the process, and the
  flow's finish (like every artifact save) fsyncs the WAL, which makes the
  steps before it durable too (`lineage.lifecycle.runs.durable_finish`);
- ``full-every-finish`` (a design not chosen, patched in for the
  comparison): starts without an fsync, every run's finish with one;
- ``full-every-commit`` (what ``full`` did before, patched in):
  two fsyncs per step.

With ``--postgres URL`` the same on a temporary PostgreSQL database (at
``full`` the durable commits wait for the WAL flush). Target of issue 18: at
most 1 ms per step at ``full``. The JSON also records the load average, and
the median flush latency of the disk (``fdatasync`` after a 4 KiB
overwrite, measured between rounds), which bounds the designs that fsync
per step from below.

Usage::

    python benchmarks/durability_bench.py [--steps 1000] [--repeats 3] [--postgres URL] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tracking_bench import STEP_LOOP, _env, _run  # noqa: E402


def _init(env: dict[str, str], storage: Path, db: str | None) -> None:
    code = f"import lineage as ln; ln.init(storage={str(storage)!r}, db={db!r})"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)


def _set_level(env: dict[str, str], level: str) -> None:
    code = f"import lineage as ln; ln.settings.durability = {level!r}"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)


#: Variant name -> (setting, code run before the step loop).
VARIANTS = {
    "normal": ("normal", ""),
    "full": ("full", ""),
    "full-every-finish": (
        "full", "import lineage.lifecycle.runs as _r; _r.durable_finish = lambda run: True\n"),
    "full-every-commit": (
        "full",
        "from lineage.db.database import Database as _D\n"
        "_w = _D.write\n"
        "_D.write = lambda self, work, durable=True: _w(self, work, durable=True)\n"),
}


def flush_latency_ms(folder: Path, n: int = 50) -> float:
    """Median time of one ``fdatasync`` after overwriting 4 KiB of a preallocated file."""
    path = folder / "flush-probe"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"\0" * 4096 * n)
        os.fsync(fd)
        times = []
        for i in range(n):
            os.pwrite(fd, os.urandom(4096), 4096 * i)
            start = time.perf_counter()
            os.fdatasync(fd)
            times.append((time.perf_counter() - start) * 1e3)
    finally:
        os.close(fd)
        path.unlink()
    return statistics.median(times)


def measure(steps: int, repeats: int, db: str | None, folder: Path,
            variants: list[str]) -> dict[str, dict[str, object]]:
    """Median per-step overhead (ms) of each variant; rounds rotate the order."""
    env = _env(folder)
    if db is not None:
        env["LINEAGE_INSTANCE"] = db
    _init(env, folder / "instance", db)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    flush: list[float] = []
    for round_ in range(repeats):
        shift = round_ % len(variants)
        for name in variants[shift:] + variants[:shift]:
            level, prelude = VARIANTS[name]
            _set_level(env, level)
            script = folder / "step_loop.py"
            loop = textwrap.dedent(STEP_LOOP)
            script.write_text(loop.replace("import lineage as ln\n", "import lineage as ln\n" + prelude, 1))
            _, _, result = _run(script, env, str(steps))
            step = json.loads(result.stdout.strip().splitlines()[-1])
            samples[name].append(step["median_ms"] - step["untracked_median_ms"])
        flush.append(flush_latency_ms(folder))
    result: dict[str, dict[str, object]] = {
        name: {"step_overhead_ms": statistics.median(values), "samples_ms": values}
        for name, values in samples.items()}
    result["disk"] = {"fdatasync_median_ms": statistics.median(flush), "samples_ms": flush}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", default=None, metavar="URL", help="admin URL")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated, from: " + ", ".join(VARIANTS))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    result: dict[str, object] = {"steps": args.steps, "repeats": args.repeats,
                                 "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="lineage-durability-") as tmp:
        result["sqlite"] = measure(args.steps, args.repeats, None, Path(tmp) / "sqlite", variants)
    if args.postgres:
        import psycopg

        name = f"lineage_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            with tempfile.TemporaryDirectory(prefix="lineage-durability-pg-") as tmp:
                url = f"{args.postgres.rsplit('/', 1)[0]}/{name}"
                result["postgresql"] = measure(args.steps, args.repeats, url, Path(tmp), variants)
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    result["load_average_after"] = os.getloadavg()
    for backend in ("sqlite", "postgresql"):
        if backend in result:
            levels = result[backend]
            print(f"{backend} (ms per step, median; target at full <= 1 ms):")
            for name in variants:
                print(f"  {name:28s} {levels[name]['step_overhead_ms']:8.3f}")  # type: ignore[index]
            print(f"  disk fdatasync (median)      {levels['disk']['fdatasync_median_ms']:8.3f}")  # type: ignore[index]
    print(f"load average {result['load_average_before']} -> {result['load_average_after']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
