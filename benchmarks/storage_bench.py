"""Throughput of the local object store against ``cp``.

Measures, on warm (cached) source files:

- put of a large file (default 1 GiB) and a 100 MiB file, with the full
  SHA-256 computed during the copy, durable (fsync) and not, against
  ``cp`` of the same file (a subprocess, as a user would run it), against a
  put whose digest is already known (copy only), and against hashing alone;
- put of 1,000 files of 1 KiB each (per-file milliseconds);
- re-put of identical content (the object exists: nothing is written).

Each timing is the median of several runs; ``os.sync()`` runs before each
one so that writeback of the previous run does not slow the next.

Usage::

    python benchmarks/storage_bench.py [--dir DIR] [--large-mib 1024] [--reps 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lineage.storage.hashing import hash_file
from lineage.storage.keys import object_key_for
from lineage.storage.local import LocalStore

MiB = 1 << 20


def make_file(path: Path, size: int) -> Path:
    """Write ``size`` bytes of incompressible data quickly, then warm the cache."""
    block = bytearray(os.urandom(16 * MiB))
    with open(path, "wb") as f:
        written = 0
        i = 0
        while written < size:
            block[:8] = i.to_bytes(8, "little")  # every block differs
            n = min(len(block), size - written)
            f.write(memoryview(block)[:n])
            written += n
            i += 1
    with open(path, "rb") as f:
        while f.read(16 * MiB):
            pass
    return path


def timed(fn: Callable[[], object], cleanup: Callable[[], object], reps: int) -> float:
    """Median wall time of ``fn`` over ``reps`` runs, cleaning up after each."""
    times = []
    for _ in range(reps):
        os.sync()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        cleanup()
    return statistics.median(times)


def bench_large(work: Path, src: Path, reps: int) -> list[tuple[str, float, float | None]]:
    """Rows (label, seconds, ratio to cp) for one large file."""
    rows: list[tuple[str, float, float | None]] = []
    out = work / "cp-out"
    cp = timed(
        lambda: subprocess.run(["cp", str(src), str(out)], check=True),
        lambda: out.unlink(),
        reps,
    )
    rows.append(("cp (subprocess)", cp, 1.0))
    digest = hash_file(src)
    key = object_key_for(digest.sha256, ".bin")
    for durable in (False, True):
        store = LocalStore(work / f"store-{durable}", durable=durable)
        t = timed(
            lambda store=store: store.put_file(src, key),
            lambda store=store: store.delete(key),
            reps,
        )
        rows.append((f"put + SHA-256, durable={durable}", t, t / cp))
    store = LocalStore(work / "store-known", durable=False)
    t = timed(lambda: store.put_file(src, key, digest=digest), lambda: store.delete(key), reps)
    rows.append(("put, digest known, durable=False", t, t / cp))
    t = timed(lambda: hash_file(src), lambda: None, reps)
    rows.append(("SHA-256 only (hash_file)", t, t / cp))
    store = LocalStore(work / "store-reput", durable=True)
    store.put_file(src, key)
    t = timed(lambda: store.put_file(src, key), lambda: None, reps)
    rows.append(("re-put identical (hashes source)", t, t / cp))
    t = timed(lambda: store.put_file(src, key, digest=digest), lambda: None, reps)
    rows.append(("re-put identical, digest known", t, t / cp))
    for d in work.glob("store-*"):
        shutil.rmtree(d)
    return rows


def bench_small(work: Path, count: int, size: int) -> list[tuple[str, float]]:
    """Rows (label, ms per file) for many small files."""
    folder = work / "small"
    folder.mkdir()
    files = []
    for i in range(count):
        path = folder / f"f{i:05d}.bin"
        path.write_bytes(os.urandom(size))
        files.append(path)
    rows = []
    for durable in (False, True):
        store = LocalStore(work / f"small-store-{durable}", durable=durable)
        keys = [f"objects/{i:05d}.bin" for i in range(count)]
        os.sync()
        start = time.perf_counter()
        for path, key in zip(files, keys, strict=True):
            store.put_file(path, key)
        per_file = (time.perf_counter() - start) / count * 1000
        rows.append((f"put {size} B file, durable={durable}", per_file))
        start = time.perf_counter()
        for path, key in zip(files, keys, strict=True):
            store.put_file(path, key)
        rows.append(
            (
                f"re-put identical {size} B, durable={durable}",
                (time.perf_counter() - start) / count * 1000,
            )
        )
        shutil.rmtree(work / f"small-store-{durable}")
    out = work / "copy-out"
    out.mkdir()
    os.sync()
    start = time.perf_counter()
    for path in files:
        shutil.copyfile(path, out / path.name)
    rows.append(
        (
            f"shutil.copyfile {size} B (no hash, no fsync)",
            (time.perf_counter() - start) / count * 1000,
        )
    )
    for durable in (False, True):
        store = LocalStore(work / f"folder-store-{durable}", durable=durable)
        os.sync()
        start = time.perf_counter()
        store.put_folder(folder, "objects/folder")
        rows.append(
            (f"put_folder of them, durable={durable}", (time.perf_counter() - start) / count * 1000)
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="work folder (default: a temp folder)"
    )
    parser.add_argument("--large-mib", type=int, default=1024, help="size of the large file")
    parser.add_argument("--medium-mib", type=int, default=100, help="size of the medium file")
    parser.add_argument("--reps", type=int, default=3, help="runs per timing (median)")
    parser.add_argument("--small-count", type=int, default=1000)
    parser.add_argument("--small-size", type=int, default=1024)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="lineage-storage-bench-", dir=args.dir))
    try:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"work folder: {base}")
        print(f"{os.cpu_count()} CPUs, load average {load}, Python {sys.version.split()[0]}")
        for mib, reps in ((args.medium_mib, max(args.reps, 5)), (args.large_mib, args.reps)):
            if mib <= 0:
                continue
            work = base / f"large-{mib}"
            work.mkdir()
            src = make_file(work / "src.bin", mib * MiB)
            print(f"\n{mib} MiB file, median of {reps} runs")
            print(f"  {'operation':40} {'seconds':>8} {'GB/s':>6} {'x cp':>6}")
            for label, seconds, ratio in bench_large(work, src, reps):
                rate = mib * MiB / seconds / 1e9
                print(f"  {label:40} {seconds:8.3f} {rate:6.2f} {ratio:6.2f}")
            shutil.rmtree(work)
        if args.small_count > 0:
            print(f"\n{args.small_count} files of {args.small_size} B")
            print(f"  {'operation':40} {'ms/file':>8}")
            for label, ms in bench_small(base, args.small_count, args.small_size):
                print(f"  {label:40} {ms:8.3f}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
