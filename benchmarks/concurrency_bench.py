"""Committed step runs per second with 1, 4 and 16 writer processes.

Usage: python benchmarks/concurrency_bench.py [--steps N] [--postgres URL]

Each writer process runs one flow calling a trivial step N times (default
and minimum 1,000: shorter runs are dominated by start-up and too noisy to
compare); the figure is all committed step runs divided by the wall time
from the first process start to the last process end. SQLite always;
PostgreSQL when a URL is given (or LINEAGE_TEST_POSTGRES_URL is set).
Everything it creates is removed at the end, also after a failure or
Ctrl-C: its temporary folders (instances, config) and its PostgreSQL
databases (``lineage_bench_*``, dropped with ``WITH (FORCE)``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

FORK = multiprocessing.get_context("fork")
#: Fewest step runs per writer that give a stable figure.
MIN_STEPS = 1000


def _writer(steps: int, start: object) -> None:
    import lineage as ln

    @ln.step()
    def noop(i: int) -> int:
        return i

    @ln.flow()
    def writer(n: int) -> None:
        for i in range(n):
            noop(i)

    start.wait()  # type: ignore[attr-defined]
    writer(steps)


def measure(target: str, writers: int, steps: int) -> float:
    """Step runs committed per second by `writers` processes on the instance `target`."""
    import lineage as ln

    ln.connect(target)
    start = FORK.Event()
    procs = [FORK.Process(target=_writer, args=(steps, start)) for _ in range(writers)]
    for p in procs:
        p.start()
    time.sleep(0.2)
    began = time.perf_counter()
    start.set()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - began
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    if failed:
        raise SystemExit(f"{len(failed)} writer(s) failed with exit codes {failed}")
    committed = ln.Run.filter(entrypoint__endswith="noop", status="completed").count()
    if committed != writers * steps:
        raise SystemExit(f"expected {writers * steps} committed step runs, found {committed}")
    return committed / elapsed


def _create_database(admin_url: str) -> tuple[str, str]:
    """A new empty PostgreSQL database: (its name, its URL)."""
    import psycopg

    name = f"lineage_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


def _drop_database(admin_url: str, name: str) -> None:
    import psycopg

    from lineage import instance

    instance.close()  # this process's connections first
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=MIN_STEPS,
                        help=f"step runs per writer (at least {MIN_STEPS})")
    parser.add_argument("--writers", default="1,4,16")
    parser.add_argument("--postgres", default=os.environ.get("LINEAGE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    if args.steps < MIN_STEPS:
        parser.error(f"--steps {args.steps}: use at least {MIN_STEPS} step runs per writer")
    scratch = Path(tempfile.mkdtemp(prefix="lineage-bench-"))
    os.environ["LINEAGE_CONFIG_DIR"] = str(scratch / "config")
    import lineage as ln
    from lineage import instance

    print(f"{'backend':<12}{'writers':>8}{'step runs/s':>14}")
    try:
        for backend in ("sqlite", "postgresql"):
            if backend == "postgresql" and not args.postgres:
                print("postgresql  skipped: pass --postgres URL")
                continue
            for writers in (int(w) for w in args.writers.split(",")):
                folder = scratch / f"{backend}-{writers}"
                if backend == "sqlite":
                    target = str(ln.init(storage=folder).root)
                    rate = measure(target, writers, args.steps)
                    instance.close()
                else:
                    name, target = _create_database(args.postgres)
                    try:
                        ln.init(storage=folder, db=target)
                        rate = measure(target, writers, args.steps)
                    finally:
                        _drop_database(args.postgres, name)
                shutil.rmtree(folder, ignore_errors=True)
                print(f"{backend:<12}{writers:>8}{rate:>14.0f}", flush=True)
    finally:
        instance.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
