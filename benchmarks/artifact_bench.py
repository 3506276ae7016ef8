"""Artifact save throughput against ``cp``, on an embedded (SQLite) instance.

Measures, in a fresh instance under a temporary folder:

- one 1 KiB file, constructed and saved with its own ``save()`` (median of
  many), split into construction (hash + lookup) and save;
- a large file (default 1 GiB; ``--big-mib``) saved, against ``cp`` of the
  same file into the same filesystem (warm page cache for both), and the
  time to re-save identical content;
- 1,000 small files saved one by one, then 1,000 others with one
  ``ln.save([...])``, then the same 1,000 again.

Run: ``python benchmarks/artifact_bench.py [--big-mib 1024] [--small 1000] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _write_random(path: Path, size: int) -> None:
    with open(path, "wb") as f:
        remaining = size
        while remaining:
            n = min(remaining, 16 << 20)
            f.write(os.urandom(n))
            remaining -= n


def _warm(path: Path) -> None:
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def _cp(src: Path, dest: Path) -> float:
    dest.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run(["cp", str(src), str(dest)], check=True)
    return time.perf_counter() - t0


def _cp_sync(src: Path, dest: Path) -> float:
    """``cp`` plus ``sync FILE``: the copy made durable, as a save does."""
    dest.unlink(missing_ok=True)
    os.sync()
    t0 = time.perf_counter()
    subprocess.run(["cp", str(src), str(dest)], check=True)
    subprocess.run(["sync", str(dest)], check=True)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--single", type=int, default=300, help="1 KiB single saves to time")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp dir)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lineage-artifact-bench-", dir=args.dir))
    os.environ["LINEAGE_CONFIG_DIR"] = str(work / "config")
    warnings.simplefilter("ignore")
    import lineage as ln

    results: dict[str, object] = {}
    try:
        ln.init(storage=work / "instance")
        files = work / "files"
        files.mkdir()
        # warm-up: imports, user row, storage row, store folders
        warm = files / "warm.txt"
        warm.write_bytes(b"warm")
        ln.Artifact(warm, key="warm.txt").save()

        # --- single 1 KiB saves -------------------------------------------------------
        singles = []
        for i in range(args.single):
            p = files / f"one{i}.bin"
            p.write_bytes(os.urandom(1024))
            singles.append(p)
        os.sync()  # no dirty pages of the setup in the timed fsyncs
        construct, save, total = [], [], []
        for i, p in enumerate(singles):
            t0 = time.perf_counter()
            a = ln.Artifact(p, key=f"single/{i}.bin")
            t1 = time.perf_counter()
            a.save()
            t2 = time.perf_counter()
            construct.append(t1 - t0)
            save.append(t2 - t1)
            total.append(t2 - t0)
        results["single_1k_ms_median"] = statistics.median(total) * 1e3
        results["single_1k_construct_ms_median"] = statistics.median(construct) * 1e3
        results["single_1k_save_ms_median"] = statistics.median(save) * 1e3
        results["single_1k_ms_p90"] = sorted(total)[int(len(total) * 0.9)] * 1e3
        t0 = time.perf_counter()
        for i, p in enumerate(singles[:100]):
            ln.Artifact(p, key=f"single/{i}.bin").save()
        results["single_1k_resave_ms_mean"] = (time.perf_counter() - t0) / 100 * 1e3

        # --- small files: individually, in bulk, again ------------------------------
        each, bulk = [], []
        for i in range(args.small):
            p = files / f"each{i}.txt"
            p.write_bytes(os.urandom(1024))
            each.append(p)
            q = files / f"bulk{i}.txt"
            q.write_bytes(os.urandom(1024))
            bulk.append(q)
        os.sync()
        t0 = time.perf_counter()
        for i, p in enumerate(each):
            ln.Artifact(p, key=f"each/{i}.txt").save()
        results["small_each_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        ln.save([ln.Artifact(p, key=f"bulk/{i}.txt") for i, p in enumerate(bulk)])
        results["small_bulk_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        ln.save([ln.Artifact(p, key=f"bulk/{i}.txt") for i, p in enumerate(bulk)])
        results["small_bulk_again_s"] = time.perf_counter() - t0
        results["n_small"] = args.small

        # --- one large file vs cp -------------------------------------------------------
        big = files / "big.bin"
        size = args.big_mib << 20
        _write_random(big, size)
        os.sync()
        _warm(big)
        cp_times = [_cp(big, files / "big.copy") for _ in range(3)]
        cp_sync = min(_cp_sync(big, files / "big.copy") for _ in range(2))
        (files / "big.copy").unlink()
        os.sync()
        t0 = time.perf_counter()
        artifact = ln.Artifact(big, key="big/file.bin")
        t1 = time.perf_counter()
        artifact.save()
        t2 = time.perf_counter()
        t3 = time.perf_counter()
        again = ln.Artifact(big, key="big/file.bin").save()
        t4 = time.perf_counter()
        assert again.id == artifact.id
        from lineage.storage.hashing import hash_file

        t5 = time.perf_counter()
        hash_file(big)
        t6 = time.perf_counter()
        cp_best = min(cp_times)
        results.update({
            "big_mib": args.big_mib,
            "cp_s": cp_best,
            "cp_sync_s": cp_sync,
            "big_vs_cp_sync": (t2 - t0) / cp_sync,
            "big_save_total_s": t2 - t0,
            "big_construct_hash_s": t1 - t0,
            "big_save_copy_s": t2 - t1,
            "big_vs_cp": (t2 - t0) / cp_best,
            "big_resave_identical_s": t4 - t3,
            "sha256_only_s": t6 - t5,
            "sha256_gb_per_s": size / (t6 - t5) / 1e9,
        })
    finally:
        from lineage.instance import close

        close()
        shutil.rmtree(work, ignore_errors=True)
    for name, value in results.items():
        print(f"{name:32s} {value:.4g}" if isinstance(value, float) else f"{name:32s} {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
