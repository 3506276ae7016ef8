"""Per-step cost at each ``ln.settings.durability`` level, side by side.

The step loop of `tracking_bench` (a trivial ``@ln.step()`` called N times in
an ``@ln.flow()``) on a fresh embedded (SQLite) instance, once with
``durability = "normal"`` (WAL, ``synchronous=NORMAL``, the default) and once
with ``"full"`` (``synchronous=FULL``: every commit fsyncs the WAL), the two
levels alternating over ``--repeats`` rounds; with ``--postgres URL`` the same
on a temporary PostgreSQL database (``full`` makes run bookkeeping wait for
the WAL flush). Target of issue 18: at most 1 ms per step at ``full``.

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


def measure(steps: int, repeats: int, db: str | None, folder: Path) -> dict[str, dict[str, float]]:
    """Median per-step overhead (ms) at each level; rounds alternate the levels."""
    env = _env(folder)
    if db is not None:
        env["LINEAGE_INSTANCE"] = db
    _init(env, folder / "instance", db)
    (folder / "step_loop.py").write_text(textwrap.dedent(STEP_LOOP))
    samples: dict[str, list[float]] = {"normal": [], "full": []}
    for round_ in range(repeats):
        order = ["normal", "full"] if round_ % 2 == 0 else ["full", "normal"]
        for level in order:
            _set_level(env, level)
            _, _, result = _run(folder / "step_loop.py", env, str(steps))
            step = json.loads(result.stdout.strip().splitlines()[-1])
            samples[level].append(step["median_ms"] - step["untracked_median_ms"])
    return {level: {"step_overhead_ms": statistics.median(values), "samples_ms": values}
            for level, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", default=None, metavar="URL", help="admin URL")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result: dict[str, object] = {"steps": args.steps, "repeats": args.repeats,
                                 "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="lineage-durability-") as tmp:
        result["sqlite"] = measure(args.steps, args.repeats, None, Path(tmp) / "sqlite")
    if args.postgres:
        import psycopg

        name = f"lineage_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            with tempfile.TemporaryDirectory(prefix="lineage-durability-pg-") as tmp:
                url = f"{args.postgres.rsplit('/', 1)[0]}/{name}"
                result["postgresql"] = measure(args.steps, args.repeats, url, Path(tmp))
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    result["load_average_after"] = os.getloadavg()
    for backend in ("sqlite", "postgresql"):
        if backend in result:
            levels = result[backend]
            print(f"{backend}: per step normal {levels['normal']['step_overhead_ms']:.3f} ms, "  # type: ignore[index]
                  f"full {levels['full']['step_overhead_ms']:.3f} ms (target at full <= 1 ms)")  # type: ignore[index]
    print(f"load average {result['load_average_before']} -> {result['load_average_after']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
