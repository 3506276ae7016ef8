"""Committed step runs per second with 1, 4 and 16 writer processes.

Usage: python benchmarks/concurrency_bench.py [--steps N] [--postgres URL]

Each writer process runs one flow calling a trivial step N times; the figure
is all committed step runs divided by the wall time from the first process
start to the last process end. SQLite always; PostgreSQL when a URL is given
(or LINEAGE_TEST_POSTGRES_URL is set).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
import time
import uuid
from pathlib import Path

FORK = multiprocessing.get_context("fork")


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


def _postgres_instance(admin_url: str, folder: Path) -> str:
    import psycopg

    import lineage as ln

    name = f"lineage_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    ln.init(storage=folder, db=url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="step runs per writer")
    parser.add_argument("--writers", default="1,4,16")
    parser.add_argument("--postgres", default=os.environ.get("LINEAGE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    os.environ.setdefault("LINEAGE_CONFIG_DIR", tempfile.mkdtemp(prefix="lineage-bench-cfg-"))
    import lineage as ln

    print(f"{'backend':<12}{'writers':>8}{'step runs/s':>14}")
    for backend in ("sqlite", "postgresql"):
        if backend == "postgresql" and not args.postgres:
            print("postgresql  skipped: pass --postgres URL")
            continue
        for writers in (int(w) for w in args.writers.split(",")):
            folder = Path(tempfile.mkdtemp(prefix="lineage-bench-"))
            if backend == "sqlite":
                target = str(ln.init(storage=folder).root)
            else:
                target = _postgres_instance(args.postgres, folder)
            rate = measure(target, writers, args.steps)
            print(f"{backend:<12}{writers:>8}{rate:>14.0f}", flush=True)


if __name__ == "__main__":
    main()
